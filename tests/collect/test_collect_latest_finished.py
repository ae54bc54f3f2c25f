"""The start page's "Last collected" (Collections.latest_finished): per provider the latest
finished collection, exactly as the start page used to find it in ``history`` (one plain
SQL statement now, and only the rows shown decrypted). On SQLite and PostgreSQL."""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from regie.collect.service import Collections, ProviderEndpoints, ServiceEndpoint
from regie.store.collect_models import Collection
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.types import utcnow
from tests.conftest import fast_settings, migrate
from tests.statements import captured_statements
from tests.store.record_helpers import new_user
from tests.web.test_citus_readiness import violations

PROVIDERS = [f"zorg{n}@medmij" for n in range(5)]
# A mix of unfinished (left out) and finished states, rotated per provider.
STATES = ["done", "failed", "interrupted", "done", "queued", "running", "pending"]


def _endpoints(provider: str, services: tuple[str, ...]) -> ProviderEndpoints:
    return ProviderEndpoints(provider, provider.title(), "https://auth.example/authorize", "https://auth.example/token",
                             tuple(ServiceEndpoint(sid, f"Dienst {sid}", None) for sid in services))


def _old_way(collections: Collections, user_id: str, limit: int = 100) -> list[dict]:
    """What the start page did before latest_finished."""
    latest: dict[str, dict] = {}
    for row in collections.history(user_id, limit=limit):
        if row["state"] in ("done", "failed", "interrupted") and row["provider"] not in latest:
            latest[row["provider"]] = row
    return list(latest.values())


def _collect(collections: Collections, db: Database, user_id: str, provider: str, state: str, age: timedelta,
             *, progress: bool = True, hashed: bool = True, position: int = 0) -> str:
    services = ("49", "904") if position % 2 else ("51",)
    collection_id = collections.create(user_id, _endpoints(provider, services), channel="web", position=position)
    now = utcnow()
    with db.session() as session:
        row = session.get(Collection, (user_id, collection_id))
        row.state = state
        row.created_at = now - age
        if state in ("running", "done", "failed", "interrupted"):
            row.started_at = now - age + timedelta(seconds=5)
        if state in ("done", "failed", "interrupted"):
            row.finished_at = now - age + timedelta(seconds=40) if position % 3 else None
            row.error_code = {"failed": "token-refused", "interrupted": "interrupted"}.get(state)
            row.new_count = position
        if progress:
            row.progress_encrypted = collections._set_progress(
                collections._cipher(session, user_id), row.id, user_id,
                {"services": {"49": {"done": position, "total": 7}}, "resources": position})
        if not hashed:
            row.provider_hash = None  # as a row could be before the lookup hash existed
    return collection_id


def test_latest_finished_is_what_the_start_page_found_in_history(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    db = Database(database_url)
    try:
        keyring = KeyRing(secrets.token_bytes(32))
        collections = Collections(fast_settings(tmp_path, database_url), db, keyring)
        user, other = new_user(db, keyring), new_user(db, keyring)
        assert collections.latest_finished(user) == []

        minutes = 0
        for round_ in range(len(STATES)):
            for index, provider in enumerate(PROVIDERS):
                minutes += 1
                # Provider 3 has nothing finished; provider 4's rows lack the lookup hash.
                state = STATES[(round_ + index) % len(STATES)]
                _collect(collections, db, user.id, provider, "pending" if index == 3 else state,
                         timedelta(minutes=1000 - minutes), progress=(round_ + index) % 2 == 0,
                         hashed=index != 4, position=round_ + index)
        _collect(collections, db, other.id, PROVIDERS[0], "done", timedelta(minutes=1))  # someone else's, newest
        _collect(collections, db, user.id, PROVIDERS[1], "running", timedelta(seconds=30))  # newest, unfinished
        with db.session() as session:
            unhashed = session.scalars(select(Collection.id).where(Collection.user_id == user.id,
                                                                   Collection.provider_hash.is_(None))).all()
        assert len(unhashed) == len(STATES)

        with captured_statements() as statements:
            latest = collections.latest_finished(user)
        assert statements and not violations(statements), statements

        expected = _old_way(collections, user.id)
        assert latest == expected
        assert sorted(row["provider"] for row in latest) == [PROVIDERS[0], PROVIDERS[1], PROVIDERS[2], PROVIDERS[4]]
        assert {row["state"] for row in latest} == {"done", "failed"}, latest  # the newest finished, not the newest
        assert any(row["progress"] is None for row in latest) and any(row["progress"] for row in latest)
        assert any(row["finished_at"] is None for row in latest)

        # The limit counts every row, finished or not, as history's does.
        for limit in (1, 3, 7, 12, 40):
            assert collections.latest_finished(user, limit=limit) == _old_way(collections, user.id, limit), limit
        assert collections.latest_finished(other) == _old_way(collections, other.id)
    finally:
        db.dispose()
