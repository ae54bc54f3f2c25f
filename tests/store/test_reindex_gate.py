"""A record opened while its user waits for the index rebuild is rebuilt first
(regie.store.reindex_gate, docs/decisions/0010): related items are there on the first visit;
nobody waiting costs no statement; a failing rebuild leaves the record readable. Both databases."""
from __future__ import annotations

import logging

import orjson
import pytest
from sqlalchemy import delete, event, select

from regie.store import record_reindex
from regie.store.db import Database
from regie.store.record_models import RecordLink, RecordReindexPending, RecordResource
from regie.store.record_queries import RecordQueries
from regie.store.record_reindex import pending_user_ids
from regie.store.reindex_gate import gate_of
from tests.store.record_helpers import new_user, service_for

# An encounter and a journal line that points at it: one link, one related item.
BUNDLE = orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
    {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                  "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"}}},
    {"resource": {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "S-regel"},
                  "context": {"reference": "Encounter/e1"}, "valueString": "hoofdpijn"}}]})


@pytest.fixture
def record(db: Database):
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    outcome = service.import_bytes(keys, BUNDLE, name="bundle.json", fhir_version="STU3", channel="cli")
    assert outcome.ok, outcome.error
    return service, keys


def _as_stored_by_an_older_regie(db: Database, user_id: str) -> None:
    """No links yet, and the migration's mark (made outside a migration: the gate is told)."""
    with db.session() as session:
        session.execute(delete(RecordLink).where(RecordLink.user_id == user_id))
        session.add(RecordReindexPending(user_id=user_id))
    gate_of(db).recheck()


def _related_to_the_encounter(service, keys) -> int:
    with service.open(keys, reading=True) as repo:
        encounter = repo.session.scalar(repo._select(RecordResource, RecordResource.id)
                                        .where(RecordResource.resource_type == "Encounter"))
        return len(RecordQueries(repo).related(encounter))


def _statements_on_the_marks(db: Database) -> list[str]:
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        if "record_reindex_pending" in statement:
            seen.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", remember)
    return seen


def test_a_waiting_record_is_rebuilt_when_opened(db: Database, record) -> None:
    service, keys = record
    assert _related_to_the_encounter(service, keys) == 1
    _as_stored_by_an_older_regie(db, keys.user_id)
    with db.session() as session:  # the gap the rebuild closes
        assert session.scalar(select(RecordLink.row_id).where(RecordLink.user_id == keys.user_id)) is None

    assert _related_to_the_encounter(service, keys) == 1  # rebuilt first, on this visit
    assert pending_user_ids(db) == []


def test_nobody_waiting_costs_no_statement_per_record_opened(db: Database, record) -> None:
    service, keys = record
    gate_of(db).recheck()
    seen = _statements_on_the_marks(db)
    for _ in range(5):
        _related_to_the_encounter(service, keys)
    assert len(seen) == 1  # asked once, at the first record opened; never again


def test_while_others_wait_a_user_is_looked_up_once(db: Database, record) -> None:
    service, keys = record
    other = new_user(db, service.keyring)
    with db.session() as session:
        session.add(RecordReindexPending(user_id=other.id))
    gate_of(db).recheck()
    seen = _statements_on_the_marks(db)
    for _ in range(4):
        assert _related_to_the_encounter(service, keys) == 1
    assert len(seen) == 2  # anyone waiting? then: this user? (and not again for this user)
    assert pending_user_ids(db) == [other.id]  # the other's turn comes with the worker or their visit


def test_a_failing_rebuild_leaves_the_record_readable_and_waiting(db: Database, record, monkeypatch,
                                                                caplog) -> None:
    service, keys = record
    _as_stored_by_an_older_regie(db, keys.user_id)

    def broken(repo):
        raise RuntimeError("hoofdpijn")  # an error whose text could be content

    monkeypatch.setattr(record_reindex, "reindex", broken)
    with caplog.at_level(logging.INFO, logger="regie.store"):
        assert _related_to_the_encounter(service, keys) == 0  # opens as it is: no links yet
    assert pending_user_ids(db) == [keys.user_id]  # still waiting, for the worker
    failures = [r for r in caplog.records if r.getMessage().startswith("record rebuild on open failed")]
    assert len(failures) == 1 and failures[0].error == "RuntimeError"
    assert all("hoofdpijn" not in r.getMessage() and "hoofdpijn" not in str(r.__dict__) for r in caplog.records)
    monkeypatch.undo()
    # Tried again after the next recheck (here: at once), and then rebuilt.
    gate_of(db).recheck()
    assert _related_to_the_encounter(service, keys) == 1
    assert pending_user_ids(db) == []


def test_the_rebuild_of_a_user_no_longer_waiting_is_skipped(db: Database, record) -> None:
    """The mark is taken first: a second rebuild after the first (another process, the worker)
    finds nothing to do."""
    service, keys = record
    _as_stored_by_an_older_regie(db, keys.user_id)
    first = record_reindex.reindex_user(db, service.keyring, keys.user_id, only_if_waiting=True)
    assert first is not None and first.links == 1
    assert record_reindex.reindex_user(db, service.keyring, keys.user_id, only_if_waiting=True) is None


def test_the_one_step_reads_on_a_held_connection_are_gated_too(db: Database, record) -> None:
    """RecordService.open_on (the JSON item read, regie.web.item_read) rebuilds first as well."""
    service, keys = record
    _as_stored_by_an_older_regie(db, keys.user_id)
    with db.autocommit_engine.connect() as connection:
        service.open_on(keys, connection)
    assert pending_user_ids(db) == []
    assert _related_to_the_encounter(service, keys) == 1


def test_two_rebuilds_of_one_account_at_once_do_it_once(db: Database, record, monkeypatch) -> None:
    """A page and the worker (or two processes) at the same moment: the second waits for the
    first's lock on the mark and then finds nothing to do; the worker's way skips it at once."""
    import threading

    service, keys = record
    _as_stored_by_an_older_regie(db, keys.user_id)
    real = record_reindex.reindex
    inside, release = threading.Event(), threading.Event()

    def slow(repo):
        inside.set()
        assert release.wait(10)
        return real(repo)

    monkeypatch.setattr(record_reindex, "reindex", slow)
    results: list = []
    first = threading.Thread(target=lambda: results.append(
        record_reindex.reindex_user(db, service.keyring, keys.user_id, only_if_waiting=True)))
    first.start()
    assert inside.wait(10)
    if db.engine.dialect.name == "postgresql":  # SQLite has one writer: a second always waits
        skipped = record_reindex.reindex_user(db, service.keyring, keys.user_id, only_if_waiting=True,
                                              skip_locked=True)
        assert skipped is None  # being done: the worker goes on to the next account
    second = threading.Thread(target=lambda: results.append(
        record_reindex.reindex_user(db, service.keyring, keys.user_id, only_if_waiting=True)))
    second.start()
    release.set()
    first.join(20)
    second.join(20)
    assert sorted((r is None for r in results)) == [False, True]  # one rebuilt, one found it done
    assert pending_user_ids(db) == [] and _related_to_the_encounter(service, keys) == 1
