"""A PDF to a provider as the PDF/A standard's ``transaction`` Bundle (service 51).

Shape as the PDF/A 3.0 qualification fixtures: a Patient (nl-core-patient, name only: no
BSN), a DocumentManifest (IHE.MHD.DocumentManifest) pointing at the DocumentReference
(IHE.MHD.Minimal.DocumentReference), whose attachment ``url`` is the Binary's
``urn:uuid`` fullUrl; every entry a POST with a ``urn:uuid`` fullUrl and no id; every
reference with a display. The Binary carries no ``meta.profile`` (as in the fixtures).
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Any

from regie.owndata.send import PATIENT_PROFILE, check_bundle

MANIFEST_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.DocumentManifest"
REFERENCE_PROFILE = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference"
MAX_PDF_BYTES = 10 * 1024 * 1024
SOURCE = "urn:regie:pgo"

# (system, code, display) as in the fixtures; the key is what forms and the API send.
DOCUMENT_TYPES: dict[str, tuple[str, str, str]] = {
    "discharge_letter": ("http://snomed.info/sct", "11071000146104", "ontslagbrief"),
    "referral_letter": ("http://snomed.info/sct", "11051000146107", "verwijsbrief"),
    "consult_note": ("http://loinc.org", "11488-4", "Consult note"),
}


class NotAPdf(ValueError):
    pass


def check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        raise NotAPdf("not a PDF")
    if len(data) > MAX_PDF_BYTES:
        raise NotAPdf("too large")
    if b"%%EOF" not in data[-2048:]:
        raise NotAPdf("incomplete PDF")


def document_bundle(pdf: bytes, *, title: str, patient_name: str, doc_type: str = "consult_note",
                    when: datetime | None = None) -> dict[str, Any]:
    check_pdf(pdf)
    system, code, display = DOCUMENT_TYPES[doc_type]
    now = (when or datetime.now().astimezone()).isoformat(timespec="seconds")
    name = patient_name.strip()
    title = title.strip()
    patient_url, manifest_url, reference_url, binary_url = (f"urn:uuid:{uuid.uuid4()}" for _ in range(4))
    patient_ref = {"reference": patient_url, "display": name}
    type_ = {"coding": [{"system": system, "code": code, "display": display}]}
    digest = hashlib.sha1(pdf).digest()  # noqa: S324 - FHIR STU3 Attachment.hash is SHA-1
    master = {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": patient_url, "request": {"method": "POST", "url": "Patient"},
         "resource": {"resourceType": "Patient", "meta": {"profile": [PATIENT_PROFILE]}, "name": [{"text": name}]}},
        {"fullUrl": manifest_url, "request": {"method": "POST", "url": "DocumentManifest"},
         "resource": {"resourceType": "DocumentManifest", "meta": {"profile": [MANIFEST_PROFILE]},
                      "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
                      "status": "current", "type": type_, "subject": dict(patient_ref), "created": now,
                      "author": [dict(patient_ref)], "source": SOURCE, "description": title,
                      "content": [{"pReference": {"reference": reference_url, "display": title}}]}},
        {"fullUrl": reference_url, "request": {"method": "POST", "url": "DocumentReference"},
         "resource": {"resourceType": "DocumentReference", "meta": {"profile": [REFERENCE_PROFILE]},
                      "masterIdentifier": master, "status": "current", "type": type_,
                      "subject": dict(patient_ref), "indexed": now, "author": [dict(patient_ref)],
                      "description": title,
                      "content": [{"attachment": {
                          "contentType": "application/pdf", "language": "nl", "url": binary_url, "title": title,
                          "size": len(pdf), "hash": base64.b64encode(digest).decode()}}]}},
        {"fullUrl": binary_url, "request": {"method": "POST", "url": "Binary"},
         "resource": {"resourceType": "Binary", "contentType": "application/pdf",
                      "content": base64.b64encode(pdf).decode()}},
    ]}


def check_document_bundle(bundle: dict[str, Any], bsn: str | None = None) -> list[str]:
    """The qualification checks; a Binary needs no profile (as in the fixtures)."""
    binaries = {i for i, e in enumerate(bundle.get("entry") or [])
                if (e.get("resource") or {}).get("resourceType") == "Binary"}
    problems = [p for p in check_bundle(bundle, bsn)
                if not any(p == f"entry {i}: no meta.profile" for i in binaries)]
    urls = {e.get("fullUrl") for e in bundle.get("entry") or []}
    for e in bundle.get("entry") or []:
        if (e.get("resource") or {}).get("resourceType") != "DocumentReference":
            continue
        for c in (e.get("resource") or {}).get("content") or []:
            url = (c.get("attachment") or {}).get("url")
            if url and url not in urls:
                problems.append("an attachment url that is not in the Bundle")
    return problems


def summary(bundle: dict[str, Any]) -> dict[str, Any]:
    """What the preview shows about a document Bundle (not the PDF's bytes)."""
    out: dict[str, Any] = {}
    for e in bundle.get("entry") or []:
        r = e.get("resource") or {}
        if r.get("resourceType") == "DocumentReference":
            a = (r.get("content") or [{}])[0].get("attachment") or {}
            out = {"title": a.get("title"), "size": a.get("size"),
                   "type": ((r.get("type") or {}).get("coding") or [{}])[0].get("display")}
    return out
