"""A request to correct the provider's file (dossierwijzigingsverzoek, Patient
Corrections 1.0, FHIR R4, service 909) as a ``transaction`` Bundle.

Shape as the qualification fixtures: a Communication with the
``dwv-PatientCorrectionsCommunication`` profile, category ``medRecCxReq`` (correction
request by the patient), status ``completed``, the subject in ``topic.text``, the
message in ``payload.contentString``, the time in ``sent``; the patient (nl-core-Patient:
name only, no BSN) as subject and sender, the provider (nl-core-HealthcareProvider-
Organization: its name) as recipient. Every entry a POST with a ``urn:uuid`` fullUrl and
no id; every reference with ``type`` and ``display``.

The first version of the Dutch standard has no follow-up from the provider, so the only
status Regie can show is that of the send: the provider received it (or not). The
provider's file is not changed by the request itself.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from regie.fhir.validate import StructuralError, validate_resource
from regie.fhir.version import FhirVersion
from regie.owndata.send import check_bundle

COMMUNICATION_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/dwv-PatientCorrectionsCommunication"
PATIENT_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient"
ORGANIZATION_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/nl-core-HealthcareProvider-Organization"
CATEGORY_SYSTEM = "https://hl7.org/fhir/uv/fhir-patient-correction/CodeSystem/PatientCorrectionCommunicationTypes"
CATEGORY = (CATEGORY_SYSTEM, "medRecCxReq", "Correction request by the Patient or RelatedPerson")
MAX_TOPIC = 200
MAX_TEXT = 4000


def correction_bundle(*, topic: str, text: str, patient_name: str, provider_display: str,
                      sent: datetime) -> dict[str, Any]:
    patient_url, organization_url, communication_url = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    name = patient_name.strip()
    patient = {"reference": patient_url, "type": "Patient", "display": name}
    system, code, display = CATEGORY
    communication = {
        "resourceType": "Communication",
        "meta": {"profile": [COMMUNICATION_PROFILE]},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
        "status": "completed",
        "category": [{"coding": [{"system": system, "code": code, "display": display}]}],
        "subject": dict(patient),
        "topic": {"text": topic.strip()[:MAX_TOPIC]},
        "sent": sent.isoformat(timespec="seconds"),
        "recipient": [{"reference": organization_url, "type": "Organization", "display": provider_display}],
        "sender": dict(patient),
        "payload": [{"contentString": text.strip()[:MAX_TEXT]}],
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": communication_url, "resource": communication,
         "request": {"method": "POST", "url": "Communication"}},
        {"fullUrl": patient_url, "resource": {"resourceType": "Patient", "meta": {"profile": [PATIENT_PROFILE]},
                                              "name": [{"use": "official", "text": name}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": organization_url,
         "resource": {"resourceType": "Organization", "meta": {"profile": [ORGANIZATION_PROFILE]},
                      "name": provider_display},
         "request": {"method": "POST", "url": "Organization"}},
    ]}


def check_correction_bundle(bundle: dict[str, Any], bsn: str | None = None) -> list[str]:
    """Problems the qualification checks would find (empty: fine)."""
    problems = check_bundle(bundle, bsn)
    if bundle.get("type") != "transaction":
        problems.append("the Bundle type must be transaction")
    entries = bundle.get("entry") or []
    by_url = {e.get("fullUrl"): (e.get("resource") or {}) for e in entries}
    communications = [e.get("resource") or {} for e in entries
                      if (e.get("resource") or {}).get("resourceType") == "Communication"]
    if len(communications) != 1:
        problems.append("the Bundle must hold exactly one Communication")
        return problems
    c = communications[0]
    if COMMUNICATION_PROFILE not in (c.get("meta") or {}).get("profile", []):
        problems.append("the Communication must declare the dwv-PatientCorrectionsCommunication profile")
    codes = {(x.get("system"), x.get("code")) for cat in c.get("category") or [] for x in cat.get("coding") or []}
    if (CATEGORY[0], CATEGORY[1]) not in codes:
        problems.append("the Communication's category must be medRecCxReq")
    if c.get("status") != "completed":
        problems.append("the Communication's status must be completed")
    if not (c.get("topic") or {}).get("text"):
        problems.append("the Communication needs a subject (topic.text)")
    if not c.get("sent"):
        problems.append("the Communication needs the time it was sent")
    if not any(str(p.get("contentString", "")).strip() for p in c.get("payload") or []):
        problems.append("the Communication needs a message (payload.contentString)")
    for role, wanted in (("subject", "Patient"), ("sender", "Patient")):
        ref = (c.get(role) or {}).get("reference")
        if by_url.get(ref, {}).get("resourceType") != wanted:
            problems.append(f"the Communication's {role} must be the Patient in the Bundle")
    recipients = [r.get("reference") for r in c.get("recipient") or []]
    if not recipients or any(by_url.get(r, {}).get("resourceType") != "Organization" for r in recipients):
        problems.append("the Communication's recipient must be the Organization in the Bundle")
    for index, entry in enumerate(entries):
        try:
            validate_resource(orjson.dumps(entry.get("resource") or {}), FhirVersion.R4)
        except StructuralError as exc:
            problems.append(f"entry {index}: {exc.reason} at {exc.path}")
    return problems


def correction_summary(bundle: dict[str, Any]) -> dict[str, str]:
    """Subject, message and name as the preview shows them."""
    for entry in bundle.get("entry") or []:
        c = entry.get("resource") or {}
        if c.get("resourceType") == "Communication":
            return {"topic": (c.get("topic") or {}).get("text", ""),
                    "text": "\n".join(str(p.get("contentString", "")) for p in c.get("payload") or []),
                    "name": (c.get("sender") or {}).get("display", "")}
    return {"topic": "", "text": "", "name": ""}
