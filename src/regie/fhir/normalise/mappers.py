"""Per-resource-type mappers: validated FHIR dict -> fields of a RecordItem."""

from __future__ import annotations

from typing import Any

from regie.record import Category, Component, Detail, Link

from . import common as cm
from .labels import SOEP_TITLE_NL, TYPE_TITLE_NL

Res = dict[str, Any]
Fields = dict[str, Any]

_JOURNAL = "http://fhir.nl/fhir/NamingSystem/journaalregeltypen"
_ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}


def _status_code(value: Any) -> str | None:
    """STU3 clinicalStatus is a code, R4 a CodeableConcept."""
    if isinstance(value, str):
        return value
    cs = cm.codings(value)
    return cs[0].code if cs else None


def _context_links(res: Res) -> list[Link]:
    out = cm.links("subject", res.get("subject") or res.get("patient"))
    out += cm.links("encounter", res.get("encounter") or res.get("context"))
    ext = cm.extension(res, "extension-context-nl-core-episodeofcare")
    if ext:
        out += cm.links("episode", ext.get("valueReference"))
    return out


def observation(res: Res, cat: Category) -> Fields:
    codes = cm.codings(res.get("code"))
    title = cm.cc_text(res.get("code"))
    kind = None
    journal = next((c for c in codes if c.system == _JOURNAL), None)
    if journal is not None:
        kind = f"journal-{journal.code}"
        title = journal.display or SOEP_TITLE_NL.get(journal.code or "", title)
    components = tuple(
        Component(cm.cc_text(c.get("code")) or "", cm.codings(c.get("code")), cm.value_of(c))
        for c in res.get("component", ()) or ()
    )
    effective = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start") \
        or res.get("effectiveInstant") or res.get("issued")
    links = _context_links(res)
    links += cm.links("specimen", res.get("specimen"))
    links += cm.links("performer", res.get("performer"))
    links += cm.links("based_on", res.get("basedOn"))
    links += cm.links("member", res.get("hasMember"))
    for rel in res.get("related", ()) or ():  # STU3 has-member/derived-from
        links += cm.links("member" if rel.get("type") == "has-member" else "related",
                          rel.get("target"))
    links += cm.links("focus", res.get("focus"))
    value = cm.value_of(res)
    details = []
    if res.get("dataAbsentReason") and value is None:
        details.append(Detail("Geen waarde", cm.cc_text(res["dataAbsentReason"]) or ""))
    for note in res.get("note", ()) or ():
        if note.get("text"):
            details.append(Detail("Toelichting", note["text"]))
    if res.get("comment"):
        details.append(Detail("Toelichting", res["comment"]))
    return {
        "kind": kind, "title": title, "codes": codes, "value": value, "components": components,
        "date": cm.date(effective), "end": cm.date((res.get("effectivePeriod") or {}).get("end")),
        "status": res.get("status"),
        "reference_ranges": cm.ref_ranges(res),
        "interpretation": tuple(c for cc in _as_list(res.get("interpretation"))
                                for c in cm.codings(cc)),
        "links": links, "details": details,
    }


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def condition(res: Res, cat: Category) -> Fields:
    status = _status_code(res.get("clinicalStatus"))
    onset = res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start")
    abatement = res.get("abatementDateTime") or (res.get("abatementPeriod") or {}).get("start")
    details = [Detail("Soort", t) for cc in res.get("category", ()) or ()
               if (t := cm.cc_text(cc))]
    verification = _status_code(res.get("verificationStatus"))
    if verification:
        details.append(Detail("Verificatie", verification))
    return {
        "title": cm.cc_text(res.get("code")), "codes": cm.codings(res.get("code")),
        "status": status, "active": None if status is None else status in _ACTIVE_CLINICAL,
        "date": cm.date(onset or res.get("assertedDate") or res.get("recordedDate")),
        "end": cm.date(abatement),
        "links": _context_links(res) + cm.links("author", res.get("asserter")),
        "details": details,
    }


