"""The record's change counter (regie.store.record_stamp) on both databases: raised once by
every committed write to what the pages show, by nothing else, and readable before a
page reads the record."""
from __future__ import annotations

import orjson
import pytest
from sqlalchemy import update

from regie.fhir import FhirVersion
from regie.owndata.notes import add_note, delete_note
from regie.store.db import Database
from regie.store.record_reindex import reindex_user
from regie.store.record_models import RecordReindexPending, RecordResource
from tests.stamp_guard import as_a_migration
from tests.store.record_helpers import condition, new_user, service_for


def _bundle(*numbers: int) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": condition(n, active=n % 2 == 0)} for n in numbers]})


def _stamp(service, keys) -> int:
    with service.open(keys, reading=True) as repo:
        return repo.stamp()


def _import(service, keys, data: bytes) -> bool:
    return service.import_bytes(keys, data, name="huisarts.json", source="huisarts.json",
                                fhir_version=FhirVersion.R4, channel="cli").ok


def test_each_committed_change_raises_the_counter_once(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    assert _stamp(service, keys) == 0  # nothing stored yet: no row, and no error
    assert _import(service, keys, _bundle(1, 2, 3))
    first = _stamp(service, keys)
    assert first == 1  # one transaction: one raise, however many rows and tables it wrote
    assert _import(service, keys, _bundle(1, 2, 3))  # the same again: nothing changes, nothing written
    assert _stamp(service, keys) == first
    assert _import(service, keys, _bundle(4))
    assert _stamp(service, keys) == first + 1


def test_reading_and_its_audit_entries_leave_the_counter(db: Database) -> None:
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    keys = service.keys(user)
    assert _import(service, keys, _bundle(1))
    before = _stamp(service, keys)
    with service.open(keys, reading=True) as repo:
        items, _ = repo.page(limit=10)
        repo.audit(user.id, "list", [i["id"] for i in items], "web")
    assert _stamp(service, keys) == before


def test_a_refused_import_leaves_the_counter(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    assert _import(service, keys, _bundle(1))
    before = _stamp(service, keys)
    assert not _import(service, keys, b'{"resourceType": "Bundle", "entry": [')
    assert _stamp(service, keys) == before


def test_notes_and_the_rebuild_raise_it(db: Database) -> None:
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    keys = service.keys(user)
    assert _import(service, keys, _bundle(1))
    with service.open(keys) as repo:
        item = repo.page(limit=1)[0][0]["id"]
        note = add_note(repo, item, "Gevraagd bij de huisarts")
    after_note = _stamp(service, keys)
    with service.open(keys) as repo:
        assert delete_note(repo, item, note)
    after_delete = _stamp(service, keys)
    with as_a_migration(), db.session() as session:  # as migration 0026 leaves the rows and marks the user
        session.execute(update(RecordResource).where(RecordResource.user_id == user.id).values(is_current=None))
        session.add(RecordReindexPending(user_id=user.id))
    assert reindex_user(db, keyring, user.id) is not None  # sets the flags again: the lists change
    assert 1 < after_note < after_delete < _stamp(service, keys)


def test_the_counter_is_per_user(db: Database) -> None:
    service, keyring = service_for(db)
    one, other = (service.keys(new_user(db, keyring)) for _ in range(2))
    assert _import(service, one, _bundle(1))
    assert (_stamp(service, one), _stamp(service, other)) == (1, 0)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_suite_refuses_a_record_write_that_forgets_the_counter(db: Database) -> None:
    """tests/stamp_guard.py: a transaction that writes a page's rows on its own fails."""
    from sqlalchemy import text

    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    assert _import(service, keys, _bundle(1))
    with pytest.raises(AssertionError, match="record_stamps"):
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE record_resources SET is_current = NULL"))
