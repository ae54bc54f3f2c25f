"""Citus readiness of the schema and of the record repository (docs/scale.md).

* Keys: every user-data table has ``user_id`` first in its primary key, in every unique
  constraint and unique index, and in every foreign key to another user-data table. A
  new table that forgets it fails here (whoever adds it: PK ``(user_id, id)``).
* Queries: every public method of :class:`RecordRepository` and :class:`RecordQueries`
  is run for one user (a method added later without a call here fails), all SQL is
  captured, and every statement on a user-data table must filter on (or insert)
  ``user_id``; the checker is the one of tests/web/test_citus_readiness.py.
"""
from __future__ import annotations

import inspect as pyinspect
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, UniqueConstraint, event

from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.store.models import Base
from regie.store.record import RecordRepository
from regie.store.record_queries import Filters, RecordQueries
from regie.store.owndata_models import RecordNote
from tests.store.record_helpers import new_user, service_for
from regie.ops.citus import LOCAL_TABLES, REFERENCE_TABLES, distributed_tables, plan
from tests.web.test_citus_readiness import violations
from tests.web.test_logs import _record

DISTRIBUTED = {t.name: t for t in distributed_tables(Base.metadata)}
# ORM identity on ``id`` alone (loaded with session.get(Model, id) by their services; their
# flushes are then by id: one multi-shard statement each on Citus, docs/scale.md). Only these.
ID_IDENTITY = {"collections", "medmij_consents", "medmij_sends"}


@pytest.mark.parametrize("name", sorted(DISTRIBUTED))
def test_user_data_table_keys_include_user_id(name: str) -> None:
    table = DISTRIBUTED[name]
    primary = [c.name for c in table.primary_key.columns]
    # (user_id, id); or (user_id) alone for a table with one row per user.
    assert primary[:1] == ["user_id"], f"{name}: primary key {primary}, want (user_id, id)"
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            assert "user_id" in constraint.columns, f"{name}: unique {list(constraint.columns.keys())} without user_id"
    for index in table.indexes:
        if index.unique:
            assert "user_id" in index.columns, f"{name}: unique index {index.name} without user_id"
    for column in table.columns:
        assert not column.unique or column.name == "user_id", f"{name}.{column.name} unique on its own"
    for fk in table.foreign_key_constraints:
        parent = fk.referred_table.name
        local = list(fk.columns.keys())
        remote = [e.column.name for e in fk.elements]
        if parent in REFERENCE_TABLES:
            continue  # a copy on every node: any column may point at it (users.id: also another user)
        else:
            assert parent in DISTRIBUTED, f"{name}: foreign key to the local table {parent}"
            pairs = dict(zip(local, remote))
            assert pairs.get("user_id") == "user_id", f"{name}: foreign key {local} → {parent}{remote} without user_id"
    mapper_key = [c.name for c in table_mapper(name).primary_key]
    assert mapper_key == primary or (name in ID_IDENTITY and mapper_key == ["id"]), (name, mapper_key)


def test_the_citus_plan_places_every_table() -> None:
    statements = "\n".join(plan(Base.metadata))
    for name, table in Base.metadata.tables.items():
        placed = (f"create_distributed_table('{name}', 'user_id'" in statements
                  or f"create_reference_table('{name}')" in statements or name in LOCAL_TABLES)
        assert placed, f"{name}: neither distributed, reference nor local in regie.ops.citus"
        if name in LOCAL_TABLES or name in REFERENCE_TABLES:
            continue
        for fk in table.foreign_key_constraints:  # distributed → local is refused by Citus
            assert fk.referred_table.name not in LOCAL_TABLES, (name, fk.referred_table.name)
    # parents are distributed before the tables whose foreign keys point at them
    order = [s.split("'")[1] for s in plan(Base.metadata)]
    assert order.index("record_sources") < order.index("record_resources") < order.index("record_notes")


def table_mapper(name: str):
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == name:
            return mapper
    raise AssertionError(f"no mapped class for {name}")


