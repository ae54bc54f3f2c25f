"""One item's detail: its group and their sources, its resolved links, in few statements, and
only what a delegate's category scope lets them see. Both databases (database_url)."""
from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, event, update

from regie.fhir import FhirVersion
from regie.store import acting
from regie.store.db import Database
from regie.store.record_models import RecordResource
from tests.stamp_guard import as_a_migration
from tests.store.record_helpers import new_user, service_for


@pytest.fixture
def record(db: Database):
    service, keyring = service_for(db)
    return service, service.keys(new_user(db, keyring))


def _store(record, source: str, *resources: dict[str, Any]) -> None:
    service, keys = record
    data = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    outcome = service.import_bytes(keys, orjson.dumps(data), name=f"{source}.json", source=source,
                                   fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error


def _condition(rid: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertensie"}]},
            "onsetDateTime": "2023-01-10"}


def _pressure(rid: str, focus: str | None = None, *, subject: bool = True) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Bloeddruk"}]},
        "effectiveDateTime": "2024-05-01T10:00:00+02:00", "valueString": "120/80"}
    if subject:
        resource["subject"] = {"reference": "Patient/p1"}
    if focus:
        resource["focus"] = [{"reference": focus}]
    return resource


def _statements(record, call):
    service, keys = record
    statements: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    with service.open(keys) as repo:
        event.listen(Engine, "before_cursor_execute", capture)
        try:
            result = call(repo)
        finally:
            event.remove(Engine, "before_cursor_execute", capture)
    return result, statements


def test_detail_names_the_group_and_its_sources_in_arrival_order_in_two_statements(record) -> None:
    _store(record, "huisarts", _condition("c1"), _pressure("bp-1", "Condition/c1"))
    for source in ("ziekenhuis", "apotheek", "zelf"):  # the same measurement again: one group
        _store(record, source, _pressure("bp-1", subject=False))
    service, keys = record
    with service.open(keys) as repo:
        ids = {source: repo.row_for(source, "Observation", "bp-1") for source in ("huisarts", "ziekenhuis", "apotheek", "zelf")}
        condition = repo.row_for("huisarts", "Condition", "c1")
    detail, statements = _statements(record, lambda repo: repo.detail(ids["apotheek"]))
    assert detail["id"] == ids["apotheek"] and detail["provenance"]["source"] == "apotheek"
    assert detail["group"] == [{"id": ids[s], "source": s} for s in ("huisarts", "ziekenhuis", "zelf")]
    assert detail["links"] == []
    # The row, its group and their source names; then nothing else (no links, version 1).
    assert len(statements) == 1, statements
    detail, statements = _statements(record, lambda repo: repo.detail(ids["huisarts"]))
    assert [link["item_id"] for link in detail["links"] if link["reference"] == "Condition/c1"] == [condition]
    assert detail["provenance"]["source"] == "huisarts" and detail["provenance"]["previous_versions"] == 0
    assert [m["source"] for m in detail["group"]] == ["ziekenhuis", "apotheek", "zelf"]
    assert len(statements) == 2, statements  # ...and the links, resolved in one more
    # Only the sources of the item and its group are read, by id.
    assert not any("FROM record_sources WHERE" in " ".join(s.split()) for s in statements), statements


def test_a_changed_item_counts_its_previous_versions(record) -> None:
    _store(record, "huisarts", _pressure("bp-1"))
    changed = _pressure("bp-1")
    changed["valueString"] = "130/85"
    _store(record, "huisarts", changed)
    service, keys = record
    with service.open(keys) as repo:
        detail = repo.detail(repo.row_for("huisarts", "Observation", "bp-1"))
    assert detail["value"]["value"] == "130/85"
    assert detail["provenance"]["version"] == 2 and detail["provenance"]["previous_versions"] == 1


def test_rows_without_a_reference_hash_resolve_by_identity_only_when_nothing_else_does(db: Database, record) -> None:
    """Rows stored before every row had a ref_hash (until the reindex) are found by identity in
    the reference's own source, unless the ref_hash finds a target elsewhere."""
    _store(record, "huisarts", _condition("c1"), _pressure("bp-1", "Condition/c1"), _condition("c2"),
           _pressure("bp-2", "Condition/c2"))
    _store(record, "ziekenhuis", _condition("c2"))
    service, keys = record
    with service.open(keys) as repo:
        rows = {rid: repo.row_for("huisarts", t, rid) for t, rid in
                (("Condition", "c1"), ("Condition", "c2"), ("Observation", "bp-1"), ("Observation", "bp-2"))}
        elsewhere = repo.row_for("ziekenhuis", "Condition", "c2")
    with as_a_migration(), db.session() as session:
        session.execute(update(RecordResource).where(
            RecordResource.user_id == keys.user_id, RecordResource.id.in_([rows["c1"], rows["c2"]])
        ).values(ref_hash=None))

    def target(repo, row_id: str) -> str | None:
        return next(link["item_id"] for link in repo.detail(row_id)["links"] if link["reference"].startswith("Condition/"))

    with service.open(keys) as repo:
        assert target(repo, rows["bp-1"]) == rows["c1"]  # by identity: nothing else holds c1
        assert target(repo, rows["bp-2"]) == elsewhere  # the ref_hash finds the other source's c2


def test_a_delegate_sees_only_the_categories_of_their_scope(record) -> None:
    _store(record, "huisarts", _condition("c1"), _pressure("bp-1", "Condition/c1"))
    _store(record, "ziekenhuis", _pressure("bp-1"))
    service, keys = record
    with service.open(keys) as repo:
        pressure, condition = repo.row_for("huisarts", "Observation", "bp-1"), repo.row_for("huisarts", "Condition", "c1")
        other = repo.row_for("ziekenhuis", "Observation", "bp-1")
        full = repo.detail(pressure)
        categories = {full["category"], repo.detail(condition)["category"]}
    assert len(categories) == 2 and [m["id"] for m in full["group"]] == [other]
    assert next(link["item_id"] for link in full["links"] if link["reference"] == "Condition/c1") == condition
    token = acting.current.set(acting.ActingScope(keys.user_id, "verzorger", frozenset({full["category"]})))
    try:
        with service.open(keys) as repo:
            scoped = repo.detail(pressure)
            assert repo.detail(condition) is None and repo.original(condition) is None
            assert repo.original(pressure) is not None
    finally:
        acting.current.reset(token)
    assert scoped["group"] == full["group"]
    # The link's target is outside the scope: unresolved, as if it were not there.
    assert next(link["item_id"] for link in scoped["links"] if link["reference"] == "Condition/c1") is None
    token = acting.current.set(acting.ActingScope(keys.user_id, "verzorger", frozenset()))
    try:
        with service.open(keys) as repo:
            assert repo.detail(pressure) is None and repo.original(pressure) is None
    finally:
        acting.current.reset(token)
