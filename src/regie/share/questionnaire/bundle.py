"""The ``transaction`` Bundle that answers a questionnaire task (service 906, STU3).

Shape as the Questionnaires 2.0 qualification expects: a PUT of the Task (its own id,
``fullUrl`` = its address at the provider, status ``completed``, an ``output`` pointing at
the answers) and a POST of the QuestionnaireResponse (``urn:uuid`` fullUrl, no id,
``vl-QuestionnaireResponse`` profile, the Questionnaire's canonical URL, status
``completed``). No BSN anywhere: the provider knows the patient from the authorization.

:func:`check_questionnaire_bundle` is the same set of checks, run before anything is
stored as a send and by the tests.
"""
from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

import orjson

from regie.fhir.validate import StructuralError, validate_resource
from regie.fhir.version import FhirVersion
from regie.owndata.send import BSN_SYSTEM, _walk

TASK_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireProvisioningTask"
RESPONSE_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/vl-QuestionnaireResponse"
TASK_CODE = ("http://loinc.org", "74468-0")


def questionnaire_reference(task: dict[str, Any]) -> str | None:
    """The ``Questionnaire/<id>`` (or absolute URL) the Task asks to fill in."""
    for part in task.get("input") or []:
        ref = ((part or {}).get("valueReference") or {}).get("reference")
        if isinstance(ref, str) and (ref.startswith("Questionnaire/") or "/Questionnaire/" in ref):
            return ref
    return None


def title_of(questionnaire: dict[str, Any] | None, task: dict[str, Any]) -> str:
    if questionnaire:
        title = questionnaire.get("title") or questionnaire.get("name")
        if title:
            return str(title)
    for part in task.get("input") or []:
        display = ((part or {}).get("valueReference") or {}).get("display")
        if display:  # "Vragenlijst: <title>" in the Nictiz examples
            return str(display).removeprefix("Vragenlijst: ")
    return str(task.get("description") or "")


def _absolute(base_url: str, reference: dict[str, Any] | None, fallback_display: str) -> dict[str, Any] | None:
    if not reference or not reference.get("reference"):
        return None
    ref = str(reference["reference"])
    if "://" not in ref and not ref.startswith("urn:"):
        ref = f"{base_url.rstrip('/')}/{ref}"
    return {"reference": ref, "display": reference.get("display") or fallback_display}


def response_bundle(task: dict[str, Any], questionnaire: dict[str, Any], items: list[dict[str, Any]], *,
                    base_url: str, authored: datetime, patient_display: str) -> dict[str, Any]:
    task_id = str(task["id"])
    title = title_of(questionnaire, task)
    response_url = f"urn:uuid:{uuid.uuid4()}"
    when = authored.isoformat(timespec="seconds")
    patient = (_absolute(base_url, task.get("for"), patient_display)
               or _absolute(base_url, task.get("owner"), patient_display))
    updated = copy.deepcopy(task)
    updated.pop("text", None)  # the provider's narrative still says "requested"
    meta = updated.setdefault("meta", {})
    meta.pop("versionId", None)
    meta.pop("lastUpdated", None)
    if TASK_PROFILE not in (meta.get("profile") or []):
        meta["profile"] = [*(meta.get("profile") or []), TASK_PROFILE]
    updated["status"] = "completed"
    updated["lastModified"] = when
    updated["output"] = [{"type": {"text": "QuestionnaireResponse"},
                          "valueReference": {"reference": response_url,
                                             "display": f"Antwoorden op vragenlijst '{title}'"}}]
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "meta": {"profile": [RESPONSE_PROFILE]},
        "language": "nl-NL",
        "questionnaire": {"reference": questionnaire.get("url")
                          or f"{base_url.rstrip('/')}/Questionnaire/{questionnaire.get('id')}",
                          "display": f"Vragenlijst: {title}"},
        "status": "completed",
        "authored": when,
        "item": items,
    }
    if patient:
        response["subject"] = dict(patient)
        response["author"] = dict(patient)
        response["source"] = dict(patient)
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"{base_url.rstrip('/')}/Task/{task_id}", "resource": updated,
         "request": {"method": "PUT", "url": f"Task/{task_id}"}},
        {"fullUrl": response_url, "resource": response,
         "request": {"method": "POST", "url": "QuestionnaireResponse"}},
    ]}