def _public(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if not n.startswith("_") and pyinspect.isfunction(v)}


def _exercise(repo: RecordRepository, queries: RecordQueries, actor: str) -> set[str]:
    """Calls every public method once; returns the names called."""
    called: set[str] = set()

    def call(owner: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        called.add(f"{type(owner).__name__}.{name}")
        return getattr(owner, name)(*args, **kwargs)

    items, _ = call(repo, "page", limit=10)
    assert items, "the record is empty"
    item = items[0]["id"]
    source = call(repo, "source_of", item)
    call(repo, "source_id", "another source")
    call(repo, "source_names")
    call(repo, "resolve", source, "Observation", "w1")
    call(repo, "resolve_ids", source, [("Observation", "w1"), ("Condition", "c1")])
    call(repo, "summary")
    call(repo, "version_count", item)
    call(repo, "get", item)
    call(repo, "detail", item)
    call(repo, "source_rows", "huisarts.json")
    call(repo, "row_for", "huisarts.json", "Observation", "w1")
    call(repo, "original", item)
    call(repo, "previous_originals", item)
    call(repo, "audit", actor, "read", [item], "cli")
    call(repo, "audit_entries", actor, [("overview", "overview"), ("list", item), ("list", "other")], "cli")
    call(repo, "audit_page", limit=5)
    call(repo, "note_write", RecordNote)  # raises the change counter at the commit
    call(repo, "stamp")
    called.add("RecordRepository.store_document")  # run by import_bytes before the capture and again below
    filters = Filters()
    pairs, _ = call(queries, "scan", filters, limit=5)
    call(queries, "present", pairs)
    call(queries, "items", filters, limit=5)
    call(queries, "sources", datetime(2000, 1, 1, tzinfo=timezone.utc))
    call(queries, "source_list")
    call(queries, "category_counts")
    call(queries, "period_counts", filters, 7)
    call(queries, "last_visit", actor)
    call(queries, "overview", "2025")
    call(queries, "measurements", max_rows=50)
    call(queries, "trend", ["85354-9"])
    assert call(repo, "search_index") is not None
    called.add("RecordRepository.replace_search_index")  # run below, last: it rewrites the index
    call(queries, "related", item)
    call(queries, "document_file", item)
    call(queries, "document_ids_with_file", items)
    repo.replace_search_index([], datetime(2025, 1, 1, tzinfo=timezone.utc))
    return called


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_every_record_repository_method_filters_on_user_id(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database.engine)
    service, keyring = service_for(database)
    user = new_user(database, keyring)
    keys = service.keys(user)
    statements: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        outcome = service.import_bytes(keys, _record(), name="huisarts.json", source="huisarts.json",
                                       fhir_version=FhirVersion.R4, channel="cli")
        assert outcome.ok, outcome.error
        # A re-import of changed content: the update and version paths of store_document.
        changed = _record().replace(b'"final"', b'"amended"', 1)
        assert service.import_bytes(keys, changed, name="huisarts.json", source="huisarts.json",
                                    fhir_version=FhirVersion.R4, channel="cli").ok
        with service.open(keys) as repo:
            called = _exercise(repo, RecordQueries(repo), user.id)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
        database.dispose()
    expected = {f"RecordRepository.{n}" for n in _public(RecordRepository)} | {
        f"RecordQueries.{n}" for n in _public(RecordQueries)}
    assert expected - called == set(), "repository methods this test does not run yet"
    touched = {t for t in ("record_resources", "record_sources", "record_resource_versions", "audit_entries")
               if any(t in s for s in statements)}
    assert touched == {"record_resources", "record_sources", "record_resource_versions", "audit_entries"}, touched
    found = violations(statements)
    report = "\n".join(f"{table} {kind} ({len(items)}x): {items[0]}" for (table, kind), items in sorted(found.items()))
    assert not found, "statements on user-data tables without user_id:\n" + report