def episode_of_care(res: Res, cat: Category) -> Fields:
    title_ext = cm.extension(res, "EpisodeOfCare-Title")
    title = title_ext.get("valueString") if title_ext else None
    diagnoses = res.get("diagnosis", ()) or ()
    if not title and diagnoses:
        title = (diagnoses[0].get("condition") or {}).get("display")
    status = res.get("status")
    period = res.get("period") or {}
    links = cm.links("subject", res.get("patient"))
    for diag in diagnoses:
        links += cm.links("condition", diag.get("condition"))
    links += cm.links("organization", res.get("managingOrganization"))
    links += cm.links("performer", res.get("careManager"))
    details = []
    for url_end, label in (("EpisodeOfCare-DateFirstEncounter", "Eerste contact"),
                           ("EpisodeOfCare-DateLastEncounter", "Laatste contact")):
        ext = cm.extension(res, url_end)
        if ext and ext.get("valueDateTime"):
            details.append(Detail(label, ext["valueDateTime"]))
    return {
        "title": title or cm.cc_text(cm.first(res.get("type"))),
        "codes": tuple(c for cc in res.get("type", ()) or () for c in cm.codings(cc)),
        "status": status, "active": status in ("active", "onhold", "planned", "waitlist"),
        "attention": False,
        "date": cm.date(period.get("start")), "end": cm.date(period.get("end")),
        "links": links, "details": details,
    }


def _medication(res: Res) -> tuple[str | None, tuple[Any, ...], list[Link]]:
    cc = res.get("medicationCodeableConcept")
    if cc:
        return cm.cc_text(cc), cm.codings(cc), []
    ref = res.get("medicationReference") or {}
    title = ref.get("display")
    codes: tuple[Any, ...] = ()
    reference = ref.get("reference", "")
    if reference.startswith("#"):
        for inner in res.get("contained", ()) or ():
            if inner.get("id") == reference[1:] and inner.get("resourceType") == "Medication":
                title = title or cm.cc_text(inner.get("code"))
                codes = cm.codings(inner.get("code"))
    return title, codes, cm.links("medication", ref)


def _dosage(res: Res) -> tuple[Any, list[Detail]]:
    details: list[Detail] = []
    rendered = cm.extension(res, "ext-RenderedDosageInstruction")
    if rendered and rendered.get("valueString"):
        details.append(Detail("Dosering", rendered["valueString"]))
    dosages = res.get("dosageInstruction") or res.get("dosage") or []
    if isinstance(dosages, dict):  # MedicationAdministration.dosage is single
        dosages = [dosages]
    dose = None
    for d in dosages:
        if d.get("text") and not rendered:
            details.append(Detail("Dosering", d["text"]))
        q = cm.quantity(d.get("doseQuantity") or d.get("dose"))
        for dr in d.get("doseAndRate", ()) or ():
            q = q or cm.quantity(dr.get("doseQuantity"))
        dose = dose or q
        route = cm.cc_text(d.get("route"))
        if route and Detail("Toedieningsweg", route) not in details:
            details.append(Detail("Toedieningsweg", route))
    return dose, details


def medication_event(res: Res, cat: Category) -> Fields:
    """MedicationRequest/-Dispense/-Statement/-Administration (STU3 zib and R4 MP9)."""
    title, codes, links = _medication(res)
    dose, details = _dosage(res)
    period_ext = cm.extension(res, "zib-Medication-PeriodOfUse") or \
        cm.extension(res, "ext-TimeInterval.Period")
    period = (period_ext or {}).get("valuePeriod") or res.get("effectivePeriod") or {}
    start = period.get("start") or res.get("effectiveDateTime") or res.get("whenHandedOver") \
        or res.get("authoredOn") or res.get("dateAsserted") or res.get("whenPrepared")
    status = res.get("status")
    links = _context_links(res) + links
    links += cm.links("requester", (res.get("requester") or {}).get("agent")
                      if isinstance((res.get("requester") or {}).get("agent"), dict)
                      else res.get("requester"))
    links += cm.links("request", res.get("authorizingPrescription"))
    links += cm.links("based_on", res.get("basedOn"))
    links += cm.links("performer", [p.get("actor") for p in res.get("performer", ()) or ()
                                    if isinstance(p, dict)])
    if res.get("quantity"):
        q = cm.quantity(res["quantity"])
        if q is not None:
            details.append(Detail("Hoeveelheid", q.text()))
    stop = cm.extension(res, "zib-Medication-StopType") or cm.extension(res, "ext-StopType")
    if stop and stop.get("valueCodeableConcept"):
        details.append(Detail("Stoptype", cm.cc_text(stop["valueCodeableConcept"]) or ""))
    active = None
    if status in ("active", "on-hold", "in-progress", "completed", "stopped", "cancelled",
                  "entered-in-error"):
        active = status in ("active", "on-hold", "in-progress")
    return {
        "title": title, "codes": codes, "value": dose, "status": status, "active": active,
        "date": cm.date(start), "end": cm.date(period.get("end")),
        "links": links, "details": details,
    }


