"""The International Patient Summary: a FHIR R4 document Bundle built from the record.

The record holds STU3 and R4 resources from many providers; the IPS is built from the
normalised record items (codes, dates, values, statuses: the same for both versions)
as new R4 resources with the IPS profiles, not by converting the originals. Sections
(LOINC codes as the IPS Composition requires): problems, medication, allergies
(required; without data an entry with the IPS "no information" code), immunizations,
results, procedures, devices and vital signs (without data: ``emptyReason``). Every
narrative is in Dutch and in English. Decisions in docs/portability.md.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from regie.record import Category

IPS = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
LOINC = "http://loinc.org"
ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
XHTML = "http://www.w3.org/1999/xhtml"
MAX_RESULTS = 50  # the most recent results; a summary, not the whole lab history


@dataclass(frozen=True)
class Section:
    key: str
    loinc: str
    loinc_display: str
    title_nl: str
    title_en: str
    categories: tuple[str, ...]
    required: bool = False
    absent_code: str | None = None  # IPS absent-unknown code for a required section without data
    absent_nl: str = ""
    absent_en: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("problems", "11450-4", "Problem list - Reported", "Problemen", "Problems", (Category.PROBLEMS,),
            True, "no-problem-info", "Geen gegevens over problemen", "No information about problems"),
    Section("medication", "10160-0", "History of Medication use Narrative", "Medicatie", "Medication",
            (Category.MEDICATION,), True, "no-medication-info", "Geen gegevens over medicatie",
            "No information about medications"),
    Section("allergies", "48765-2", "Allergies and adverse reactions Document", "Allergieën en intoleranties",
            "Allergies and intolerances", (Category.ALLERGIES,), True, "no-allergy-info",
            "Geen gegevens over allergieën", "No information about allergies"),
    Section("immunizations", "11369-6", "History of Immunization Narrative", "Vaccinaties", "Immunizations",
            (Category.IMMUNIZATIONS,)),
    Section("results", "30954-2", "Relevant diagnostic tests/laboratory data Narrative", "Uitslagen", "Results",
            (Category.RESULTS,)),
    Section("procedures", "47519-4", "History of Procedures Document", "Verrichtingen", "Procedures",
            (Category.PROCEDURES,)),
    Section("devices", "46264-8", "History of medical device use", "Hulpmiddelen", "Medical devices",
            (Category.DEVICES,)),
    Section("vital_signs", "8716-3", "Vital signs", "Metingen", "Vital signs", (Category.VITAL_SIGNS,)),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
CATEGORIES = {c.value for s in SECTIONS for c in s.categories}

# Record item kinds that make an entry of each section (others in the category are left out:
# e.g. an EpisodeOfCare is not a Condition, a dispense is not a statement of use).
_RESOURCE_TYPES = {
    "problems": {"Condition"},
    "medication": {"MedicationStatement", "MedicationRequest"},
    "allergies": {"AllergyIntolerance"},
    "immunizations": {"Immunization"},
    "results": {"Observation"},
    "procedures": {"Procedure"},
    "devices": {"DeviceUseStatement", "Device"},
    "vital_signs": {"Observation"},
}


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _concept(item: dict[str, Any]) -> dict[str, Any]:
    codings = [{k: v for k, v in (("system", c.get("system")), ("code", c.get("code")),
                                  ("display", c.get("display"))) if v}
               for c in item.get("codes") or [] if c.get("system") and c.get("code")]
    concept: dict[str, Any] = {"text": item.get("title") or "-"}
    if codings:
        concept["coding"] = codings
    return concept


def _date(value: str | None) -> str | None:
    """A FHIR dateTime as R4 accepts it (a time needs a zone; the record keeps what the source gave)."""
    if not value:
        return None
    if "T" in value and not (value.endswith("Z") or "+" in value[10:] or "-" in value[10:]):
        return value[:10]
    return value


def _quantity(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value.get("value") is not None:
        out["value"] = float(value["value"]) if "." in str(value["value"]) else int(value["value"])
    for key in ("comparator", "unit", "system", "code"):
        if value.get(key):
            out[key] = value[key]
    return out


def _value(resource: dict[str, Any], value: dict[str, Any] | None) -> None:
    if not value:
        return
    kind = value.get("type")
    if kind == "quantity" and value.get("value") is not None:
        resource["valueQuantity"] = _quantity(value)
    elif kind == "coding":
        resource["valueCodeableConcept"] = {
            "coding": [{k: value[k] for k in ("system", "code", "display") if value.get(k)}],
            **({"text": value["display"]} if value.get("display") else {})}
    elif kind == "boolean":
        resource["valueBoolean"] = bool(value["value"])
    elif kind == "integer":
        resource["valueInteger"] = int(value["value"])
    elif kind in ("text", "decimal", "date") and value.get("value") is not None:
        resource["valueString"] = str(value["value"])


class _Builder:
    def __init__(self, patient_ref: str) -> None:
        self.patient = {"reference": patient_ref}
        self.entries: list[dict[str, Any]] = []

    def add(self, resource: dict[str, Any]) -> str:
        full_url = _urn()
        resource.setdefault("id", full_url.rsplit(":", 1)[1])
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    # -- one builder per section ---------------------------------------------------
    def problems(self, item: dict[str, Any], source: str) -> str:
        active = item.get("active")
        resource: dict[str, Any] = {
            "resourceType": "Condition", "meta": {"profile": [IPS + "Condition-uv-ips"]},
            "clinicalStatus": _clinical("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "active" if active is not False else "resolved"),
            "code": _concept(item), "subject": self.patient,
        }
        if onset := _date(item.get("date")):
            resource["onsetDateTime"] = onset
        if item.get("end") and active is False:
            resource["abatementDateTime"] = _date(item["end"])
        return self.add(resource)

    def medication(self, item: dict[str, Any], source: str) -> str:
        status = "active" if item.get("active") is not False else "completed"
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement", "meta": {"profile": [IPS + "MedicationStatement-uv-ips"]},
            "status": status, "medicationCodeableConcept": _concept(item), "subject": self.patient,
            "informationSource": {"display": source},
        }
        start, end = _date(item.get("date")), _date(item.get("end"))
        if start or end:
            resource["effectivePeriod"] = {k: v for k, v in (("start", start), ("end", end)) if v}
        else:
            resource["_effectiveDateTime"] = _unknown()
        dosage = [d["text"] for d in item.get("details") or [] if "dos" in d.get("label", "").lower()]
        if dosage:
            resource["dosage"] = [{"text": text} for text in dosage[:3]]
        return self.add(resource)

    def allergies(self, item: dict[str, Any], source: str) -> str:
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance", "meta": {"profile": [IPS + "AllergyIntolerance-uv-ips"]},
            "clinicalStatus": _clinical("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                        "active" if item.get("active") is not False else "resolved"),
            "code": _concept(item), "patient": self.patient,
        }
        if onset := _date(item.get("date")):
            resource["onsetDateTime"] = onset
        return self.add(resource)

    def immunizations(self, item: dict[str, Any], source: str) -> str:
        resource: dict[str, Any] = {
            "resourceType": "Immunization", "meta": {"profile": [IPS + "Immunization-uv-ips"]},
            "status": "completed", "vaccineCode": _concept(item), "patient": self.patient,
        }
        when = _date(item.get("date"))
        if when:
            resource["occurrenceDateTime"] = when
        else:
            resource["occurrenceString"] = "onbekend / unknown"
        return self.add(resource)

    def _observation(self, item: dict[str, Any], source: str, profile: str, category: str) -> str:
        status = item.get("status") if item.get("status") in (
            "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error",
            "unknown") else "final"
        resource: dict[str, Any] = {
            "resourceType": "Observation", "meta": {"profile": [profile]}, "status": status,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": _concept(item), "subject": self.patient, "performer": [{"display": source}],
        }
        when = _date(item.get("date"))
        if when:
            resource["effectiveDateTime"] = when
        else:
            resource["_effectiveDateTime"] = _unknown()
        _value(resource, item.get("value"))
        components = []
        for component in item.get("components") or []:
            part: dict[str, Any] = {"code": _concept({"title": component.get("title"),
                                                      "codes": component.get("codes")})}
            _value(part, component.get("value"))
            components.append(part)
        if components:
            resource["component"] = components
        return self.add(resource)

    def results(self, item: dict[str, Any], source: str) -> str:
        return self._observation(item, source, IPS + "Observation-results-laboratory-uv-ips", "laboratory")

    def vital_signs(self, item: dict[str, Any], source: str) -> str:
        return self._observation(item, source, "http://hl7.org/fhir/StructureDefinition/vitalsigns", "vital-signs")

    def procedures(self, item: dict[str, Any], source: str) -> str:
        resource: dict[str, Any] = {
            "resourceType": "Procedure", "meta": {"profile": [IPS + "Procedure-uv-ips"]},
            "status": "completed", "code": _concept(item), "subject": self.patient,
        }
        when = _date(item.get("date"))
        if when:
            resource["performedDateTime"] = when
        else:
            resource["performedString"] = "onbekend / unknown"
        return self.add(resource)

    def devices(self, item: dict[str, Any], source: str) -> str:
        device = self.add({"resourceType": "Device", "meta": {"profile": [IPS + "Device-uv-ips"]},
                           "type": _concept(item), "patient": self.patient})
        resource: dict[str, Any] = {
            "resourceType": "DeviceUseStatement", "meta": {"profile": [IPS + "DeviceUseStatement-uv-ips"]},
            "status": "active" if item.get("active") is not False else "completed",
            "subject": self.patient, "device": {"reference": device},
        }
        if when := _date(item.get("date")):
            resource["timingDateTime"] = when
        return self.add(resource)

    def absent(self, section: Section) -> str:
        concept = {"coding": [{"system": ABSENT, "code": section.absent_code, "display": section.absent_en}],
                   "text": section.absent_en}
        if section.key == "problems":
            return self.add({"resourceType": "Condition", "meta": {"profile": [IPS + "Condition-uv-ips"]},
                             "code": concept, "subject": self.patient})
        if section.key == "allergies":
            return self.add({"resourceType": "AllergyIntolerance",
                             "meta": {"profile": [IPS + "AllergyIntolerance-uv-ips"]},
                             "code": concept, "patient": self.patient})
        return self.add({"resourceType": "MedicationStatement",
                         "meta": {"profile": [IPS + "MedicationStatement-uv-ips"]}, "status": "unknown",
                         "medicationCodeableConcept": concept, "subject": self.patient,
                         "_effectiveDateTime": _unknown()})


def _clinical(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _unknown() -> dict[str, Any]:
    return {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                           "valueCode": "unknown"}]}


def _line(item: dict[str, Any]) -> str:
    parts = [item.get("title") or "-"]
    value = item.get("value") or {}
    if value.get("type") == "quantity" and value.get("value") is not None:
        parts.append(f"{value['value']} {value.get('unit') or value.get('code') or ''}".strip())
    elif value.get("type") in ("text", "integer", "decimal") and value.get("value") is not None:
        parts.append(str(value["value"]))
    elif value.get("type") == "coding" and value.get("display"):
        parts.append(value["display"])
    if item.get("date"):
        parts.append(item["date"][:10])
    return " · ".join(parts)


def _narrative(title_nl: str, title_en: str, lines: list[str], empty_nl: str, empty_en: str) -> dict[str, Any]:
    def half(lang: str, title: str, empty: str) -> str:
        body = ("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>") if lines \
            else f"<p>{escape(empty)}</p>"
        return f'<div lang="{lang}" xml:lang="{lang}"><p><b>{escape(title)}</b></p>{body}</div>'

    return {"status": "generated",
            "div": f'<div xmlns="{XHTML}">{half("nl", title_nl, empty_nl)}{half("en", title_en, empty_en)}</div>'}


def _patient(original: dict[str, Any] | None, fallback_name: str) -> dict[str, Any]:
    """An IPS Patient from the record's Patient resource (name, identifiers, gender, birth date)."""
    patient: dict[str, Any] = {"resourceType": "Patient", "meta": {"profile": [IPS + "Patient-uv-ips"]}}
    source = original or {}
    identifiers = [{k: i[k] for k in ("system", "value") if isinstance(i.get(k), str)}
                   for i in source.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    if identifiers:
        patient["identifier"] = identifiers
    names = []
    for name in source.get("name") or []:
        if not isinstance(name, dict):
            continue
        clean = {k: name[k] for k in ("text", "family") if isinstance(name.get(k), str)}
        if isinstance(name.get("given"), list):
            clean["given"] = [g for g in name["given"] if isinstance(g, str)]
        if clean:
            names.append(clean)
    patient["name"] = names or [{"text": fallback_name}]
    if source.get("gender") in ("male", "female", "other", "unknown"):
        patient["gender"] = source["gender"]
    if isinstance(source.get("birthDate"), str):
        patient["birthDate"] = source["birthDate"]
    else:
        patient["_birthDate"] = _unknown()
    return patient


def build_ips(items: Iterable[tuple[dict[str, Any], str]], *, patient: dict[str, Any] | None,
              fallback_name: str, now: datetime, sections: Iterable[str] = SECTION_KEYS) -> dict[str, Any]:
    """The IPS document Bundle. ``items``: (record item dict, source name), newest first;
    ``patient``: the record's Patient resource (any version), if there is one."""
    wanted = set(sections)
    by_section: dict[str, list[tuple[dict[str, Any], str]]] = {s.key: [] for s in SECTIONS}
    seen_vitals: set[str] = set()
    for item, source in items:
        for section in SECTIONS:
            if item.get("category") not in section.categories or section.key not in wanted:
                continue
            if item.get("resource_type") not in _RESOURCE_TYPES[section.key]:
                continue
            if item.get("status") == "entered-in-error":
                continue
            if section.key == "medication" and item.get("active") is False:
                continue  # the IPS lists current medication
            if section.key == "results" and len(by_section["results"]) >= MAX_RESULTS:
                continue
            if section.key == "devices" and item.get("resource_type") == "Device":
                continue  # the statement of use makes its own Device
            if section.key == "vital_signs":
                code = item.get("kind", "") + "|" + "|".join(
                    f"{c.get('system')}#{c.get('code')}" for c in item.get("codes") or [])
                if code in seen_vitals:
                    continue  # the latest value of each kind of measurement
                seen_vitals.add(code)
            by_section[section.key].append((item, source))
    patient_url = _urn()
    builder = _Builder(patient_url)
    author_url = _urn()
    composition_sections = []
    for section in SECTIONS:
        if section.key not in wanted and not section.required:
            continue
        chosen = by_section[section.key]
        refs = [getattr(builder, section.key)(item, source) for item, source in chosen]
        lines = [_line(item) for item, _ in chosen]
        entry: dict[str, Any] = {
            "title": f"{section.title_nl} / {section.title_en}",
            "code": {"coding": [{"system": LOINC, "code": section.loinc, "display": section.loinc_display}]},
        }
        if not refs and section.required:
            refs = [builder.absent(section)]
            entry["text"] = _narrative(section.title_nl, section.title_en, [], section.absent_nl, section.absent_en)
        elif not refs:
            entry["text"] = _narrative(section.title_nl, section.title_en, [], "Geen gegevens", "No information")
            entry["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                                "code": "unavailable", "display": "Unavailable"}]}
        else:
            entry["text"] = _narrative(section.title_nl, section.title_en, lines, "", "")
        if refs:
            entry["entry"] = [{"reference": ref} for ref in refs]
        composition_sections.append(entry)
    stamp = now.isoformat(timespec="seconds")
    composition = {
        "resourceType": "Composition", "id": str(uuid.uuid4()),
        "meta": {"profile": [IPS + "Composition-uv-ips"]},
        "language": "nl",
        "text": _narrative("Patiëntsamenvatting", "International Patient Summary",
                           [f"Gemaakt met Regie / made with Regie: {stamp}"], "", ""),
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_url}, "date": stamp,
        "author": [{"reference": author_url}],
        "title": "Patiëntsamenvatting / International Patient Summary",
        "confidentiality": "N",
        "section": composition_sections,
    }
    author = {"resourceType": "Device", "id": author_url.rsplit(":", 1)[1],
              "deviceName": [{"name": "Regie", "type": "user-friendly-name"}], "patient": {"reference": patient_url}}
    patient_resource = _patient(patient, fallback_name)
    patient_resource["id"] = patient_url.rsplit(":", 1)[1]
    entries = [{"fullUrl": f"urn:uuid:{composition['id']}", "resource": composition},
               {"fullUrl": patient_url, "resource": patient_resource},
               {"fullUrl": author_url, "resource": author}, *builder.entries]
    return {
        "resourceType": "Bundle", "id": str(uuid.uuid4()),
        "meta": {"profile": [IPS + "Bundle-uv-ips"]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": _urn()},
        "type": "document", "timestamp": stamp, "entry": entries,
    }
