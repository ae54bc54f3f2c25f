"""FHIR resources for a synthetic person, shaped like the Nictiz profiles.

``resources_for(person, service_id, provider=..., today=...)`` gives the person's
resources for one service (None for services the generator does not cover). Dates are
relative to *today*, so "the last 14 months" always holds data; with a fixed *today*
the output is byte-for-byte reproducible.

Covered: 49 Huisartsgegevens (STU3), 63 Vaccinaties (R4), 903 Laboratoriumresultaten
(STU3), 51 PDF/A documents (STU3), 48 BgZ (STU3, a subset), 905 eAfspraak (STU3),
907 allergies (STU3); in ``extra``: 50 GGZ, 61 BgLZ, 901 MP 9.0.7 (STU3), 902 MP9 3.0
(R4), 904 self-measurements, 906 questionnaires.
The codes are real code systems (ICPC-1-NL, NHG table 45, LOINC, SNOMED CT, ATC, UCUM);
G-standaard codes are illustrative, not looked up.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .pdf import render_pdf
from .people import Person

__all__ = ["resources_for", "COVERED_SERVICES"]

COVERED_SERVICES = ("48", "49", "50", "51", "61", "63", "901", "902", "903", "904", "905",
                    "906", "907")

NL = "http://fhir.nl/fhir/StructureDefinition/"
NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICPC = "http://hl7.org/fhir/sid/icpc-1-nl"
NHG45 = "https://referentiemodel.nhg.org/tabellen/nhg-tabel-45-diagnostische-bepalingen"
UCUM = "http://unitsofmeasure.org"
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
ATC = "http://www.whocc.no/atc"
GPK = "urn:oid:2.16.840.1.113883.2.4.4.1"
JOURNAL = "http://fhir.nl/fhir/NamingSystem/journaalregeltypen"
IDSYS = "urn:oid:2.16.840.1.113883.2.4.3.11.999.7.6"

# (ICPC, title, chronic, attention flag when closed)
_PROBLEMS = (
    ("K86", "Hypertensie zonder orgaanbeschadiging", True, True),
    ("T90", "Diabetes mellitus type 2", True, True),
    ("R96", "Astma", True, True),
    ("K78", "Boezemfibrilleren/-fladderen", True, True),
    ("P76", "Depressie", False, True),
    ("L03", "Lage rugpijn zonder uitstraling", False, False),
    ("R74", "Acute infectie bovenste luchtwegen", False, False),
    ("D02", "Maagpijn", False, False),
    ("S74", "Dermatomycose", False, False),
    ("L86", "Lage rugpijn met uitstraling", False, False),
    ("N01", "Hoofdpijn", False, False),
    ("A04", "Moeheid/zwakte", False, False),
    ("U71", "Cystitis/urineweginfectie", False, False),
    ("H71", "Otitis media acuta", False, False),
)
# (NHG45 code, LOINC, name, UCUM unit, low, high, mean, sd, decimals)
_LABS = (
    ("382", "718-7", "Hemoglobine", "mmol/L", 7.5, 10.0, 8.6, 0.6, 1),
    ("1549", "2345-7", "Glucose nuchter (veneus)", "mmol/L", 4.0, 6.1, 5.6, 0.9, 1),
    ("2307", "4548-4", "HbA1c (IFCC)", "mmol/mol", 20.0, 42.0, 44.0, 8.0, 0),
    ("362", "2160-0", "Kreatinine", "umol/L", 50.0, 110.0, 80.0, 15.0, 0),
    ("1742", "33914-3", "eGFR (CKD-EPI)", "mL/min/{1.73_m2}", 60.0, 200.0, 78.0, 14.0, 0),
    ("2297", "2093-3", "Cholesterol totaal", "mmol/L", 0.0, 5.0, 5.2, 0.9, 1),
    ("378", "2085-9", "HDL-cholesterol", "mmol/L", 1.0, 3.0, 1.3, 0.3, 1),
    ("1842", "3016-3", "TSH", "mU/L", 0.4, 4.0, 1.8, 0.9, 2),
    ("546", "2823-3", "Kalium", "mmol/L", 3.5, 5.0, 4.3, 0.3, 1),
)
# (GPK, ATC, name, dose text, chronic problem it treats)
_MEDS = (
    ("12343", "C09AA02", "Enalapril 10 mg tablet", "1 x per dag 1 tablet", "K86"),
    ("24880", "C03AA03", "Hydrochloorthiazide 12,5 mg tablet", "1 x per dag 1 tablet", "K86"),
    ("61867", "A10BA02", "Metformine 500 mg tablet", "2 x per dag 1 tablet", "T90"),
    ("91855", "R03AC02", "Salbutamol 100 ug/dosis aerosol", "zo nodig 1-2 inhalaties", "R96"),
    ("70742", "B01AF01", "Rivaroxaban 20 mg tablet", "1 x per dag 1 tablet", "K78"),
    ("90662", "N06AB06", "Sertraline 50 mg tablet", "1 x per dag 1 tablet", "P76"),
    ("2194", "N02BE01", "Paracetamol 500 mg tablet", "zo nodig max 6 x per dag 2 tabletten",
     None),
    ("30481", "M01AE01", "Ibuprofen 400 mg tablet", "zo nodig max 3 x per dag 1 tablet", None),
    ("82244", "A02BC02", "Pantoprazol 40 mg tablet msr", "1 x per dag 1 tablet", None),
)
# Rijksvaccinatieprogramma: (age in months, ATC, name, SNOMED procedure)
_RVP = (
    (2, "J07CA09", "DKTP-Hib-HepB (zuigelingen)", "871887006"),
    (2, "J07AL02", "Pneumokokken", "1119305005"),
    (3, "J07CA09", "DKTP-Hib-HepB (zuigelingen)", "871887006"),
    (5, "J07CA09", "DKTP-Hib-HepB (zuigelingen)", "871887006"),
    (5, "J07AL02", "Pneumokokken", "1119305005"),
    (11, "J07CA09", "DKTP-Hib-HepB (zuigelingen)", "871887006"),
    (11, "J07AL02", "Pneumokokken", "1119305005"),
    (14, "J07BD52", "BMR", "38598009"),
    (14, "J07AH08", "MenACWY", "871871008"),
    (48, "J07CA02", "DKTP (kleuters)", "414619005"),
    (108, "J07AJ52", "DTP", "390846000"),
    (108, "J07BD52", "BMR", "38598009"),
    (120, "J07BM03", "HPV", "761841000"),
    (126, "J07BM03", "HPV", "761841000"),
    (168, "J07AH08", "MenACWY", "871871008"),
)
_ALLERGENS = (
    ("medication", "372687004", "Amoxicilline", ("271807003", "huiduitslag")),
    ("medication", "387207008", "Ibuprofen", ("126485001", "urticaria")),
    ("medication", "373270004", "Penicilline", ("39579001", "anafylaxie")),
    ("food", "256349002", "Pinda", ("65124004", "zwelling")),
    ("environment", "256277009", "Graspollen", ("70076002", "rhinitis")),
)
_DOC_TYPES = (
    ("11488-4", "Consultverslag", "Polikliniek Interne Geneeskunde"),
    ("18748-4", "Verslag beeldvormend onderzoek", "Afdeling Radiologie"),
    ("57133-1", "Verwijsbrief", "Huisartsenpraktijk"),
    ("18842-5", "Ontslagbrief", "Afdeling Cardiologie"),
)
_SOEP = {
    "S": ("Klachten sinds {d} dagen, wisselend van intensiteit.",
          "Komt voor controle, voelt zich goed.", "Vraagt om herhaalrecept."),
    "O": ("RR {sys}/{dia} mmHg, pols {hr}/min regulair.", "Geen afwijkingen bij onderzoek.",
          "Temp {t} C, keel rood, geen beslag."),
    "E": ("{title}", "{title}, stabiel.", "{title}?"),
    "P": ("Uitleg gegeven, terugkomen bij verergering.", "Controle over 3 maanden.",
          "Recept meegegeven, zo nodig contact."),
}


def _ref(rtype: str, rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{rtype}/{rid}"}
    if display:
        out["display"] = display
    return out


def _cc(system: str, code: str, display: str | None = None, text: str | None = None
        ) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def _dt(d: date, hour: int = 9, minute: int = 0) -> str:
    # Central European time; the offset is a simplification (no DST switch).
    return f"{d.isoformat()}T{hour:02d}:{minute:02d}:00+01:00"


class _Gen:
    """Builds one person's resources for one provider (ids are stable)."""

    def __init__(self, person: Person, provider: str, today: date, version: str) -> None:
        self.p = person
        self.provider = provider
        self.today = today
        self.version = version
        self.rng = random.Random(f"res:{person.key}:{provider}")
        self.pid = f"p-{person.bsn}"
        self.prac = f"prac-{person.gp_agb}"
        self.role = f"role-{person.gp_agb}"
        self.org = f"org-{person.practice_agb}"

    # --- people & organisations ---------------------------------------------------------

    def patient(self) -> dict[str, Any]:
        p = self.p
        family: dict[str, Any] = {"family": " ".join(x for x in (p.prefix, p.family) if x),
                                  "_family": {"extension": [{
                                      "url": "http://hl7.org/fhir/StructureDefinition/"
                                             "humanname-own-name",
                                      "valueString": p.family}]}}
        if p.prefix:
            family["_family"]["extension"].append({
                "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                "valueString": p.prefix})
        res: dict[str, Any] = {
            "resourceType": "Patient", "id": self.pid,
            "meta": {"profile": [NL + "nl-core-patient" if self.version == "STU3"
                                 else NICTIZ + "nl-core-Patient"]},
            "identifier": [{"system": BSN, "value": p.bsn}],
            "name": [{"use": "official", "text": p.full_name, **family,
                      "given": [p.given]}],
            "telecom": [{"system": "phone", "value": p.phone, "use": "mobile"}],
            "gender": p.gender,
            "birthDate": p.birth_date.isoformat(),
            "address": [{"use": "home", "line": [f"{p.street} {p.house_number}"],
                         "city": p.city, "postalCode": p.postcode, "country": "NL"}],
            "generalPractitioner": [_ref("Organization", self.org, p.practice),
                                    _ref("Practitioner", self.prac, p.gp_name)],
        }
        return res

    def care_team(self) -> list[dict[str, Any]]:
        p = self.p
        stu3 = self.version == "STU3"
        return [
            {"resourceType": "Practitioner", "id": self.prac,
             "meta": {"profile": [NL + "nl-core-practitioner" if stu3
                                  else NICTIZ + "nl-core-HealthProfessional-Practitioner"]},
             "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/agb-z",
                             "value": p.gp_agb}],
             "name": [{"text": p.gp_name, "family": p.gp_name.split(" ", 1)[1]}]},
            {"resourceType": "Organization", "id": self.org,
             "meta": {"profile": [NL + "nl-core-organization" if stu3
                                  else NICTIZ + "nl-core-HealthcareProvider-Organization"]},
             "identifier": [{"system": AGB, "value": p.practice_agb}],
             "type": [_cc("urn:oid:2.16.840.1.113883.2.4.15.1060", "Z3", "Huisartspraktijk")],
             "name": p.practice},
            {"resourceType": "PractitionerRole", "id": self.role,
             "meta": {"profile": [NL + "nl-core-practitionerrole" if stu3
                                  else NICTIZ + "nl-core-HealthProfessional-PractitionerRole"]},
             "practitioner": _ref("Practitioner", self.prac, p.gp_name),
             "organization": _ref("Organization", self.org, p.practice),
             "specialty": [_cc("urn:oid:2.16.840.1.113883.2.4.6.7", "0100", "Huisartsen")]},
        ]

    # --- dates --------------------------------------------------------------------------

    @property
    def years(self) -> int:
        age = (self.today - self.p.birth_date).days // 365
        cap = {"small": 2, "normal": 8, "large": 40}.get(self.p.size, 8)
        return max(1, min(cap, age))

    @property
    def contacts_per_year(self) -> int:
        return {"small": 2, "normal": 5, "large": 60}.get(self.p.size, 5)

    def day(self, max_days_ago: int, min_days_ago: int = 0) -> date:
        return self.today - timedelta(days=self.rng.randint(min_days_ago, max_days_ago))

    # --- GP data (49) -------------------------------------------------------------------

    def gp_data(self) -> Iterator[dict[str, Any]]:
        yield self.patient()
        yield from self.care_team()
        rng = self.rng
        history = self.years * 365
        problems = rng.sample(_PROBLEMS, k=min(len(_PROBLEMS), 3 + self.years // 2))
        episodes = []
        for i, (icpc, title, chronic, flag) in enumerate(problems):
            start = self.day(history, 30)
            active = chronic or rng.random() < 0.2
            end = None if active else min(self.today, start + timedelta(days=rng.randint(7, 90)))
            cid, eid = f"cond-{i}", f"eoc-{i}"
            yield {
                "resourceType": "Condition", "id": cid,
                "meta": {"profile": [NICTIZ + "zib-Problem"]},
                "clinicalStatus": "active" if active else "inactive",
                "verificationStatus": "confirmed",
                "category": [_cc(SCT, "439401001", "Diagnose")],
                "code": _cc(ICPC, icpc, title, title),
                "subject": _ref("Patient", self.pid, self.p.full_name),
                "onsetDateTime": start.isoformat(),
                **({"abatementDateTime": end.isoformat()} if end else {}),
                "assertedDate": start.isoformat(),
            }
            episode: dict[str, Any] = {
                "resourceType": "EpisodeOfCare", "id": eid,
                "meta": {"profile": [NL + "nl-core-episodeofcare"]},
                "extension": [
                    {"url": NICTIZ + "EpisodeOfCare-Title", "valueString": title},
                    {"url": NICTIZ + "EpisodeOfCare-DateFirstEncounter",
                     "valueDateTime": start.isoformat()}],
                "identifier": [{"system": IDSYS, "value": f"{self.p.bsn}-eoc-{i}"}],
                "status": "active" if active else "finished",
                "type": [_cc(SCT, "64572001", "aandoening")],
                "diagnosis": [{"condition": _ref("Condition", cid, title)}],
                "patient": _ref("Patient", self.pid, self.p.full_name),
                "managingOrganization": _ref("Organization", self.org, self.p.practice),
                "period": {"start": start.isoformat(),
                           **({"end": end.isoformat()} if end else {})},
            }
            # The server-side selection (current episodes + closed ones with an
            # attention flag) is applied here: closed episodes without a flag are left out.
            if active or flag:
                yield episode
            if flag:
                yield {
                    "resourceType": "Flag", "id": f"flag-{i}",
                    "meta": {"profile": [NICTIZ + "zib-Alert"]},
                    "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/flag-detail",
                                   "valueReference": _ref("EpisodeOfCare", eid)}],
                    "status": "active" if active else "inactive",
                    "category": _cc(LOINC, "74018-3", "Attentiewaarde"),  # 0..1 in STU3
                    "code": _cc(ICPC, icpc, title),
                    "subject": _ref("Patient", self.pid),
                    "period": {"start": start.isoformat()},
                }
            episodes.append((eid, icpc, title, start, end))
        yield from self.contacts(episodes)
        yield from self.medication(problems)
        yield from self.allergies(only_medication=True)
        yield from self.labs(profile="gp-DiagnosticResult", with_nhg=True)

    def contacts(self, episodes: list[tuple[str, str, str, date, date | None]]
                 ) -> Iterator[dict[str, Any]]:
        rng = self.rng
        n = self.years * self.contacts_per_year
        for c in range(n):
            eid, icpc, title, start, end = rng.choice(episodes)
            d = self.day(min(self.years * 365, (self.today - start).days + 1))
            hour, minute = rng.randint(8, 16), rng.choice((0, 10, 20, 30, 40, 50))
            enc, comp = f"enc-{c}", f"comp-{c}"
            yield {
                "resourceType": "Encounter", "id": enc,
                "meta": {"profile": [NICTIZ + "gp-Encounter"]},
                "identifier": [{"system": IDSYS, "value": f"{self.p.bsn}-enc-{c}"}],
                "status": "finished",
                "class": {"system": "http://hl7.org/fhir/v3/ActCode", "code": "AMB",
                          "display": "ambulatory"},
                "type": [_cc("http://fhir.nl/fhir/NamingSystem/contacttype", "01",
                             "Consult")],
                "subject": _ref("Patient", self.pid, self.p.full_name),
                "episodeOfCare": [_ref("EpisodeOfCare", eid)],
                "participant": [{"individual": _ref("Practitioner", self.prac,
                                                    self.p.gp_name)}],
                "period": {"start": _dt(d, hour, minute), "end": _dt(d, hour, minute + 9)},
                "reason": [_cc(ICPC, icpc, title)],
                "serviceProvider": _ref("Organization", self.org, self.p.practice),
            }
            sections = []
            for line in "SOEP":
                oid = f"obs-{c}-{line.lower()}"
                text = rng.choice(_SOEP[line]).format(
                    d=rng.randint(2, 30), sys=rng.randint(115, 165), dia=rng.randint(70, 100),
                    hr=rng.randint(55, 95), t=f"{rng.uniform(36.5, 39.0):.1f}", title=title)
                yield {
                    "resourceType": "Observation", "id": oid,
                    "meta": {"profile": [NICTIZ + "gp-JournalEntry"]},
                    "extension": [{"url": NICTIZ + "extension-context-nl-core-episodeofcare",
                                   "valueReference": _ref("EpisodeOfCare", eid)}],
                    "status": "final",
                    "code": _cc(JOURNAL, line),
                    "subject": _ref("Patient", self.pid),
                    "context": _ref("Encounter", enc),
                    "effectiveDateTime": _dt(d, hour, minute),
                    "performer": [_ref("Practitioner", self.prac, self.p.gp_name)],
                    "valueString": text,
                }
                sections.append({"code": _cc(JOURNAL, line),
                                 "text": {"status": "generated",
                                          "div": f'<div xmlns="http://www.w3.org/1999/xhtml">'
                                                 f"{_html(text)}</div>"},
                                 "entry": [_ref("Observation", oid),
                                           _ref("EpisodeOfCare", eid)]})
            yield {
                "resourceType": "Composition", "id": comp,
                "meta": {"profile": [NICTIZ + "gp-EncounterReport"]},
                "identifier": {"system": IDSYS, "value": f"{self.p.bsn}-comp-{c}"},
                "status": "final",
                "type": _cc(LOINC, "67781-5", "Summarization of encounter note Narrative"),
                "subject": _ref("Patient", self.pid),
                "encounter": _ref("Encounter", enc),
                "date": _dt(d, hour, minute),
                "author": [_ref("Practitioner", self.prac, self.p.gp_name)],
                "title": f"Contactverslag dd. {d.isoformat()}",
                "section": sections,
            }

    def medication(self, problems: tuple[Any, ...] | list[Any]) -> Iterator[dict[str, Any]]:
        rng = self.rng
        chronic = {p[0] for p in problems if p[2]}
        meds = [m for m in _MEDS if m[4] in chronic] + rng.sample(
            [m for m in _MEDS if m[4] is None], k=2)
        for i, (gpk, atc, name, dose, _) in enumerate(meds):
            mid = f"med-{gpk}"
            yield {
                "resourceType": "Medication", "id": mid,
                "meta": {"profile": [NICTIZ + "zib-Product"]},
                "code": {"coding": [{"system": GPK, "code": gpk, "display": name},
                                    {"system": ATC, "code": atc}], "text": name},
            }
            repeats = 1 if atc[0] in "NM" and atc != "N06AB06" else 1 + self.years
            for r in range(repeats):
                if repeats == 1:
                    start = self.day(self.years * 365, 1)
                    end: date | None = start + timedelta(days=rng.randint(5, 14))
                else:
                    start = self.today - timedelta(days=365 * (repeats - 1 - r) + 10)
                    end = None if r == repeats - 1 else start + timedelta(days=365)
                yield {
                    "resourceType": "MedicationRequest", "id": f"ma-{i}-{r}",
                    "meta": {"profile": [NICTIZ + "zib-MedicationAgreement"]},
                    "extension": [
                        {"url": NICTIZ + "zib-Medication-PeriodOfUse",
                         "valuePeriod": {"start": start.isoformat(),
                                         **({"end": end.isoformat()} if end else {})}},
                        {"url": NICTIZ + "zib-Medication-MedicationTreatment",
                         "valueIdentifier": {"system": IDSYS, "value": f"{self.p.bsn}-mbh-{i}"}},
                    ],
                    "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.77."
                                              "16076005.1", "value": f"{self.p.bsn}-ma-{i}-{r}"}],
                    "status": "active" if end is None or end >= self.today else "completed",
                    "intent": "order",
                    "category": _cc(SCT, "16076005", "Medicatieafspraak"),
                    "medicationReference": _ref("Medication", mid, name),
                    "subject": _ref("Patient", self.pid),
                    "authoredOn": start.isoformat(),
                    "requester": {"agent": _ref("Practitioner", self.prac, self.p.gp_name)},
                    "dosageInstruction": [{"sequence": 1, "text": dose}],
                }

    def allergies(self, only_medication: bool = False) -> Iterator[dict[str, Any]]:
        rng = self.rng
        pool = [a for a in _ALLERGENS if a[0] == "medication" or not only_medication]
        for i, (cat, code, name, reaction) in enumerate(rng.sample(pool, k=rng.randint(0, 2))):
            yield {
                "resourceType": "AllergyIntolerance", "id": f"allergy-{code}",
                "meta": {"profile": [NICTIZ + "zib-AllergyIntolerance"]},
                "clinicalStatus": "active", "verificationStatus": "confirmed",
                "category": [cat], "criticality": "high" if i == 0 else "low",
                "code": _cc(SCT, code, name, name),
                "patient": _ref("Patient", self.pid),
                "assertedDate": self.day(self.years * 365).isoformat(),
                "reaction": [{"manifestation": [_cc(SCT, reaction[0], reaction[1])],
                              "description": reaction[1]}],
            }

    def labs(self, profile: str, with_nhg: bool, category: tuple[str, str] | None = None
             ) -> Iterator[dict[str, Any]]:
        rng = self.rng
        tests = rng.sample(_LABS, k=5)
        n_draws = max(2, self.years * (2 if self.p.size != "large" else 12))
        for draw in range(n_draws):
            d = self.today - timedelta(days=int((draw + 0.5) * self.years * 365 / n_draws))
            spec = f"spec-{draw}"
            if profile != "gp-DiagnosticResult":
                yield {
                    "resourceType": "Specimen", "id": spec,
                    "meta": {"profile": [NICTIZ + "zib-LaboratoryTestResult-Specimen"]},
                    "type": _cc(SCT, "119297000", "bloedmonster"),
                    "subject": _ref("Patient", self.pid),
                    "collection": {"collectedDateTime": _dt(d, 8, 15)},
                }
            drift = rng.uniform(-0.5, 0.5)
            for nhg, loinc, name, unit, low, high, mean, sd, dec in tests:
                value = round(max(0.0, rng.gauss(mean + drift * sd, sd)), dec)
                interp = "H" if value > high else "L" if value < low else "N"
                coding = [{"system": LOINC, "code": loinc, "display": name}]
                if with_nhg:
                    coding.insert(0, {"system": NHG45, "code": nhg, "display": name})
                obs: dict[str, Any] = {
                    "resourceType": "Observation", "id": f"lab-{draw}-{loinc}",
                    "meta": {"profile": [NICTIZ + profile]},
                    "status": "final",
                    "category": [_cc(SCT, *(category or ("275711006", "Chemie")))],
                    "code": {"coding": coding, "text": name},
                    "subject": _ref("Patient", self.pid),
                    "effectiveDateTime": _dt(d, 8, 15),
                    "valueQuantity": {"value": value if dec else int(value), "unit": unit,
                                      "system": UCUM, "code": unit},
                    "interpretation": _cc("http://hl7.org/fhir/v2/0078", interp),
                    "referenceRange": [{"low": {"value": low, "unit": unit, "system": UCUM,
                                                "code": unit},
                                        "high": {"value": high, "unit": unit, "system": UCUM,
                                                 "code": unit}}],
                }
                if profile != "gp-DiagnosticResult":
                    obs["specimen"] = _ref("Specimen", spec)
                yield obs

    # --- vaccinations (63, R4) ----------------------------------------------------------

    def vaccinations(self) -> Iterator[dict[str, Any]]:
        yield self.patient()
        yield from self.care_team()
        ggd = f"org-ggd-{self.p.city.lower().replace(' ', '')}"
        yield {"resourceType": "Organization", "id": ggd,
               "meta": {"profile": [NICTIZ + "nl-core-HealthcareProvider-Organization"]},
               "name": f"GGD {self.p.city}"}
        seen = set()
        for i, (months, atc, name, sct) in enumerate(_RVP):
            when = _add_months(self.p.birth_date, months)
            if when > self.today:
                break
            if atc not in seen:
                seen.add(atc)
                yield {"resourceType": "Medication", "id": f"vacc-{atc.lower()}",
                       "meta": {"profile": [NICTIZ + "imm-PharmaceuticalProduct"]},
                       "code": {"coding": [{"system": ATC, "code": atc, "display": name}],
                                "text": name}}
            yield {
                "resourceType": "Immunization", "id": f"imm-{i}",
                "meta": {"profile": [NICTIZ + "imm-Vaccination-event"]},
                "extension": [{"url": NICTIZ + "ext-imm-Vaccination.PharmaceuticalProduct",
                               "valueReference": _ref("Medication", f"vacc-{atc.lower()}",
                                                      name)}],
                "identifier": [{"system": IDSYS, "value": f"{self.p.bsn}-imm-{i}"}],
                "status": "completed",
                "vaccineCode": {"coding": [{"system": ATC, "code": atc, "display": name}],
                                "text": name},
                "patient": _ref("Patient", self.pid, self.p.full_name),
                "occurrenceDateTime": when.isoformat(),
                "performer": [{"actor": _ref("Organization", ggd, f"GGD {self.p.city}")}],
                "doseQuantity": {"value": 0.5, "unit": "ml", "system": UCUM, "code": "mL"},
                "protocolApplied": [{
                    "series": "Rijksvaccinatieprogramma",
                    "targetDisease": [_cc(SCT, sct)],
                    "doseNumberPositiveInt": sum(1 for _, a, *_ in _RVP[:i + 1] if a == atc)}],
            }

    # --- documents (51) -----------------------------------------------------------------

    def documents(self) -> Iterator[dict[str, Any]]:
        yield self.patient()
        rng = self.rng
        n = {"small": 2, "normal": 5, "large": 40}.get(self.p.size, 5)
        refs = []
        for i in range(n):
            code, title, dept = rng.choice(_DOC_TYPES)
            d = self.day(self.years * 365)
            pdf = render_pdf(f"{title} - {self.p.full_name}", [
                f"Datum: {d.isoformat()}",
                f"Betreft: {self.p.full_name}, geboren {self.p.birth_date.isoformat()}, "
                f"{self.p.street} {self.p.house_number}, {self.p.postcode} {self.p.city}",
                f"Afzender: {dept}",
                "Geachte collega,",
                rng.choice(("Uw patient werd gezien op het spreekuur in verband met "
                            "aanhoudende klachten. Aanvullend onderzoek liet geen "
                            "afwijkingen zien.",
                            "Bij onderzoek werden geen bijzonderheden gevonden. Wij hebben "
                            "patient geadviseerd de huidige medicatie te continueren.",
                            "Graag verwijs ik patient naar uw afdeling voor verdere "
                            "analyse en behandeling.")),
                "Met vriendelijke groet,", "Dr. " + self.p.gp_name,
                "Dit is een synthetische testbrief van de Regie-sandbox."],
                date=d.isoformat())
            bid, did = f"bin-{i}", f"docref-{i}"
            yield {"resourceType": "Binary", "id": bid, "contentType": "application/pdf",
                   "content": base64.b64encode(pdf).decode("ascii")}
            yield {
                "resourceType": "DocumentReference", "id": did,
                "meta": {"profile": [NICTIZ + "IHE.MHD.Minimal.DocumentReference"]},
                "masterIdentifier": {"system": "urn:ietf:rfc:3986",
                                     "value": f"urn:oid:2.16.840.1.113883.2.4.3.11.999.51."
                                              f"{int(self.p.bsn)}.{i}"},
                "status": "current",
                "type": _cc(LOINC, code, title),
                "subject": _ref("Patient", self.pid),
                "indexed": _dt(d, 12),
                "author": [_ref("Organization", self.org, self.p.practice)],
                "description": title,
                "content": [{"attachment": {"contentType": "application/pdf",
                                            "url": f"Binary/{bid}", "size": len(pdf),
                                            "title": f"{title} {d.isoformat()}.pdf",
                                            "creation": _dt(d, 12)}}],
            }
            refs.append(did)
        yield {
            "resourceType": "DocumentManifest", "id": "manifest-1",
            "meta": {"profile": [NICTIZ + "IHE.MHD.DocumentManifest"]},
            "masterIdentifier": {"system": "urn:ietf:rfc:3986",
                                 "value": f"urn:oid:2.16.840.1.113883.2.4.3.11.999.52."
                                          f"{int(self.p.bsn)}"},
            "status": "current", "subject": _ref("Patient", self.pid),
            "created": _dt(self.today - timedelta(days=1), 12),
            "content": [{"pReference": _ref("DocumentReference", r)} for r in refs],
        }

    # --- appointments (905) -------------------------------------------------------------

    def appointments(self) -> Iterator[dict[str, Any]]:
        yield self.patient()
        yield from self.care_team()
        rng = self.rng
        for i in range(rng.randint(3, 8)):
            d = self.today + timedelta(days=rng.randint(-360, 120))
            h, m = rng.randint(8, 16), rng.choice((0, 15, 30, 45))
            yield {
                "resourceType": "Appointment", "id": f"appt-{i}",
                "meta": {"profile": [NICTIZ + "eAfspraak-Appointment"]},
                "status": "booked" if d >= self.today else "fulfilled",
                "description": rng.choice(("Controle", "Consult", "Bloeddrukcontrole",
                                           "Griepvaccinatie")),
                "start": _dt(d, h, m), "end": _dt(d, h, m + 10),
                "participant": [
                    {"actor": _ref("Patient", self.pid, self.p.full_name),
                     "status": "accepted"},
                    {"actor": _ref("PractitionerRole", self.role, self.p.gp_name),
                     "status": "accepted"}],
            }

    # --- BgZ (48), a subset ----------------------------------------------------------------

    def bgz(self) -> Iterator[dict[str, Any]]:
        for res in self.gp_data():
            if res["resourceType"] in ("Patient", "Practitioner", "Organization",
                                       "PractitionerRole", "Condition", "Flag",
                                       "MedicationRequest", "Medication"):
                yield res
        yield from self.allergies()
        for res in self.labs(profile="zib-LaboratoryTestResult-Observation", with_nhg=False):
            yield res
        for k in range(max(2, self.years)):
            d = self.today - timedelta(days=120 * k + 3)
            yield self._vital(f"bp-{k}", "85354-9", "Blood pressure panel", d, None,
                              components=[("8480-6", self.rng.randint(115, 160)),
                                          ("8462-4", self.rng.randint(70, 100))])
            yield self._vital(f"weight-{k}", "29463-7", "Body weight", d,
                              (round(self.rng.uniform(55, 105), 1), "kg"))
        yield self._vital("height-0", "8302-2", "Body height", self.today - timedelta(days=30),
                          (round(self.rng.uniform(155, 195), 0), "cm"))

    def _vital(self, rid: str, loinc: str, name: str, d: date,
               value: tuple[float, str] | None,
               components: list[tuple[str, int]] | None = None) -> dict[str, Any]:
        profile = {"85354-9": "zib-BloodPressure", "29463-7": "zib-BodyWeight",
                   "8302-2": "zib-BodyHeight"}[loinc]
        res: dict[str, Any] = {
            "resourceType": "Observation", "id": rid,
            "meta": {"profile": [NICTIZ + profile]}, "status": "final",
            "category": [_cc("http://hl7.org/fhir/observation-category", "vital-signs")],
            "code": _cc(LOINC, loinc, name), "subject": _ref("Patient", self.pid),
            "effectiveDateTime": _dt(d, 10),
        }
        if value is not None:
            res["valueQuantity"] = {"value": value[0], "unit": value[1], "system": UCUM,
                                    "code": value[1]}
        for code, val in components or ():
            res.setdefault("component", []).append({
                "code": _cc(LOINC, code),
                "valueQuantity": {"value": val, "unit": "mmHg", "system": UCUM,
                                  "code": "mm[Hg]"}})
        return res


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def resources_for(person: Person, service_id: str, *, provider: str = "sandbox",
                  today: date | None = None) -> list[dict[str, Any]] | None:
    """The person's resources for *service_id* at *provider*, or None if not covered."""
    today = today or date.today()
    from . import extra

    if service_id == "63":
        return list(_Gen(person, provider, today, "R4").vaccinations())
    if service_id == "902":
        return list(extra.medication_mp9(_Gen(person, provider, today, "R4")))
    gen = _Gen(person, provider, today, "STU3")
    more = {"50": extra.ggz, "61": extra.bglz, "901": extra.medication_907,
            "904": extra.self_measurements, "906": extra.questionnaires}
    if service_id in more:
        return list(more[service_id](gen))
    if service_id == "49":
        return list(gen.gp_data())
    if service_id == "48":
        return list(gen.bgz())
    if service_id == "51":
        return list(gen.documents())
    if service_id == "903":
        return [gen.patient(), *gen.labs(profile="zib-LaboratoryTestResult-Observation",
                                         with_nhg=False,
                                         category=("49581000146104", "Laboratory test finding"))]
    if service_id == "905":
        return list(gen.appointments())
    if service_id == "907":
        return [gen.patient(), *gen.care_team(), *gen.allergies()]
    return None
