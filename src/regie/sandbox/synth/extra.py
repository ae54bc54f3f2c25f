"""More services for the synthetic patients: 50 GGZ, 61 Langdurige zorg (BgLZ), the
medication services 901 (MP 9.0.7, STU3) and 902 (MP9 3.0, R4), 904 self-measurements,
906 questionnaires.

Each function takes the person's generator (``fhir._Gen``: person, provider, today, a
seeded ``rng``, stable ids) and yields FHIR resources shaped after the Nictiz profiles of
the information standard. Everything is deterministic from the seed, the BSN, the
provider and *today*; nothing is generated before a PGO asks for the service.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .fhir import _Gen

NL = "http://fhir.nl/fhir/StructureDefinition/"
NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
GPK = "urn:oid:2.16.840.1.113883.2.4.4.1"
IDSYS = "urn:oid:2.16.840.1.113883.2.4.3.11.999.7.6"
OBS_CAT = "http://hl7.org/fhir/observation-category"
MBH_SYS = "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.1.1"
ROUTE = "urn:oid:2.16.840.1.113883.2.4.4.9"
# Medication category codes (SNOMED) as the MP 9 standards use them.
CAT_AGREEMENT_907 = ("16076005", "Medicatieafspraak")
CAT_AGREEMENT_MP9 = ("33633005", "voorschrijven van geneesmiddel")
CAT_ADMIN_AGREEMENT = ("422037009", "Toedieningsafspraak")
CAT_DISPENSE = ("373784005", "Medicatieverstrekking")
CAT_DISPENSE_REQUEST = ("52711000146108", "Verstrekkingsverzoek")
CAT_USE_MP9 = ("422979000", "medicatiegebruik")
CAT_ADMINISTRATION = ("18629005", "toediening van medicatie")
CAT_USE_907 = ("urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3", "6", "Medicatiegebruik")
CONSENT_TREATMENT = ("11291000146105", "Behandelaanwijzing")
CONSENT_ADVANCE = ("11341000146107", "Wilsverklaring")


def _ref(rtype: str, rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{rtype}/{rid}"}
    if display:
        out["display"] = display
    return out


def _cc(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _dt(d: date, hour: int = 9, minute: int = 0) -> str:
    return f"{d.isoformat()}T{hour:02d}:{minute:02d}:00+01:00"


def _qty(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


# --- people around the patient ----------------------------------------------------------


def _professional(g: _Gen, key: str, name: str, org_name: str, specialty: tuple[str, str],
                  org_type: tuple[str, str, str]) -> tuple[list[dict[str, Any]], str, str, str]:
    """A Practitioner, Organization and PractitionerRole (STU3 nl-core)."""
    prac, org, role = f"prac-{key}", f"org-{key}", f"role-{key}"
    family = name.split(" ")[-1]
    resources = [
        {"resourceType": "Practitioner", "id": prac,
         "meta": {"profile": [NL + "nl-core-practitioner"]},
         "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers",
                         "value": f"{zlib.crc32(f'{g.p.key}:{key}'.encode()) % 10**9:09d}"}],
         "name": [{"text": name, "family": family}]},
        {"resourceType": "Organization", "id": org,
         "meta": {"profile": [NL + "nl-core-organization"]},
         "type": [_cc(*org_type)], "name": org_name},
        {"resourceType": "PractitionerRole", "id": role,
         "meta": {"profile": [NL + "nl-core-practitionerrole"]},
         "practitioner": _ref("Practitioner", prac, name),
         "organization": _ref("Organization", org, org_name),
         "specialty": [_cc("urn:oid:2.16.840.1.113883.2.4.6.7", *specialty)]},
    ]
    return resources, prac, org, role


def _consents(g: _Gen) -> Iterator[dict[str, Any]]:
    """Treatment directives (behandelaanwijzingen) and advance directives."""
    rng = g.rng
    choices = (
        (CONSENT_TREATMENT, "zib-TreatmentDirective", "Niet reanimeren",
         "Geen reanimatie bij een hartstilstand."),
        (CONSENT_TREATMENT, "zib-TreatmentDirective", "Geen beademing",
         "Geen kunstmatige beademing."),
        (CONSENT_ADVANCE, "zib-AdvanceDirective", "Wilsverklaring",
         "Schriftelijke wilsverklaring, in bewaring bij de huisarts."),
    )
    # One treatment directive, and an advance directive for most people.
    picked = [rng.choice(choices[:2])] + ([choices[2]] if rng.random() < 0.8 else [])
    for i, ((code, label), profile, title, text) in enumerate(picked):
        start = g.day(g.years * 365, 60)
        consent: dict[str, Any] = {
            "resourceType": "Consent", "id": f"consent-{i}",
            "meta": {"profile": [NICTIZ + profile]},
            "extension": [{"url": NICTIZ + "Comment", "valueString": text}],
            "status": "active",
            "category": [_cc(SCT, code, label)],
            "patient": _ref("Patient", g.pid, g.p.full_name),
            "dateTime": _dt(start, 11),
            "policy": [{"uri": "http://wetten.overheid.nl/"}],
        }
        if code == CONSENT_TREATMENT[0]:
            consent["period"] = {"start": start.isoformat()}
            consent["except"] = [{"type": "deny",
                                  "code": [{"system": SCT, "code": "89666000",
                                            "display": title}]}]
        yield consent


def _lifestyle(g: _Gen) -> Iterator[dict[str, Any]]:
    """Drug, alcohol and tobacco use, living situation (zib lifestyle observations)."""
    rng = g.rng
    d = g.day(365, 20)
    items = (
        ("drug", "228366006", "Drugsgebruik", "zib-DrugUse",
         rng.choice(("Geen drugsgebruik", "Cannabis, af en toe"))),
        ("alcohol", "228273003", "Alcoholgebruik", "zib-AlcoholUse",
         rng.choice(("Drinkt geen alcohol", "Drinkt 1-2 glazen per week",
                     "Drinkt 2 glazen per dag"))),
        ("tobacco", "365980008", "Tabakgebruik", "zib-TobaccoUse",
         rng.choice(("Rookt niet", "Rookt 10 sigaretten per dag", "Gestopt met roken"))),
        ("living", "365508006", "Woonsituatie", "zib-LivingSituation",
         rng.choice(("Eengezinswoning", "Appartement", "Woonzorgcentrum"))),
    )
    for key, code, name, profile, text in items:
        yield {
            "resourceType": "Observation", "id": f"{key}-0",
            "meta": {"profile": [NICTIZ + profile]},
            "status": "final",
            "code": _cc(SCT, code, name),
            "subject": _ref("Patient", g.pid, g.p.full_name),
            "effectiveDateTime": d.isoformat(),
            "valueCodeableConcept": {"text": text},
        }


def _care_team(g: _Gen, members: list[tuple[str, str, str, str, str]]) -> dict[str, Any]:
    """members: (role code, role name, practitioner id, name, organization id)."""
    return {
        "resourceType": "CareTeam", "id": "careteam-0",
        "meta": {"profile": [NL + "nl-core-careteam"]},
        "identifier": [{"system": IDSYS, "value": f"{g.p.bsn}-careteam"}],
        "status": "active",
        "subject": _ref("Patient", g.pid, g.p.full_name),
        "participant": [
            {"role": _cc("http://hl7.org/fhir/v3/ParticipationType", code, label),
             "member": _ref("Practitioner", prac, name),
             "onBehalfOf": _ref("Organization", org)}
            for code, label, prac, name, org in members
        ],
    }


# --- 50 GGZ (STU3) ---------------------------------------------------------------------------

_HONOS_ITEMS = (
    ("281115007", "overactief, agressief, storend of opgewonden gedrag"),
    ("281116008", "zelfbeschadiging zonder suïcidale opzet"),
    ("281117004", "problemen met alcohol- of drugsgebruik"),
    ("281118009", "cognitieve problemen"),
    ("281119001", "lichamelijke problemen"),
    ("281120007", "hallucinaties en wanen"),
    ("281121006", "depressieve stemming"),
    ("281122004", "andere psychische problemen"),
    ("281123009", "problemen met relaties"),
    ("281124003", "problemen met dagelijkse activiteiten"),
    ("281125002", "problemen met woonsituatie"),
    ("281126001", "problemen met werk en vrije tijd"),
)


def ggz(g: _Gen) -> Iterator[dict[str, Any]]:
    rng, p = g.rng, g.p
    yield g.patient()
    yield from g.care_team()
    team, psy, psy_org, psy_role = _professional(
        g, f"psy-{g.provider}", rng.choice(("drs. M. de Wit", "drs. K. Bos", "dr. L. Hendriks")),
        "GGZ De Kust" if g.provider == "ggzdekust" else "GGZ-instelling",
        ("0301", "GZ-psychologen"), ("urn:oid:2.16.840.1.113883.2.4.15.1060", "G6", "GGZ"))
    yield from team
    insurer = "org-insurer"
    yield {"resourceType": "Organization", "id": insurer,
           "meta": {"profile": [NL + "nl-core-organization"]},
           "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/uzovi",
                           "value": rng.choice(("3311", "7029", "3358"))}],
           "type": [_cc("http://hl7.org/fhir/organization-type", "ins", "Insurance Company")],
           "name": rng.choice(("Zorgverzekeraar Noord", "Zorgverzekeraar West"))}
    yield {"resourceType": "Coverage", "id": "coverage-0",
           "meta": {"profile": [NICTIZ + "zib-Payer"]},
           "status": "active",
           "type": _cc("http://hl7.org/fhir/v3/ActCode", "PUBLICPOL", "Publieke polis"),
           "subscriberId": f"{int(p.bsn) % 10**9:09d}",
           "beneficiary": _ref("Patient", g.pid, p.full_name),
           "period": {"start": f"{g.today.year}-01-01"},
           "payor": [_ref("Organization", insurer)]}
    yield from _consents(g)
    start = g.day(min(g.years, 3) * 365, 120)
    diagnosis = rng.choice((("35489007", "Depressieve stoornis"),
                            ("197480006", "Angststoornis"),
                            ("47505003", "Posttraumatische stressstoornis")))
    yield {"resourceType": "Condition", "id": "ggz-cond-0",
           "meta": {"profile": [NICTIZ + "zib-Problem"]},
           "clinicalStatus": "active", "verificationStatus": "confirmed",
           "category": [_cc(SCT, "282291009", "Diagnose")],
           "code": _cc(SCT, *diagnosis),
           "subject": _ref("Patient", g.pid, p.full_name),
           "onsetDateTime": start.isoformat(), "assertedDate": start.isoformat()}
    yield from _lifestyle(g)
    for i, (code, name) in enumerate((("118228005", "Functionele status"),
                                      ("384821006", "Mentale status"))):
        yield {"resourceType": "Observation", "id": f"status-{i}",
               "meta": {"profile": [NICTIZ + "zib-FunctionalOrMentalStatus"]},
               "status": "final",
               "category": [_cc(SCT, code, name)],
               "code": _cc(SCT, rng.choice(("285854004", "366979004")),
                           rng.choice(("Stemming", "Concentratie"))),
               "subject": _ref("Patient", g.pid, p.full_name),
               "effectiveDateTime": g.day(200, 10).isoformat(),
               "valueCodeableConcept": {"text": rng.choice(("Licht beperkt", "Matig beperkt",
                                                            "Niet beperkt"))}}
    yield {"resourceType": "Observation", "id": "help-0",
           "meta": {"profile": [NICTIZ + "zib-HelpFromOthers"]},
           "status": "final", "code": _cc(SCT, "314845004", "Hulp van anderen"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "effectiveDateTime": g.day(300, 30).isoformat(),
           "valueString": rng.choice(("Mantelzorg door partner", "Geen hulp van anderen"))}
    yield {"resourceType": "Observation", "id": "participation-0",
           "meta": {"profile": [NICTIZ + "zib-ParticipationInSociety"]},
           "status": "final", "code": _cc(SCT, "365470003", "Maatschappelijke participatie"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "effectiveDateTime": g.day(300, 30).isoformat(),
           "valueString": rng.choice(("Werkt 24 uur per week", "Vrijwilligerswerk",
                                      "Studeert"))}
    # HoNOS: a panel with twelve items, measured a few times during treatment.
    for m in range(1 + min(3, (g.today - start).days // 90)):
        d = start + timedelta(days=90 * m + 7)
        items = []
        for k, (code, name) in enumerate(_HONOS_ITEMS):
            iid = f"honos-{m}-{k + 1}"
            items.append(iid)
            yield {"resourceType": "Observation", "id": iid,
                   "meta": {"profile": [NICTIZ + "zib-GeneralMeasurement"]},
                   "status": "final", "category": [_cc(OBS_CAT, "survey", "survey")],
                   "code": _cc(SCT, code, f"HoNOS item {k + 1} - {name}"),
                   "subject": _ref("Patient", g.pid, p.full_name),
                   "effectiveDateTime": d.isoformat(),
                   "valueQuantity": {"value": max(0, min(4, rng.randint(0, 4) - m)),
                                     "system": UCUM, "code": "{score}"}}
        yield {"resourceType": "Observation", "id": f"honos-{m}",
               "meta": {"profile": [NICTIZ + "zib-GeneralMeasurement"]},
               "status": "final", "category": [_cc(OBS_CAT, "survey", "survey")],
               "code": _cc(SCT, "273513009", "Health of the Nation Outcome Scale"),
               "subject": _ref("Patient", g.pid, p.full_name),
               "effectiveDateTime": d.isoformat(),
               "related": [{"type": "has-member", "target": _ref("Observation", i)}
                           for i in items]}
    yield {"resourceType": "CarePlan", "id": "careplan-support-0",
           "meta": {"profile": [NICTIZ + "zib-NursingIntervention"]},
           "status": "active", "intent": "plan",
           "category": [_cc(SCT, "243114000", "Ondersteuning")],
           "title": "Begeleiding bij dagstructuur",
           "subject": _ref("Patient", g.pid, p.full_name),
           "period": {"start": start.isoformat()}}
    yield from g.labs(profile="zib-LaboratoryTestResult-Observation", with_nhg=False)
    yield {"resourceType": "Procedure", "id": "ggz-proc-0",
           "meta": {"profile": [NICTIZ + "zib-Procedure"]},
           "status": "completed",
           "category": _cc(SCT, "410223002", "Evaluatie van geestelijke gezondheidszorg"),
           "code": _cc(SCT, "84100007", "Afnemen van anamnese"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "performedPeriod": {"start": start.isoformat(), "end": start.isoformat()},
           "performer": [{"actor": _ref("Practitioner", psy)}]}
    yield {"resourceType": "DiagnosticReport", "id": "ggz-report-0",
           "meta": {"profile": [NICTIZ + "zib-TextResult"]},
           "status": "final",
           "code": _cc(SCT, "71388002", "verrichting"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "effectiveDateTime": start.isoformat(),
           "issued": _dt(start, 16),
           "performer": [{"actor": _ref("Practitioner", psy)}],
           "conclusion": f"Intake: klachten passend bij {diagnosis[1].lower()}. "
                         "Behandeling met gesprekken afgesproken."}
    yield _care_team(g, [
        ("REF", "Verwijzer", g.prac, p.gp_name, g.org),
        ("ATND", "Behandelaar", psy, "Regiebehandelaar", psy_org),
    ])
    _ = psy_role


# --- 61 Langdurige zorg / BgLZ (STU3) ----------------------------------------------------


def bglz(g: _Gen) -> Iterator[dict[str, Any]]:
    rng, p = g.rng, g.p
    yield g.patient()
    yield from g.care_team()
    team, nurse, nurse_org, _ = _professional(
        g, f"vpk-{g.provider}", rng.choice(("J. Mulder", "S. Verbeek", "A. Koster")),
        "Zorgcentrum De Linde" if g.provider == "zorgcentrumdelinde" else "Zorgcentrum",
        ("0400", "Verpleegkundigen"),
        ("urn:oid:2.16.840.1.113883.2.4.15.1060", "X3", "Verpleeg-, verzorgingshuis"))
    yield from team
    yield from _consents(g)
    for i, (code, name) in enumerate(rng.sample((
            ("52448006", "Dementie"), ("230690007", "Beroerte"), ("69896004", "Reumatoïde artritis"),
            ("13645005", "COPD"), ("84757009", "Epilepsie"), ("73211009", "Diabetes mellitus")),
            k=rng.randint(2, 3))):
        onset = g.day(g.years * 365, 100)
        yield {"resourceType": "Condition", "id": f"lz-cond-{i}",
               "meta": {"profile": [NICTIZ + "zib-Problem"]},
               "clinicalStatus": "active", "verificationStatus": "confirmed",
               "category": [_cc(SCT, "282291009", "Diagnose")],
               "code": _cc(SCT, code, name),
               "subject": _ref("Patient", g.pid, p.full_name),
               "onsetDateTime": onset.isoformat()}
    yield from g.allergies()
    yield from g.labs(profile="zib-LaboratoryTestResult-Observation", with_nhg=False)
    yield {"resourceType": "Procedure", "id": "lz-proc-0",
           "meta": {"profile": [NICTIZ + "zib-Procedure"]},
           "status": "completed",
           "code": _cc(SCT, "225358003", "Wondverzorging"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "performedPeriod": {"start": g.day(60, 30).isoformat()},
           "performer": [{"actor": _ref("Practitioner", nurse)}]}
    device_kind = rng.choice((("58938008", "Rolstoel"), ("705417005", "Rollator"),
                              ("360006004", "Hoortoestel")))
    yield {"resourceType": "Device", "id": "device-0",
           "meta": {"profile": [NICTIZ + "zib-MedicalDevice-Product"]},
           "type": _cc(SCT, *device_kind)}
    yield {"resourceType": "DeviceUseStatement", "id": "deviceuse-0",
           "meta": {"profile": [NICTIZ + "zib-MedicalDevice"]},
           "status": "active",
           "subject": _ref("Patient", g.pid, p.full_name),
           "whenUsed": {"start": g.day(g.years * 365, 200).isoformat()},
           "device": _ref("Device", "device-0", device_kind[1])}
    goals = [("goal-0", "Zelfstandig wassen en aankleden"),
             ("goal-1", "Valrisico verkleinen")]
    for gid, text in goals:
        yield {"resourceType": "Goal", "id": gid,
               "meta": {"profile": [NICTIZ + "zib-TreatmentObjective"]},
               "status": "in-progress",
               "description": {"text": text},
               "subject": _ref("Patient", g.pid, p.full_name),
               "startDate": g.day(300, 60).isoformat()}
    yield {"resourceType": "Observation", "id": "lz-outcome-0",
           "meta": {"profile": [NICTIZ + "zib-FunctionalOrMentalStatus"]},
           "status": "final",
           "category": [_cc(SCT, "118228005", "Functionele status")],
           "code": _cc(SCT, "284545001", "Vermogen om zichzelf aan te kleden"),
           "subject": _ref("Patient", g.pid, p.full_name),
           "effectiveDateTime": g.day(30, 2).isoformat(),
           "valueCodeableConcept": {"text": "Met hulp"}}
    yield {"resourceType": "CarePlan", "id": "lz-careplan-0",
           "meta": {"profile": [NL + "nl-core-careplan"]},
           "status": "active", "intent": "plan",
           "title": "Zorgleefplan",
           "subject": _ref("Patient", g.pid, p.full_name),
           "period": {"start": g.day(365, 60).isoformat()},
           "activity": [
               {"outcomeReference": [_ref("Observation", "lz-outcome-0")],
                "detail": {"status": "in-progress", "goal": [_ref("Goal", "goal-0")],
                           "description": "Dagelijks helpen bij wassen en aankleden"}},
               {"detail": {"status": "in-progress", "goal": [_ref("Goal", "goal-1")],
                           "description": "Lopen met hulpmiddel",
                           "extension": [{"url": NICTIZ + "careplan-activity-medicaldevice",
                                          "valueReference": _ref("DeviceUseStatement",
                                                                 "deviceuse-0")}]}},
           ]}
    yield _care_team(g, [
        ("PPRF", "Huisarts", g.prac, p.gp_name, g.org),
        ("ATND", "Eerst verantwoordelijk verzorgende", nurse, "Verzorgende", nurse_org),
    ])


# --- 904 self-measurements (STU3) ----------------------------------------------------------


def self_measurements(g: _Gen) -> Iterator[dict[str, Any]]:
    """Blood pressure (systolic/diastolic components), weight, glucose and heart rate,
    measured by the person at home over the last months."""
    rng, p = g.rng, g.p
    yield g.patient()
    per_week = {"small": 1, "normal": 3, "large": 14}.get(p.size, 3)
    weeks = {"small": 8, "normal": 26, "large": 104}.get(p.size, 26)
    base_sys, base_dia = rng.randint(120, 150), rng.randint(75, 95)
    weight = round(rng.uniform(58, 102), 1)
    diabetic = rng.random() < 0.5
    me = _ref("Patient", g.pid, p.full_name)
    for n in range(weeks * per_week):
        d = g.today - timedelta(days=int(n * 7 / per_week) + 1)
        hour = rng.choice((7, 8, 19, 21))
        vital = _cc(OBS_CAT, "vital-signs", "Vital Signs")
        yield {"resourceType": "Observation", "id": f"sm-bp-{n}",
               "meta": {"profile": [NICTIZ + "zib-BloodPressure"]},
               "identifier": [{"system": IDSYS, "value": f"{p.bsn}-sm-bp-{n}"}],
               "status": "final", "category": [vital],
               "code": _cc(LOINC, "85354-9", "Blood pressure panel with all children optional"),
               "subject": me, "effectiveDateTime": _dt(d, hour, 30), "performer": [me],
               "bodySite": _cc(SCT, "368208006", "Linker bovenarm"),
               "method": _cc(SCT, "22762002", "Niet-invasief"),
               "component": [
                   {"code": _cc(LOINC, "8480-6", "Systolische bloeddruk"),
                    "valueQuantity": _qty(base_sys + rng.randint(-12, 12), "mmHg", "mm[Hg]")},
                   {"code": _cc(LOINC, "8462-4", "Diastolische bloeddruk"),
                    "valueQuantity": _qty(base_dia + rng.randint(-8, 8), "mmHg", "mm[Hg]")},
               ]}
        yield {"resourceType": "Observation", "id": f"sm-hr-{n}",
               "meta": {"profile": [NICTIZ + "zib-HeartRate"]},
               "status": "final", "category": [vital],
               "code": _cc(LOINC, "8867-4", "Heart rate"),
               "subject": me, "effectiveDateTime": _dt(d, hour, 30), "performer": [me],
               "valueQuantity": _qty(rng.randint(56, 92), "/min")}
        if n % per_week == 0:
            weight = round(weight + rng.uniform(-0.6, 0.5), 1)
            yield {"resourceType": "Observation", "id": f"sm-weight-{n}",
                   "meta": {"profile": [NICTIZ + "zib-BodyWeight"]},
                   "status": "final", "category": [vital],
                   "code": _cc(LOINC, "29463-7", "Body weight"),
                   "subject": me, "effectiveDateTime": _dt(d, 7, 15), "performer": [me],
                   "valueQuantity": _qty(weight, "kg")}
        if diabetic or n % (4 * per_week) == 0:  # others check now and then
            fasting = n % 2 == 0 or not diabetic
            code, name = (("14770-2", "Glucose nuchter in capillair bloed (glucosemeter)")
                          if fasting else
                          ("14743-9", "Glucose in capillair bloed (glucosemeter)"))
            glucose: dict[str, Any] = {
                "resourceType": "Observation", "id": f"sm-glucose-{n}",
                "meta": {"profile": [NICTIZ + "vitalsign-bloodglucose"]},
                "status": "final",
                "category": [_cc(SCT, "49581000146104",
                                 "bevinding betreffende laboratoriumonderzoek")],
                "code": _cc(LOINC, code, name),
                "subject": me, "effectiveDateTime": _dt(d, 7 if fasting else 13),
                "performer": [me],
                "valueQuantity": _qty(round(rng.uniform(5.0, 8.5) if fasting
                                            else rng.uniform(6.0, 12.0), 1),
                                      "mmol/l", "mmol/L")}
            if fasting:
                glucose["extension"] = [{
                    "url": "http://hl7.org/fhir/StructureDefinition/observation-eventTiming",
                    "valueCodeableConcept": _cc("http://hl7.org/fhir/v3/TimingEvent", "ACM",
                                                "voor het ontbijt")}]
            yield glucose


# --- 906 questionnaires (STU3): regie.sandbox.synth.questionnaires ---------------------------


def questionnaires(g: _Gen) -> Iterator[dict[str, Any]]:
    from .questionnaires import questionnaires as forms

    yield from forms(g)


# --- medication: 901 (MP 9.0.7, STU3) and 902 (MP9 3.0, R4) -------------------------------


def _med_plan(g: _Gen) -> list[tuple[int, str, str, str, str, date, date | None]]:
    """(index, GPK, ATC, name, dose, start, end) of this person's medication."""
    from .fhir import _MEDS

    rng = g.rng
    picked = rng.sample(_MEDS, k=min(len(_MEDS), rng.randint(2, 4)))
    plan = []
    for i, (gpk, atc, name, dose, chronic) in enumerate(picked):
        if chronic:
            start = g.today - timedelta(days=rng.randint(90, 900))
            end = None
        else:
            start = g.day(200, 5)
            end = start + timedelta(days=rng.randint(5, 30))
        plan.append((i, gpk, atc, name, dose, start, end))
    return plan


