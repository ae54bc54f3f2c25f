"""Related items: what points at an item, across sources (record_links, docs/storage.md)."""
from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import delete

from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.record_models import RecordLink
from regie.store.record_queries import RecordQueries
from tests.stamp_guard import as_a_migration
from tests.store.record_helpers import new_user, service_for

G_STANDAARD = "urn:oid:2.16.840.1.113883.2.4.4.10"


@pytest.fixture
def record(db: Database):
    service, keyring = service_for(db)
    return service, service.keys(new_user(db, keyring))


def _store(record, source: str, *resources: dict[str, Any], bundle: bool = False) -> None:
    service, keys = record
    if bundle:
        data = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": r.pop("fullUrl"), "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources]}
    else:
        data = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    outcome = service.import_bytes(keys, orjson.dumps(data), name=f"{source}.json", source=source,
                                   fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error


def _medication(rid: str, code: str, name: str) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": rid,
            "code": {"coding": [{"system": G_STANDAARD, "code": code, "display": name}]}}


def _agreement(rid: str, reference: str, day: str = "2024-03-01") -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": reference},
            "authoredOn": day}


def _dispense(rid: str, reference: str) -> dict[str, Any]:
    return {"resourceType": "MedicationDispense", "id": rid, "status": "completed",
            "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": reference},
            "whenHandedOver": "2024-03-02T10:00:00+01:00"}


def _condition(rid: str, code: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": f"Aandoening {code}"}]},
            "onsetDateTime": "2023-01-10"}


def _observation(rid: str, focus: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": "Patient/p1"},
            "code": {"text": f"Notitie {rid}"}, "focus": [{"reference": focus}], "valueString": rid,
            "effectiveDateTime": "2024-01-05T09:00:00+01:00"}


def _related(record, source: str, resource_type: str, resource_id: str) -> set[str]:
    service, keys = record
    with service.open(keys) as repo:
        row_id = repo.row_for(source, resource_type, resource_id)
        assert row_id is not None
        return {item["resource_id"] for item in RecordQueries(repo).related(row_id)}


def _link_target(record, source: str, resource_type: str, resource_id: str, reference: str) -> str | None:
    service, keys = record
    with service.open(keys) as repo:
        detail = repo.detail(repo.row_for(source, resource_type, resource_id))
        return next(link["item_id"] for link in detail["links"] if link["reference"] == reference)


def _row(record, source: str, resource_type: str, resource_id: str) -> str:
    service, keys = record
    with service.open(keys) as repo:
        return repo.row_for(source, resource_type, resource_id)


def test_a_medication_lists_the_agreements_and_dispenses_of_every_source(record) -> None:
    _store(record, "apotheek", _medication("med-1", "2194", "Paracetamol 500mg"), _dispense("md-1", "Medication/med-1"))
    # The GP does not send the product itself; an absolute reference names the pharmacy's server.
    _store(record, "huisarts", _agreement("ma-1", "Medication/med-1"),
           _agreement("ma-2", "https://fhir.apotheek.example/fhir/Medication/med-1/_history/3", "2024-04-01"),
           _agreement("ma-3", "Medication/other"))
    assert _related(record, "apotheek", "Medication", "med-1") == {"md-1", "ma-1", "ma-2"}
    med = _row(record, "apotheek", "Medication", "med-1")
    assert _link_target(record, "huisarts", "MedicationRequest", "ma-1", "Medication/med-1") == med
    # ...and the agreement shows the product's name, read from the other source.
    service, keys = record
    with service.open(keys) as repo:
        detail = repo.detail(repo.row_for("huisarts", "MedicationRequest", "ma-1"))
    assert detail["title"] == "Paracetamol 500mg"


def test_a_source_that_holds_the_target_itself_keeps_its_references(record) -> None:
    _store(record, "apotheek", _medication("med-1", "2194", "Paracetamol 500mg"))
    _store(record, "ziekenhuis", _medication("med-1", "5555", "Ibuprofen 400mg"), _agreement("ma-z", "Medication/med-1"))
    assert _related(record, "ziekenhuis", "Medication", "med-1") == {"ma-z"}
    assert _related(record, "apotheek", "Medication", "med-1") == set()
    # A third source: two sources hold a different med-1, so its reference is ambiguous.
    _store(record, "huisarts", _agreement("ma-h", "Medication/med-1"))
    assert _link_target(record, "huisarts", "MedicationRequest", "ma-h", "Medication/med-1") is None
    assert "ma-h" not in _related(record, "apotheek", "Medication", "med-1")
    assert "ma-h" not in _related(record, "ziekenhuis", "Medication", "med-1")