def medication(res: Res, cat: Category) -> Fields:
    details = []
    form = cm.cc_text(res.get("form"))
    if form:
        details.append(Detail("Vorm", form))
    for ing in res.get("ingredient", ()) or ():
        text = cm.cc_text(ing.get("itemCodeableConcept")) or \
            (ing.get("itemReference") or {}).get("display")
        if text:
            details.append(Detail("Ingrediënt", text))
    return {"title": cm.cc_text(res.get("code")), "codes": cm.codings(res.get("code")),
            "details": details}


def allergy(res: Res, cat: Category) -> Fields:
    status = _status_code(res.get("clinicalStatus"))
    details = [Detail("Soort", c) for c in res.get("category", ()) or ()]
    if res.get("criticality"):
        details.append(Detail("Ernst", res["criticality"]))
    for reaction in res.get("reaction", ()) or ():
        for man in reaction.get("manifestation", ()) or ():
            text = cm.cc_text(man)
            if text:
                details.append(Detail("Reactie", text))
    onset = res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start")
    return {
        "title": cm.cc_text(res.get("code")), "codes": cm.codings(res.get("code")),
        "status": status, "active": None if status is None else status == "active",
        "date": cm.date(onset or res.get("assertedDate") or res.get("recordedDate")),
        "links": _context_links(res) + cm.links("author", res.get("recorder")
                                                or res.get("asserter")),
        "details": details,
    }


def immunization(res: Res, cat: Category) -> Fields:
    when = res.get("occurrenceDateTime") or res.get("date")
    links = _context_links(res)
    for p in res.get("performer", ()) or ():
        links += cm.links("performer", p.get("actor"))
    for p in res.get("practitioner", ()) or ():  # STU3
        links += cm.links("performer", p.get("actor"))
    links += cm.links("location", res.get("location"))
    details = []
    if res.get("lotNumber"):
        details.append(Detail("Batchnummer", res["lotNumber"]))
    dose = cm.quantity(res.get("doseQuantity"))
    return {
        "title": cm.cc_text(res.get("vaccineCode")), "codes": cm.codings(res.get("vaccineCode")),
        "status": res.get("status"), "date": cm.date(when), "value": dose, "links": links,
        "details": details,
    }


def document_reference(res: Res, cat: Category) -> Fields:
    links = _context_links(res)
    details = []
    for content in res.get("content", ()) or ():
        att = content.get("attachment") or {}
        if att.get("url"):
            links.append(Link("binary", att["url"], att.get("title")))
        if att.get("contentType"):
            details.append(Detail("Bestandstype", att["contentType"]))
    links += cm.links("author", res.get("author"))
    return {
        "title": res.get("description") or cm.cc_text(res.get("type")),
        "codes": cm.codings(res.get("type")), "status": res.get("status"),
        "date": cm.date(res.get("date") or res.get("created") or res.get("indexed")),
        "links": links, "details": details,
    }


def binary(res: Res, cat: Category) -> Fields:
    return {"title": f"Bestand ({res.get('contentType')})",
            "details": [Detail("Bestandstype", str(res.get("contentType")))]}


def composition(res: Res, cat: Category) -> Fields:
    details = []
    for section in res.get("section", ()) or ():
        label = cm.cc_text(section.get("code")) or section.get("title") or "Sectie"
        text = cm.narrative_text(section)
        if text:
            details.append(Detail(label, text))
    return {
        "title": res.get("title") or cm.cc_text(res.get("type")),
        "codes": cm.codings(res.get("type")), "status": res.get("status"),
        "date": cm.date(res.get("date")),
        "links": _context_links(res) + cm.links("author", res.get("author")), "details": details,
    }


def encounter(res: Res, cat: Category) -> Fields:
    period = res.get("period") or {}
    title = cm.cc_text(cm.first(res.get("type"))) or cm.cc_text(res.get("class"))
    links = _context_links(res)
    for p in res.get("participant", ()) or ():
        links += cm.links("participant", p.get("individual"))
    links += cm.links("organization", res.get("serviceProvider"))
    reasons = res.get("reason") or res.get("reasonCode") or []
    details = [Detail("Reden", t) for r in reasons if (t := cm.cc_text(r))]
    return {"title": title, "codes": tuple(c for cc in res.get("type", ()) or ()
                                           for c in cm.codings(cc)),
            "status": res.get("status"), "date": cm.date(period.get("start")),
            "end": cm.date(period.get("end")), "links": links, "details": details}