def _dispense_request(g: _Gen, rid: str, mid: str, name: str, mbh: dict[str, Any],
                      profile: str, start: date, *, stu3: bool) -> dict[str, Any]:
    """A verstrekkingsverzoek: the prescriber asks the pharmacy to hand out 90 days."""
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": rid,
        "meta": {"profile": [NICTIZ + profile]},
        "extension": [mbh],
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.52711000146108.1",
                        "value": f"{g.p.bsn}-{rid}"}],
        "status": "active", "intent": "order",
        "category": _cc(SCT, *CAT_DISPENSE_REQUEST),
        "medicationReference": _ref("Medication", mid, name),
        "subject": _ref("Patient", g.pid, g.p.full_name),
        "authoredOn": start.isoformat(),
        "dispenseRequest": {
            "validityPeriod": {"start": start.isoformat()},
            "numberOfRepeatsAllowed": 3,
            "quantity": _qty(90, "stuk", "1"),
        },
    }
    if stu3:
        res["requester"] = {"agent": _ref("Practitioner", g.prac, g.p.gp_name)}
    else:
        res["category"] = [res["category"]]
        res["requester"] = _ref("PractitionerRole", g.role, g.p.gp_name)
    return res


def medication_907(g: _Gen) -> Iterator[dict[str, Any]]:
    """MP 9.0.7: medication agreements, administration agreements, dispenses, use."""
    p = g.p
    yield g.patient()
    yield from g.care_team()
    pharmacy = "org-pharmacy"
    yield {"resourceType": "Organization", "id": pharmacy,
           "meta": {"profile": [NL + "nl-core-organization"]},
           "type": [_cc("urn:oid:2.16.840.1.113883.2.4.15.1060", "J8", "Openbare apotheek")],
           "name": "Apotheek De Molen"}
    for i, gpk, atc, name, dose, start, end in _med_plan(g):
        mid = f"med-{gpk}"
        mbh = {"url": NICTIZ + "zib-Medication-MedicationTreatment",
               "valueIdentifier": {"system": MBH_SYS, "value": f"{p.bsn}-mbh-{i}"}}
        period = {"url": NICTIZ + "zib-Medication-PeriodOfUse",
                  "valuePeriod": {"start": start.isoformat(),
                                  **({"end": end.isoformat()} if end else {})}}
        yield {"resourceType": "Medication", "id": mid,
               "meta": {"profile": [NICTIZ + "zib-Product"]},
               "code": {"coding": [{"system": GPK, "code": gpk, "display": name},
                                   {"system": ATC, "code": atc}], "text": name}}
        active = end is None or end >= g.today
        yield {"resourceType": "MedicationRequest", "id": f"ma-{i}",
               "meta": {"profile": [NICTIZ + "zib-MedicationAgreement"]},
               "extension": [period, mbh],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.16076005.1",
                               "value": f"{p.bsn}-ma-{i}"}],
               "status": "active" if active else "completed", "intent": "order",
               "category": _cc(SCT, *CAT_AGREEMENT_907),
               "medicationReference": _ref("Medication", mid, name),
               "subject": _ref("Patient", g.pid, p.full_name),
               "authoredOn": start.isoformat(),
               "requester": {"agent": _ref("Practitioner", g.prac, p.gp_name)},
               "dosageInstruction": [{"sequence": 1, "text": dose}]}
        if end is None:
            yield _dispense_request(g, f"vv-{i}", mid, name, mbh, "zib-DispenseRequest",
                                    start, stu3=True)
        yield {"resourceType": "MedicationDispense", "id": f"ta-{i}",
               "meta": {"profile": [NICTIZ + "zib-AdministrationAgreement"]},
               "extension": [period, mbh,
                             {"url": NICTIZ + "zib-AdministrationAgreement-AuthoredOn",
                              "valueDateTime": start.isoformat()}],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.422037009.1",
                               "value": f"{p.bsn}-ta-{i}"}],
               "status": "in-progress" if active else "completed",
               "category": _cc(SCT, *CAT_ADMIN_AGREEMENT),
               "medicationReference": _ref("Medication", mid, name),
               "subject": _ref("Patient", g.pid, p.full_name),
               "performer": [{"actor": _ref("Organization", pharmacy)}],
               "authorizingPrescription": [_ref("MedicationRequest", f"ma-{i}")],
               "dosageInstruction": [{"sequence": 1, "text": dose}]}
        handed = start
        n = 0
        while handed <= (end or g.today) and n < 12:
            yield {"resourceType": "MedicationDispense", "id": f"mve-{i}-{n}",
                   "meta": {"profile": [NICTIZ + "zib-Dispense"]},
                   "extension": [mbh],
                   "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77."
                                             "373784005.1", "value": f"{p.bsn}-mve-{i}-{n}"}],
                   "status": "completed",
                   "category": _cc(SCT, *CAT_DISPENSE),
                   "medicationReference": _ref("Medication", mid, name),
                   "subject": _ref("Patient", g.pid, p.full_name),
                   "performer": [{"actor": _ref("Organization", pharmacy)}],
                   "quantity": _qty(30, "stuk", "1"),
                   "whenHandedOver": _dt(handed, 15),
                   "daysSupply": {"value": 30, "unit": "dag", "system": UCUM, "code": "d"}}
            handed += timedelta(days=90)
            n += 1
        yield {"resourceType": "MedicationStatement", "id": f"mgb-{i}",
               "meta": {"profile": [NICTIZ + "zib-MedicationUse"]},
               "extension": [mbh,
                             {"url": NICTIZ + "zib-MedicationUse-AsAgreedIndicator",
                              "valueBoolean": True}],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.6.1",
                               "value": f"{p.bsn}-mgb-{i}"}],
               "status": "active" if active else "completed",
               "category": _cc(CAT_USE_907[0], CAT_USE_907[1], CAT_USE_907[2]),
               "medicationReference": _ref("Medication", mid, name),
               "effectivePeriod": {"start": start.isoformat(),
                                   **({"end": end.isoformat()} if end else {})},
               "dateAsserted": _dt(g.today - timedelta(days=3), 10),
               "subject": _ref("Patient", g.pid, p.full_name),
               "taken": "y",
               "dosage": [{"sequence": 1, "text": dose}]}


