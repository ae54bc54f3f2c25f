"""Rebuilding the keyed indexes of rows stored by an older Regie (record_reindex): rows without
ref_hash, Flag targets and record_links get exactly what an import gives them, per user, atomically,
and a second run changes nothing. Both databases (database_url)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from regie.store import record_reindex
from regie.store.db import Database
from regie.store.record_models import RecordLink, RecordReindexPending, RecordResource
from regie.store.record_queries import RecordQueries
from regie.store.record_reindex import pending_user_ids, reindex_pending, reindex_user
from tests.fhir.fixtures import SKIP_REASON, available
from tests.store.record_helpers import import_standard, new_user, resolve_into, service_for

# Journal lines and their encounter, episodes and their Flags, medication and its requests: many links.
STANDARD = "GenPractData-2-0"


def _indexes(db: Database, user_id: str) -> tuple[dict[str, tuple], set[tuple[str, str]]]:
    with db.session() as session:
        rows = {r.id: (r.ref_hash, r.target_ref, r.target_identity) for r in session.execute(
            select(RecordResource.id, RecordResource.ref_hash, RecordResource.target_ref,
                   RecordResource.target_identity).where(RecordResource.user_id == user_id))}
        links = {(target, row) for target, row in session.execute(
            select(RecordLink.target_ref, RecordLink.row_id).where(RecordLink.user_id == user_id))}
    return rows, links


def _as_before_migration_0017(db: Database, user_id: str) -> None:
    """What a record stored by an old Regie looks like: no reference hashes, no Flag target
    hashes, no links; and the migration's mark that the user waits for a rebuild."""
    with db.session() as session:
        session.execute(update(RecordResource).where(RecordResource.user_id == user_id)
                        .values(ref_hash=None, target_ref=None, target_identity=None))
        session.execute(delete(RecordLink).where(RecordLink.user_id == user_id))
        session.add(RecordReindexPending(user_id=user_id))


def _related_counts(service, keys) -> dict[str, int]:
    with service.open(keys) as repo:
        queries = RecordQueries(repo)
        ids = [row.id for row in repo.session.execute(repo._select(RecordResource, RecordResource.id))]
        return {row_id: len(queries.related(row_id)) for row_id in ids}


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_reindex_gives_old_rows_what_an_import_gives_them(db: Database, tmp_path: Path) -> None:
    service, keyring = service_for(db)
    files = resolve_into(tmp_path, {STANDARD})[STANDARD]
    user, other = new_user(db, keyring), new_user(db, keyring)
    keys = service.keys(user)
    assert import_standard(service, keys, files, STANDARD) == []
    assert import_standard(service, service.keys(other), files[:3], STANDARD) == []
    expected_rows, expected_links = _indexes(db, user.id)
    expected_related = _related_counts(service, keys)
    assert len(expected_links) > 20 and sum(expected_related.values()) > 20
    assert any(target for _, target, _ in expected_rows.values())  # Flags that mark an episode
    other_before = _indexes(db, other.id)

    _as_before_migration_0017(db, user.id)
    assert sum(_related_counts(service, keys).values()) == 0  # the gap this closes
    assert pending_user_ids(db) == [user.id]

    results = reindex_pending(db, keyring)
    assert [r.user_id for r in results] == [user.id]
    assert results[0].rows == len(expected_rows) and results[0].links == len(expected_links)
    assert _indexes(db, user.id) == (expected_rows, expected_links)
    assert _related_counts(service, keys) == expected_related
    assert pending_user_ids(db) == [] and _indexes(db, other.id) == other_before

    again = reindex_user(db, keyring, user.id)  # idempotent: nothing left to add
    assert again is not None and (again.ref_hashes, again.flag_targets, again.links) == (0, 0, 0)
    assert _indexes(db, user.id) == (expected_rows, expected_links)
    assert reindex_pending(db, keyring) == []


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_reindex_is_atomic_per_user(db: Database, tmp_path: Path, monkeypatch) -> None:
    service, keyring = service_for(db)
    files = resolve_into(tmp_path, {STANDARD})[STANDARD]
    first, second = new_user(db, keyring), new_user(db, keyring)
    for user in (first, second):
        assert import_standard(service, service.keys(user), files[:6], STANDARD) == []
    expected = _indexes(db, first.id)
    for user in (first, second):
        _as_before_migration_0017(db, user.id)
    broken = _indexes(db, first.id)

    real = record_reindex._insert_missing_links

    def fail_for_first(repo, links):
        added = real(repo, links)  # the hashes and links are written, then the unit fails
        if repo.user_id == first.id:
            raise RuntimeError("disk gone")
        return added

    monkeypatch.setattr(record_reindex, "_insert_missing_links", fail_for_first)
    with pytest.raises(RuntimeError):
        reindex_pending(db, keyring)
    assert _indexes(db, first.id) == broken  # rolled back: nothing half done
    assert first.id in pending_user_ids(db)
    monkeypatch.setattr(record_reindex, "_insert_missing_links", real)
    assert {r.user_id for r in reindex_pending(db, keyring)} == {first.id, second.id}  # resumes
    assert _indexes(db, first.id) == expected and pending_user_ids(db) == []


def test_a_deleted_user_is_skipped_and_an_empty_record_is_cleared(db: Database) -> None:
    service, keyring = service_for(db)
    user = new_user(db, keyring)
    with db.session() as session:
        session.add(RecordReindexPending(user_id=user.id))
    (result,) = reindex_pending(db, keyring)
    assert result.rows == 0 and pending_user_ids(db) == []
    assert reindex_user(db, keyring, "0" * 32) is None