def patient(res: Res, cat: Category) -> Fields:
    details = []
    if res.get("gender"):
        details.append(Detail("Geslacht", res["gender"]))
    for ident in res.get("identifier", ()) or ():
        if ident.get("system") == "http://fhir.nl/fhir/NamingSystem/bsn" and ident.get("value"):
            details.append(Detail("BSN", ident["value"]))
    return {"title": cm.human_name(res.get("name")), "date": cm.date(res.get("birthDate")),
            "details": details}


def person(res: Res, cat: Category) -> Fields:
    """Practitioner, RelatedPerson, Organization, Location, PractitionerRole."""
    title = cm.human_name(res.get("name")) if isinstance(res.get("name"), list) \
        else res.get("name")
    links = []
    if res["resourceType"] == "PractitionerRole":
        links += cm.links("performer", res.get("practitioner"))
        links += cm.links("organization", res.get("organization"))
        practitioner = (res.get("practitioner") or {}).get("display")
        specialty = cm.cc_text(cm.first(res.get("specialty")))
        title = " – ".join(x for x in (practitioner, specialty) if x) or None
    details = [Detail("Rol", t) for cc in (res.get("relationship") or []) if (t := cm.cc_text(cc))]
    codes = tuple(c for cc in res.get("specialty", ()) or () for c in cm.codings(cc))
    return {"title": title, "links": links, "details": details, "codes": codes}


def generic(res: Res, cat: Category) -> Fields:
    """Everything else: code/title-like elements where present, plus the narrative."""
    code_el = next((res[k] for k in ("code", "vaccineCode", "type", "category", "serviceType",
                                     "appointmentType") if res.get(k)), None)
    code_el = cm.first(code_el)
    title = res.get("title") or res.get("description") or res.get("name") or \
        (cm.cc_text(code_el) if isinstance(code_el, dict) else None)
    if isinstance(title, dict):  # e.g. Goal.description is a CodeableConcept
        title = cm.cc_text(title)
    if not isinstance(title, str):
        title = None
    when = None
    for key in ("start", "occurrenceDateTime", "performedDateTime", "authoredOn", "authored",
                "dateTime", "date", "created", "recorded", "sent", "effectiveDateTime",
                "timingDateTime"):
        if isinstance(res.get(key), str):
            when = res[key]
            break
    period = res.get("period") or res.get("performedPeriod") or res.get("occurrencePeriod") \
        or res.get("whenUsed") or res.get("timingPeriod") or {}
    when = when or period.get("start")
    links = _context_links(res)
    for p in res.get("participant", ()) or ():
        links += cm.links("participant", p.get("actor") or p.get("member"))
    links += cm.links("device", res.get("device"))
    links += cm.links("questionnaire", res.get("questionnaire")
                      if isinstance(res.get("questionnaire"), dict) else None)
    ext = cm.extension(res, "flag-detail")
    if ext:
        links += cm.links("detail", ext.get("valueReference"))
    return {
        "title": title,
        "codes": cm.codings(code_el) if isinstance(code_el, dict) else (),
        "status": res.get("status") if isinstance(res.get("status"), str) else None,
        "date": cm.date(when), "end": cm.date(res.get("end") or period.get("end")),
        "links": links,
    }


MAPPERS = {
    "Observation": observation, "Condition": condition, "EpisodeOfCare": episode_of_care,
    "MedicationRequest": medication_event, "MedicationDispense": medication_event,
    "MedicationStatement": medication_event, "MedicationAdministration": medication_event,
    "Medication": medication, "AllergyIntolerance": allergy, "Immunization": immunization,
    "DocumentReference": document_reference, "Binary": binary, "Composition": composition,
    "Encounter": encounter, "Patient": patient, "Practitioner": person,
    "RelatedPerson": person, "Organization": person, "Location": person,
    "PractitionerRole": person,
}

#: Resource types we map in detail; anything else also keeps its narrative text.
DETAILED = frozenset(MAPPERS) - {"Binary"}

__all__ = ["MAPPERS", "DETAILED", "TYPE_TITLE_NL", "generic"]