def _answers(items: list[dict[str, Any]], path: str, problems: list[str]) -> int:
    count = 0
    for index, item in enumerate(items or []):
        where = f"{path}.item[{index}]"
        if not item.get("linkId"):
            problems.append(f"{where}: no linkId")
        if not item.get("answer") and not item.get("item"):
            problems.append(f"{where}: an item without answer or items")
        for a, answer in enumerate(item.get("answer") or []):
            values = [k for k in answer if k.startswith("value")]
            if len(values) != 1:
                problems.append(f"{where}.answer[{a}]: needs exactly one value")
            coding = answer.get("valueCoding")
            if isinstance(coding, dict) and not coding.get("code"):
                problems.append(f"{where}.answer[{a}]: a coded answer without code")
            count += 1
            count += _answers(answer.get("item") or [], f"{where}.answer[{a}]", problems)
        count += _answers(item.get("item") or [], where, problems)
    return count


def check_questionnaire_bundle(bundle: dict[str, Any], bsn: str | None = None) -> list[str]:
    """Problems the qualification checks would find (empty: fine)."""
    problems: list[str] = []
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        problems.append("the Bundle type must be transaction")
    entries = bundle.get("entry") or []
    tasks = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "Task"]
    responses = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse"]
    if len(tasks) != 1 or len(responses) != 1 or len(entries) != 2:
        problems.append("the Bundle must hold one Task and one QuestionnaireResponse")
        return problems
    full_urls = [e.get("fullUrl") for e in entries]
    if len(set(full_urls)) != len(full_urls):
        problems.append("fullUrls must be unique")
    task_entry, response_entry = tasks[0], responses[0]
    task, response = task_entry["resource"], response_entry["resource"]
    request = task_entry.get("request") or {}
    if request.get("method") != "PUT" or request.get("url") != f"Task/{task.get('id')}" or not task.get("id"):
        problems.append("the Task must be a PUT to Task/<its id>")
    if not str(task_entry.get("fullUrl", "")).endswith(f"/Task/{task.get('id')}"):
        problems.append("the Task's fullUrl must be its address at the provider")
    if task.get("status") != "completed":
        problems.append("the Task's status must be completed")
    codes = {(c.get("system"), c.get("code")) for c in (task.get("code") or {}).get("coding") or []}
    if TASK_CODE not in codes:
        problems.append("the Task's code must be LOINC 74468-0")
    outputs = [((o or {}).get("valueReference") or {}).get("reference") for o in task.get("output") or []]
    if response_entry.get("fullUrl") not in outputs:
        problems.append("the Task's output must point at the QuestionnaireResponse")
    request = response_entry.get("request") or {}
    if request.get("method") != "POST" or request.get("url") != "QuestionnaireResponse" or response.get("id"):
        problems.append("the QuestionnaireResponse must be a POST without id")
    if not str(response_entry.get("fullUrl", "")).startswith("urn:uuid:"):
        problems.append("the QuestionnaireResponse's fullUrl must be a urn:uuid")
    if response.get("status") != "completed":
        problems.append("the QuestionnaireResponse's status must be completed")
    if not (response.get("questionnaire") or {}).get("reference"):
        problems.append("the QuestionnaireResponse must name its Questionnaire")
    if _answers(response.get("item") or [], "$.QuestionnaireResponse", problems) == 0:
        problems.append("the QuestionnaireResponse has no answers")
    for index, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        if not (resource.get("meta") or {}).get("profile"):
            problems.append(f"entry {index}: no meta.profile")
        try:
            validate_resource(orjson.dumps(resource), FhirVersion.STU3)
        except StructuralError as exc:
            problems.append(f"entry {index}: {exc.reason} at {exc.path}")
    # What Regie writes (the answers, the Task's output) carries displays; the rest of the
    # Task goes back as the provider sent it.
    authored = {"response": response, "output": task.get("output")}
    for path, value in _walk(authored):
        if isinstance(value, dict):
            for coding in value.get("coding") or []:
                if isinstance(coding, dict) and (not coding.get("system") or not coding.get("code")):
                    problems.append(f"{path}: a coding without system and code")
            if "reference" in value and not value.get("display"):
                problems.append(f"{path}: a reference without display")
    for path, value in _walk(bundle):
        if isinstance(value, dict):
            if value.get("system") == BSN_SYSTEM:
                problems.append(f"{path}: a BSN identifier")
        if bsn and isinstance(value, str) and bsn in value:
            problems.append(f"{path}: contains the BSN")
    return problems
