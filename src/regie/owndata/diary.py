"""Symptom diary (klachtendagboek) entries as FHIR STU3 Observations.

Shape (documented in docs/own-data.md): one Observation per entry,

* ``code``: a Regie coding ``urn:regie:own-data|symptom-diary`` (this is what puts it in
  the ``diary`` category) plus SNOMED 418799008 "Symptom";
* ``effectiveDateTime``: when; ``valueQuantity``: the severity 0-10 (``{score}``);
* ``component``: one per symptom (SNOMED 418799008, the symptom as ``valueCodeableConcept.text``);
* ``comment``: the free text; ``meta.tag``: the user's tags (system ``urn:regie:diary-tag``);
* ``subject``/``performer``: ``Patient/self``.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from regie.owndata.measurements import N_, OWN_DATA_SYSTEM, SELF_REFERENCE, SNOMED, UCUM, fhir_time

DIARY_CODE = "symptom-diary"
TAG_SYSTEM = "urn:regie:diary-tag"
_SPACES = re.compile(r"\s+")
_GRACE = timedelta(minutes=5)


class DiaryError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class DiaryEntry:
    time: datetime
    severity: int
    symptoms: list[str]
    text: str = ""
    tags: list[str] = field(default_factory=list)
    resource_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "final"


def split_list(value: Any) -> list[str]:
    """Symptoms or tags from a list or from text separated by commas or new lines."""
    if value is None:
        return []
    parts = value if isinstance(value, list) else re.split(r"[,\n;]", str(value))
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            continue
        cleaned = _SPACES.sub(" ", part).strip()
        if cleaned and cleaned.casefold() not in {o.casefold() for o in out}:
            out.append(cleaned)
    return out


def check(*, time: datetime | None, severity: Any, symptoms: Any, text: Any = "", tags: Any = None,
          now: datetime | None = None) -> DiaryEntry:
    errors: dict[str, str] = {}
    if time is None:
        errors["time"] = N_("Fill in the date and time.")
    elif time.tzinfo is None:
        errors["time"] = N_("Give the time with a time zone.")
    elif time > (now or datetime.now(timezone.utc)).replace(microsecond=0) + _GRACE:
        errors["time"] = N_("The time is in the future.")
    level: int | None = None
    if isinstance(severity, bool):
        severity = None
    try:
        if isinstance(severity, (int, float)) or (isinstance(severity, str) and severity.strip()):
            as_float = float(str(severity).strip().replace(",", "."))
            if as_float == int(as_float):
                level = int(as_float)
    except (ValueError, OverflowError):
        level = None
    if level is None:
        errors["severity"] = N_("Choose how bad it was, from 0 to 10.")
    elif not 0 <= level <= 10:
        errors["severity"] = N_("The severity is a number from 0 to 10.")
    names = split_list(symptoms)
    if not names:
        errors["symptoms"] = N_("Fill in at least one complaint.")
    elif len(names) > 20 or any(len(n) > 100 for n in names):
        errors["symptoms"] = N_("Use at most 20 complaints of at most 100 characters each.")
    labels = [t.casefold() for t in split_list(tags)]
    if len(labels) > 20 or any(len(t) > 50 for t in labels):
        errors["tags"] = N_("Use at most 20 tags of at most 50 characters each.")
    note = text if isinstance(text, str) else ""
    if len(note) > 5000:
        errors["text"] = N_("Use at most 5000 characters.")
    if errors:
        raise DiaryError(errors)
    assert time is not None and level is not None
    return DiaryEntry(time.replace(microsecond=0), level, names, note.strip(), labels)



def to_fhir(entry: DiaryEntry) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": entry.resource_id}
    if entry.tags:
        resource["meta"] = {"tag": [{"system": TAG_SYSTEM, "code": tag} for tag in entry.tags]}
    resource["identifier"] = [{"system": OWN_DATA_SYSTEM, "value": entry.resource_id}]
    resource["status"] = entry.status
    resource["category"] = [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "survey",
                                         "display": "Survey"}]}]
    resource["code"] = {"coding": [{"system": OWN_DATA_SYSTEM, "code": DIARY_CODE, "display": "Klachtendagboek"},
                                   {"system": SNOMED, "code": "418799008", "display": "Symptom"}],
                        "text": "Klachtendagboek"}
    resource["subject"] = dict(SELF_REFERENCE)
    resource["effectiveDateTime"] = fhir_time(entry.time)
    resource["performer"] = [dict(SELF_REFERENCE)]
    resource["valueQuantity"] = {"value": entry.severity, "unit": "0-10", "system": UCUM, "code": "{score}"}
    if entry.text:
        resource["comment"] = entry.text
    resource["component"] = [
        {"code": {"coding": [{"system": SNOMED, "code": "418799008", "display": "Symptom"}]},
         "valueCodeableConcept": {"text": name}}
        for name in entry.symptoms
    ]
    return resource


def is_diary(resource: dict[str, Any]) -> bool:
    return any(c.get("system") == OWN_DATA_SYSTEM and c.get("code") == DIARY_CODE
               for c in (resource.get("code") or {}).get("coding", ()))


def from_fhir(resource: dict[str, Any]) -> DiaryEntry | None:
    if not is_diary(resource):
        return None
    try:
        time = datetime.fromisoformat(resource.get("effectiveDateTime", ""))
    except ValueError:
        return None
    return DiaryEntry(
        time=time,
        severity=int((resource.get("valueQuantity") or {}).get("value", 0)),
        symptoms=[c.get("valueCodeableConcept", {}).get("text", "") for c in resource.get("component", ())],
        text=resource.get("comment", ""),
        tags=[t.get("code", "") for t in (resource.get("meta") or {}).get("tag", ()) if t.get("system") == TAG_SYSTEM],
        resource_id=resource.get("id") or str(uuid.uuid4()),
        status=resource.get("status", "final"),
    )


def api_dict(entry: DiaryEntry) -> dict[str, Any]:
    return {"time": fhir_time(entry.time), "severity": entry.severity, "symptoms": entry.symptoms,
            "text": entry.text, "tags": entry.tags}


def matches(entry: DiaryEntry, query: str) -> bool:
    needle = query.casefold().strip()
    if not needle:
        return True
    return any(needle in s.casefold() for s in (*entry.symptoms, entry.text, *entry.tags))
