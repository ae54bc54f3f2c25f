"""A small FHIR R4 record for one user: a patient, current and stopped medication, an
allergy, a problem, a recent and an old lab result. Every title is a unique string the
tests can look for."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from regie.fhir import FhirVersion
from regie.store.ingest import RecordService
from regie.web.context import AppContext

NAME = "Anna Zeldenrijk"
BIRTH = "1961-04-09"
MEDICINE = "Metoprololsuccinaat retard 50mg"
STOPPED = "Omeprazol capsule 20mg"
ALLERGY = "Pindanotenallergie"
PROBLEM = "Diabetes mellitus type 2 zeldzaam"
RECENT_LAB = "Kalium in serum recent"
OLD_LAB = "Natrium in serum oud"


def _lab(resource_id: str, title: str, when: datetime, value: float) -> dict:
    return {"resourceType": "Observation", "id": resource_id, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3" if "Kalium" in title else "2951-2",
                                 "display": title}], "text": title},
            "effectiveDateTime": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}


def bundle(now: datetime | None = None) -> bytes:
    now = now or datetime.now(timezone.utc)
    clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    resources = [
        {"resourceType": "Patient", "id": "pat", "name": [{"family": NAME.split()[1], "given": [NAME.split()[0]]}],
         "birthDate": BIRTH},
        {"resourceType": "MedicationStatement", "id": "m1", "status": "active",
         "medicationCodeableConcept": {"text": MEDICINE}, "subject": {"reference": "Patient/pat"},
         "effectivePeriod": {"start": "2023-01-10"}},
        {"resourceType": "MedicationStatement", "id": "m2", "status": "stopped",
         "medicationCodeableConcept": {"text": STOPPED}, "subject": {"reference": "Patient/pat"},
         "effectivePeriod": {"start": "2020-01-10", "end": "2021-01-10"}},
        {"resourceType": "AllergyIntolerance", "id": "a1",
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                        "code": "active"}]},
         "code": {"text": ALLERGY}, "patient": {"reference": "Patient/pat"}, "onsetDateTime": "2001-05-01"},
        {"resourceType": "Condition", "id": "c1",
         "clinicalStatus": {"coding": [{"system": clinical, "code": "active"}]},
         "code": {"text": PROBLEM}, "subject": {"reference": "Patient/pat"}, "onsetDateTime": "2015-02-01"},
        _lab("l1", RECENT_LAB, now - timedelta(days=20), 4.1),
        _lab("l2", OLD_LAB, now - timedelta(days=800), 139),
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]})


def medication_bundle(resource_id: str, title: str) -> bytes:
    """One more current medicine, as a later delivery would bring it."""
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationStatement", "id": resource_id, "status": "active",
        "medicationCodeableConcept": {"text": title}, "subject": {"reference": "Patient/pat"},
        "effectivePeriod": {"start": "2024-05-01"}}}]})


def load_record(context: AppContext, email: str, data: bytes | None = None, name: str = "huisarts.json") -> None:
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    outcome = service.import_bytes(service.keys(user), data or bundle(), name=name, source="Huisarts De Linde",
                                   fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error


LETTER = "Ontslagbrief cardiologie Zeldenrijk"
PDF = b"%PDF-1.4\n% a tiny test document\n"


def document_bundle() -> bytes:
    """A letter with its PDF inside, as a hospital delivers it."""
    import base64

    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "DocumentReference", "id": "d1", "status": "current", "date": "2024-04-02T10:00:00+02:00",
        "type": {"text": LETTER}, "description": LETTER, "subject": {"reference": "Patient/pat"},
        "content": [{"attachment": {"contentType": "application/pdf", "title": LETTER,
                                    "data": base64.b64encode(PDF).decode()}}]}}]})