def test_a_reference_to_an_item_that_several_sources_hold_resolves_to_their_group(record) -> None:
    # The same problem from the GP and the hospital (same code and onset day): one group.
    _store(record, "huisarts", _condition("c-1", "38341003"))
    _store(record, "ziekenhuis", _condition("c-1", "38341003"))
    _store(record, "thuiszorg", _observation("obs-1", "Condition/c-1"))
    gp = _row(record, "huisarts", "Condition", "c-1")
    hospital = _row(record, "ziekenhuis", "Condition", "c-1")
    assert _link_target(record, "thuiszorg", "Observation", "obs-1", "Condition/c-1") in {gp, hospital}
    assert _related(record, "huisarts", "Condition", "c-1") == {"obs-1"}
    assert _related(record, "ziekenhuis", "Condition", "c-1") == {"obs-1"}
    # Two different problems with the same id in two sources: not grouped, so ambiguous.
    _store(record, "huisarts", _condition("c-2", "195967001"))
    _store(record, "ziekenhuis", _condition("c-2", "73211009"))
    _store(record, "thuiszorg", _observation("obs-2", "Condition/c-2"))
    assert _related(record, "huisarts", "Condition", "c-2") == set()
    assert _related(record, "ziekenhuis", "Condition", "c-2") == set()


def test_bundle_internal_urn_references_are_related(record) -> None:
    medication = {**_medication("", "2194", "Paracetamol 500mg"), "fullUrl": "urn:uuid:8f0c3b4e-0d61-4c4e-9a4b-2f1a1e0c9b11"}
    del medication["id"]
    agreement = {**_agreement("ma-u", "urn:uuid:8f0c3b4e-0d61-4c4e-9a4b-2f1a1e0c9b11"),
                 "fullUrl": "urn:uuid:0b7c8f7e-5a0e-4b8e-8d0f-3f2e6c1d2a33"}
    _store(record, "eigen", medication, agreement, bundle=True)
    service, keys = record
    with service.open(keys) as repo:
        items, _ = repo.page(category="medication", limit=10)
        product = next(i for i in items if i["resource_type"] == "Medication")
        related = RecordQueries(repo).related(product["id"])
    assert [i["resource_id"] for i in related] == ["ma-u"]


def test_links_of_rows_stored_before_are_added_when_imported_again(record, db: Database) -> None:
    _store(record, "apotheek", _medication("med-1", "2194", "Paracetamol 500mg"))
    _store(record, "huisarts", _agreement("ma-1", "Medication/med-1"))
    service, keys = record
    with as_a_migration(), db.session() as session:  # as if stored before record_links existed
        session.execute(delete(RecordLink).where(RecordLink.user_id == keys.user_id))
    assert _related(record, "apotheek", "Medication", "med-1") == set()
    _store(record, "huisarts", _agreement("ma-1", "Medication/med-1"))  # unchanged: no new version
    assert _related(record, "apotheek", "Medication", "med-1") == {"ma-1"}
    with service.open(keys) as repo:
        assert repo.version_count(repo.row_for("huisarts", "MedicationRequest", "ma-1")) == 0


def test_withdrawn_and_other_users_items_are_not_related(record, db: Database) -> None:
    _store(record, "apotheek", _medication("med-1", "2194", "Paracetamol 500mg"))
    _store(record, "huisarts", {**_agreement("ma-x", "Medication/med-1"), "status": "entered-in-error"},
           _agreement("ma-1", "Medication/med-1"))
    # Another user with the same ids: their rows never show up.
    service, _ = record
    other = (service, service.keys(new_user(db, service.keyring)))
    _store(other, "huisarts", _agreement("ma-other", "Medication/med-1"))
    assert _related(record, "apotheek", "Medication", "med-1") == {"ma-1"}
