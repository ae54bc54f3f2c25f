"""What the qualification scripts check on the sends of questionnaires (906) and
correction requests (909), on top of the generic Bundle checks in :mod:`.receive`.

Written from the standards (Questionnaires 2.0, STU3; Patient Corrections 1.0, R4), not
from Regie's own code, so a send that passes here was checked independently. Every
finding is a warning in the received log; the tests demand none.
"""

from __future__ import annotations

import json
from typing import Any

from .search import PatientData

__all__ = ["check_transaction", "check_update"]

BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
TASK_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireProvisioningTask"
QR_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireResponse"
DWV_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/dwv-PatientCorrectionsCommunication"
DWV_CATEGORY = "medRecCxReq"
_VALUE_FOR = {
    "boolean": {"valueBoolean"}, "decimal": {"valueDecimal"}, "integer": {"valueInteger"},
    "date": {"valueDate"}, "dateTime": {"valueDateTime"}, "time": {"valueTime"},
    "string": {"valueString"}, "text": {"valueString"}, "url": {"valueUri"},
    "choice": {"valueCoding"}, "open-choice": {"valueCoding", "valueString"},
    "quantity": {"valueQuantity"}, "attachment": {"valueAttachment"}, "reference": {"valueReference"},
}


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry") or [] if isinstance(e, dict)]


def _profiles(resource: dict[str, Any]) -> list[str]:
    return list((resource.get("meta") or {}).get("profile") or [])


def _bsn_identifiers(value: Any) -> int:
    """BSN identifiers with a value (a masked one, data-absent-reason only, is allowed)."""
    if isinstance(value, dict):
        own = 1 if value.get("system") == BSN_SYSTEM and value.get("value") else 0
        return own + sum(_bsn_identifiers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_bsn_identifiers(v) for v in value)
    return 0


def _bsn_findings(bundle: dict[str, Any], bsn: str) -> list[str]:
    found = []
    if _bsn_identifiers(bundle):
        found.append("the Bundle carries a BSN identifier")
    if bsn and bsn in json.dumps(bundle):
        found.append("the Bundle contains the patient's BSN")
    return found


def _missing_displays(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str) and not value.get("display"):
            out.append(f"{path}: a reference without display")
        for key, child in value.items():
            _missing_displays(child, f"{path}.{key}", out)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _missing_displays(child, f"{path}[{i}]", out)


def check_transaction(service_id: str, bundle: dict[str, Any], data: PatientData, bsn: str) -> list[str]:
    if service_id == "906":
        return _bsn_findings(bundle, bsn) + _questionnaire(bundle, data)
    if service_id == "909":
        return _bsn_findings(bundle, bsn) + _correction(bundle)
    return []


