"""What Regie sends to a provider (MedMij delen): self-measurements as a ``batch`` Bundle.

Shape as the Self-measurements 2.0 qualification scripts expect (the send fixtures): a
Patient entry (nl-core-patient) and one entry per Observation, each a POST with a
``urn:uuid`` fullUrl and no id; ``meta.profile`` on every resource; codings with system
and code; every reference with a display; no BSN anywhere (no patient identifier at all:
the provider knows the patient from the MedMij authorisation).

:func:`check_bundle` is the same set of checks, used by the tests and before sending.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from regie.owndata import measurements as meas

PATIENT_PROFILE = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
_NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")


def measurements_bundle(items: list[meas.Measurement], patient_name: str) -> dict[str, Any]:
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    name = patient_name.strip()
    patient_ref = {"reference": patient_url, "display": name}
    entries: list[dict[str, Any]] = [{
        "fullUrl": patient_url,
        "resource": {"resourceType": "Patient", "meta": {"profile": [PATIENT_PROFILE]},
                     "name": [{"text": name}]},
        "request": {"method": "POST", "url": "Patient"},
    }]
    for m in items:
        resource = meas.to_fhir(m)
        resource.pop("id", None)
        resource.pop("related", None)  # derived-from points at Regie's own ids
        if "meta" not in resource:  # steps: no Nictiz profile; the generic zib measurement
            resource["meta"] = {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-GeneralMeasurement"]}
        resource["subject"] = dict(patient_ref)
        resource["performer"] = [dict(patient_ref)]
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource,
                        "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": "batch", "entry": entries}


def _walk(value: Any, path: str = "$"):
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]")


def check_bundle(bundle: dict[str, Any], bsn: str | None = None) -> list[str]:
    """Problems the qualification checks would find (empty: fine)."""
    problems = []
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in ("batch", "transaction"):
        problems.append("the Bundle type must be batch or transaction")
    full_urls = set()
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") or {}
        request = entry.get("request") or {}
        full_url = entry.get("fullUrl", "")
        if not full_url.startswith("urn:uuid:") or full_url in full_urls:
            problems.append(f"entry {index}: fullUrl must be a unique urn:uuid")
        full_urls.add(full_url)
        if request.get("method") == "POST" and resource.get("id"):
            problems.append(f"entry {index}: a POST carries no id")
        if request.get("url") != resource.get("resourceType"):
            problems.append(f"entry {index}: request.url must be the resource type")
        if not (resource.get("meta") or {}).get("profile"):
            problems.append(f"entry {index}: no meta.profile")
    for path, value in _walk(bundle):
        if isinstance(value, dict):
            if "coding" in value:
                for coding in value["coding"]:
                    if not coding.get("system") or not coding.get("code"):
                        problems.append(f"{path}: a coding without system and code")
            if "reference" in value and not value.get("display"):
                problems.append(f"{path}: a reference without display")
            if value.get("system") == BSN_SYSTEM:
                problems.append(f"{path}: a BSN identifier")
        if bsn and isinstance(value, str) and bsn in value:
            problems.append(f"{path}: contains the BSN")
    for path, value in _walk(bundle):
        if isinstance(value, str) and path.endswith(".reference") and value not in full_urls:
            problems.append(f"{path}: a reference to something not in the Bundle")
    return problems