def medication_mp9(g: _Gen) -> Iterator[dict[str, Any]]:
    """MP9 3.0 (R4): agreements, administration agreements, dispenses, use and
    administrations, with the practitioner roles the _include:iterate asks for."""
    p = g.p
    yield g.patient()
    prac, org, role = g.prac, g.org, g.role
    yield {"resourceType": "Practitioner", "id": prac,
           "meta": {"profile": [NICTIZ + "nl-core-HealthProfessional-Practitioner"]},
           "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/agb-z",
                           "value": p.gp_agb}],
           "name": [{"text": p.gp_name, "family": p.gp_name.split(" ", 1)[-1]}]}
    yield {"resourceType": "Organization", "id": org,
           "meta": {"profile": [NICTIZ + "nl-core-HealthcareProvider-Organization"]},
           "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/agb-z",
                           "value": p.practice_agb}],
           "name": p.practice}
    yield {"resourceType": "PractitionerRole", "id": role,
           "meta": {"profile": [NICTIZ + "nl-core-HealthProfessional-PractitionerRole"]},
           "practitioner": _ref("Practitioner", prac, p.gp_name),
           "organization": _ref("Organization", org, p.practice),
           "specialty": [_cc("urn:oid:2.16.840.1.113883.2.4.6.7", "0100", "Huisartsen")]}
    pharmacy = "org-pharmacy"
    yield {"resourceType": "Organization", "id": pharmacy,
           "meta": {"profile": [NICTIZ + "nl-core-HealthcareProvider-Organization"]},
           "type": [_cc("urn:oid:2.16.840.1.113883.2.4.15.1060", "J8", "Openbare apotheek")],
           "name": "Apotheek De Molen"}
    me = _ref("Patient", g.pid, p.full_name)
    for i, gpk, atc, name, dose, start, end in _med_plan(g):
        mid = f"mp9-med-{gpk}"
        mbh = {"url": NICTIZ + "ext-PharmaceuticalTreatment.Identifier",
               "valueIdentifier": {"system": MBH_SYS, "value": f"{p.bsn}-mbh9-{i}"}}
        period = {"url": NICTIZ + "ext-TimeInterval.Period",
                  "valuePeriod": {"start": _dt(start, 9),
                                  **({"end": _dt(end, 23, 59)} if end else {})}}
        rendered = {"url": NICTIZ + "ext-RenderedDosageInstruction", "valueString": dose}
        yield {"resourceType": "Medication", "id": mid,
               "meta": {"profile": [NICTIZ + "mp-PharmaceuticalProduct"]},
               "code": {"coding": [{"system": GPK, "code": gpk, "display": name},
                                   {"system": ATC, "code": atc}], "text": name}}
        dosage = [{"sequence": 1, "text": dose,
                   "route": _cc(ROUTE, "9", "oraal")}]
        yield {"resourceType": "MedicationRequest", "id": f"mp9-ma-{i}",
               "meta": {"profile": [NICTIZ + "mp-MedicationAgreement"]},
               "extension": [{"url": NICTIZ + "ext-RegistrationDateTime",
                              "valueDateTime": _dt(start, 9)}, rendered, period, mbh],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.16076005.1",
                               "value": f"{p.bsn}-mp9-ma-{i}"}],
               "status": "unknown", "intent": "order",
               "category": [_cc(SCT, *CAT_AGREEMENT_MP9)],
               "medicationReference": _ref("Medication", mid, name),
               "subject": me,
               "requester": _ref("PractitionerRole", role, p.gp_name),
               "dosageInstruction": dosage}
        if end is None:
            yield _dispense_request(g, f"mp9-vv-{i}", mid, name, mbh, "mp-DispenseRequest",
                                    start, stu3=False)
        yield {"resourceType": "MedicationDispense", "id": f"mp9-ta-{i}",
               "meta": {"profile": [NICTIZ + "mp-AdministrationAgreement"]},
               "extension": [{"url": NICTIZ + "ext-AdministrationAgreement.AuthoredOn",
                              "valueDateTime": _dt(start, 10)}, rendered, period, mbh],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.422037009.1",
                               "value": f"{p.bsn}-mp9-ta-{i}"}],
               "status": "in-progress",
               "category": _cc(SCT, *CAT_ADMIN_AGREEMENT),
               "medicationReference": _ref("Medication", mid, name),
               "subject": me,
               "performer": [{"actor": _ref("Organization", pharmacy, "Apotheek De Molen")}],
               "authorizingPrescription": [_ref("MedicationRequest", f"mp9-ma-{i}")],
               "dosageInstruction": dosage}
        yield {"resourceType": "MedicationDispense", "id": f"mp9-mve-{i}",
               "meta": {"profile": [NICTIZ + "mp-MedicationDispense"]},
               "extension": [mbh],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.373784005.1",
                               "value": f"{p.bsn}-mp9-mve-{i}"}],
               "status": "completed",
               "category": _cc(SCT, *CAT_DISPENSE),
               "medicationReference": _ref("Medication", mid, name),
               "subject": me,
               "performer": [{"actor": _ref("Organization", pharmacy, "Apotheek De Molen")}],
               "quantity": _qty(30, "stuk", "1"),
               "daysSupply": {"value": 30, "unit": "dag", "system": UCUM, "code": "d"},
               "whenHandedOver": _dt(start, 15),
               "destination": {"display": "Afhalen in de apotheek"}}
        yield {"resourceType": "MedicationStatement", "id": f"mp9-mgb-{i}",
               "meta": {"profile": [NICTIZ + "mp-MedicationUse2"]},
               "extension": [mbh,
                             {"url": NICTIZ + "ext-MedicationUse2.AsAgreedIndicator",
                              "valueBoolean": True}],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.6.1",
                               "value": f"{p.bsn}-mp9-mgb-{i}"}],
               "status": "active" if end is None or end >= g.today else "completed",
               "category": _cc(SCT, *CAT_USE_MP9),
               "medicationReference": _ref("Medication", mid, name),
               "subject": me,
               "effectivePeriod": {"start": _dt(start, 9),
                                   **({"end": _dt(end, 23, 59)} if end else {})},
               "dateAsserted": _dt(g.today - timedelta(days=2), 10),
               "informationSource": me,
               "dosage": dosage}
        given = min(g.today - timedelta(days=1), (end or g.today))
        yield {"resourceType": "MedicationAdministration", "id": f"mp9-mtd-{i}",
               "meta": {"profile": [NICTIZ + "mp-MedicationAdministration2"]},
               "extension": [mbh],
               "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77.18629005.1",
                               "value": f"{p.bsn}-mp9-mtd-{i}"}],
               "status": "completed",
               "category": _cc(SCT, *CAT_ADMINISTRATION),
               "medicationReference": _ref("Medication", mid, name),
               "subject": me,
               "effectiveDateTime": _dt(given, 8),
               "performer": [{"actor": me}],
               "request": _ref("MedicationRequest", f"mp9-ma-{i}"),
               "dosage": {"route": _cc(ROUTE, "9", "oraal"),
                          "dose": _qty(1, "stuk", "1")}}