def check_update(service_id: str, resource: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    """A PUT outside a transaction: for 906 only accepting (or refusing) a Task."""
    if service_id != "906":
        return []
    findings = []
    if resource.get("resourceType") != "Task":
        findings.append("only a Task may be updated with PUT")
        return findings
    if existing is None:
        findings.append("the Task is not known")
        return findings
    if existing.get("status") != "requested":
        findings.append(f"the Task was {existing.get('status')}, not requested")
    if resource.get("status") not in ("accepted", "rejected"):
        findings.append("a PUT of a requested Task must set status accepted (or rejected)")
    rest = {k: v for k, v in resource.items() if k not in ("status", "meta", "text", "lastModified")}
    before = {k: v for k, v in existing.items() if k not in ("status", "meta", "text", "lastModified")}
    if rest != before:
        findings.append("the Task's body was changed beyond its status")
    return findings


# --- 906 ------------------------------------------------------------------------------------


def _items_by_link(items: list[dict[str, Any]], out: dict[str, dict[str, Any]],
                   conditional: bool = False) -> None:
    for item in items or []:
        on_condition = conditional or bool(item.get("enableWhen"))
        out[str(item.get("linkId"))] = {**item, "_conditional": on_condition}
        _items_by_link(item.get("item") or [], out, on_condition)


def _answered(items: list[dict[str, Any]], out: dict[str, list[dict[str, Any]]]) -> None:
    for item in items or []:
        out.setdefault(str(item.get("linkId")), []).extend(item.get("answer") or [])
        for answer in item.get("answer") or []:
            _answered(answer.get("item") or [], out)
        _answered(item.get("item") or [], out)


def _questionnaire(bundle: dict[str, Any], data: PatientData) -> list[str]:
    findings: list[str] = []
    if bundle.get("type") != "transaction":
        findings.append("questionnaire answers must come in a transaction Bundle")
    entries = _entries(bundle)
    tasks = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "Task"]
    answers = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse"]
    if len(tasks) != 1 or len(answers) != 1:
        return findings + ["expected one Task and one QuestionnaireResponse"]
    task_entry, qr_entry = tasks[0], answers[0]
    task, qr = task_entry["resource"], qr_entry["resource"]
    if (task_entry.get("request") or {}).get("method") != "PUT":
        findings.append("the Task must be updated with PUT")
    known = data.get(f"Task/{task.get('id')}")
    if known is None:
        return findings + ["the Task is not known at this provider"]
    if known.get("status") != "accepted":
        findings.append(f"the Task was {known.get('status')} before it was answered, not accepted")
    if TASK_PROFILE not in _profiles(task):
        findings.append("the Task declares no vl-QuestionnaireProvisioningTask profile")
    if task.get("status") != "completed":
        findings.append("the answered Task must be completed")
    if task.get("code") != known.get("code"):
        findings.append("the Task's code was changed")
    outputs = [((o or {}).get("valueReference") or {}).get("reference") for o in task.get("output") or []]
    if qr_entry.get("fullUrl") not in outputs:
        findings.append("the Task's output does not point at the QuestionnaireResponse")
    if (qr_entry.get("request") or {}).get("method") != "POST" or qr.get("id"):
        findings.append("the QuestionnaireResponse must be a POST without id")
    if not str(qr_entry.get("fullUrl", "")).startswith("urn:uuid:"):
        findings.append("the QuestionnaireResponse's fullUrl is not a urn:uuid")
    if QR_PROFILE not in _profiles(qr):
        findings.append("the QuestionnaireResponse declares no vl-QuestionnaireResponse profile")
    if qr.get("status") != "completed":
        findings.append("the QuestionnaireResponse must be completed")
    for field in ("subject", "author"):
        ref = str((qr.get(field) or {}).get("reference", ""))
        owner = str((known.get("owner") or known.get("for") or {}).get("reference", ""))
        if not ref or (owner and not ref.endswith(owner)):
            findings.append(f"the QuestionnaireResponse's {field} is not the patient of the Task")
    _missing_displays(qr, "QuestionnaireResponse", findings)
    wanted = next((((i or {}).get("valueReference") or {}).get("reference") for i in known.get("input") or []
                   if "Questionnaire/" in str(((i or {}).get("valueReference") or {}).get("reference", ""))), None)
    questionnaire = data.get(str(wanted)) if wanted else None
    if questionnaire is None:
        return findings + ["the Task's Questionnaire is not known"]
    named = (qr.get("questionnaire") or {}).get("reference")
    if named not in (questionnaire.get("url"), wanted) and not str(named).endswith("/" + str(wanted)):
        findings.append("the QuestionnaireResponse names another Questionnaire than the Task")
    items: dict[str, dict[str, Any]] = {}
    _items_by_link(questionnaire.get("item") or [], items)
    given: dict[str, list[dict[str, Any]]] = {}
    _answered(qr.get("item") or [], given)
    if not any(given.values()):
        findings.append("the QuestionnaireResponse holds no answers")
    for link, values in given.items():
        item = items.get(link)
        if item is None:
            findings.append(f"linkId {link!r} is not in the Questionnaire")
            continue
        if values and item.get("type") in ("group", "display"):
            findings.append(f"linkId {link!r} is a {item.get('type')} and takes no answer")
            continue
        if len(values) > 1 and not item.get("repeats"):
            findings.append(f"linkId {link!r} does not repeat but has {len(values)} answers")
        allowed = _VALUE_FOR.get(str(item.get("type")), set())
        codes = {((o.get("valueCoding") or {}).get("code")) for o in item.get("option") or []}
        for value in values:
            kinds = {k for k in value if k.startswith("value")}
            if len(kinds) != 1 or not kinds <= allowed:
                findings.append(f"linkId {link!r}: {sorted(kinds)} does not fit type {item.get('type')}")
            coding = value.get("valueCoding")
            if isinstance(coding, dict) and codes and coding.get("code") not in codes:
                findings.append(f"linkId {link!r}: code {coding.get('code')!r} is not one of the options")
    for link, item in items.items():
        if item.get("required") and not item["_conditional"] and item.get("type") not in ("group", "display") \
                and not given.get(link):
            findings.append(f"required linkId {link!r} has no answer")
    return findings


# --- 909 ------------------------------------------------------------------------------------


def _correction(bundle: dict[str, Any]) -> list[str]:
    findings: list[str] = []
    if bundle.get("type") != "transaction":
        findings.append("a correction request must come in a transaction Bundle")
    entries = _entries(bundle)
    by_url = {e.get("fullUrl"): e.get("resource") or {} for e in entries}
    for i, e in enumerate(entries):
        if (e.get("request") or {}).get("method") != "POST":
            findings.append(f"entry {i} is not a POST")
    communications = [e.get("resource") or {} for e in entries
                      if (e.get("resource") or {}).get("resourceType") == "Communication"]
    if len(communications) != 1:
        return findings + ["expected exactly one Communication"]
    c = communications[0]
    if DWV_PROFILE not in _profiles(c):
        findings.append("the Communication declares no dwv-PatientCorrectionsCommunication profile")
    codes = [x.get("code") for cat in c.get("category") or [] for x in (cat or {}).get("coding") or []]
    systems = [x.get("system") for cat in c.get("category") or [] for x in (cat or {}).get("coding") or []]
    if DWV_CATEGORY not in codes or not all(systems):
        findings.append("the Communication's category is not medRecCxReq with its system")
    if c.get("status") != "completed":
        findings.append("the Communication's status is not completed")
    if not c.get("sent"):
        findings.append("the Communication has no sent time")
    if not (c.get("topic") or {}).get("text"):
        findings.append("the Communication has no topic text")
    if not any(str((p or {}).get("contentString", "")).strip() for p in c.get("payload") or []):
        findings.append("the Communication has no message")
    for field in ("subject", "sender"):
        target = by_url.get((c.get(field) or {}).get("reference"))
        if (target or {}).get("resourceType") != "Patient":
            findings.append(f"the Communication's {field} is not the Patient in the Bundle")
    recipients = [by_url.get((r or {}).get("reference")) for r in c.get("recipient") or []]
    if not recipients or any((r or {}).get("resourceType") not in ("Organization", "PractitionerRole",
                                                                   "Practitioner") for r in recipients):
        findings.append("the Communication's recipient is not a care provider in the Bundle")
    _missing_displays(c, "Communication", findings)
    return findings
