"""Database faults: PostgreSQL connections lost under load, SQLite disk full, an interrupted
migration. The machine's PostgreSQL is shared, so it is never restarted: the test ends the
app's own backends (``pg_terminate_backend``, found by their ``application_name``), which is
what the app sees when the server restarts."""
from __future__ import annotations

import multiprocessing
import random
import secrets
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from regie.cli._common import open_accounts
from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.migrate import current_revision, head_revision, upgrade
from regie.web.app import create_app
from tests.collect.harness import api_token
from tests.conftest import POSTGRES_URL, fast_settings
from tests.reliability.crashes import OWNER, make_files, prepare, storage_problems

OPTIONS = {"channel": "cli", "fhir_version": FhirVersion.STU3}


def _terminate(name: str, *, wait_ms: int = 0) -> int:
    """End the app's backends; with ``wait_ms``, return only once they are gone (as after a
    restart, which completes before anyone can connect again)."""
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid, :wait) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": name, "wait": wait_ms}).all())
    finally:
        admin.dispose()


def test_postgres_connections_lost_under_load_fail_fast_and_recover(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    name = f"regie_rel_{secrets.token_hex(4)}"
    home = tmp_path / "home"
    home.mkdir()
    settings = fast_settings(home, f"{database_url}&application_name={name}")
    upgrade(Database(settings.database_url).engine)
    app = create_app(settings)
    _user, token = api_token(app.state.context)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False) as client:
        for _ in range(3):
            assert client.get("/api/v1/record/summary").status_code == 200
        # Every pooled connection dies at once (a server restart): the pool sees each one's
        # closed socket at checkout and replaces it, so no request fails (regie.store.db).
        assert _terminate(name, wait_ms=5000) >= 1
        assert [client.get("/api/v1/record/summary").status_code for _ in range(5)] == [200] * 5

        # Connections keep dying while requests come in: each request either succeeds or fails
        # fast with a friendly 503 problem document; never a 500, never a hang.
        stop = threading.Event()

        def killer() -> None:
            while not stop.is_set():
                _terminate(name)
                time.sleep(0.01)

        thread = threading.Thread(target=killer)
        thread.start()
        statuses: list[int] = []
        try:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                response = client.get("/api/v1/record/summary")
                assert time.monotonic() - t0 < 5, "a request hung while connections were lost"
                statuses.append(response.status_code)
                assert response.status_code in (200, 503), response.text
                if response.status_code == 503:
                    assert response.json()["type"] == "urn:regie:problem:unavailable"
                    assert "try again" in response.json()["detail"].lower()
        finally:
            stop.set()
            thread.join()
        assert statuses, "no request was made"
        # The fault is over: everything succeeds again.
        assert [client.get("/api/v1/record/summary").status_code for _ in range(5)] == [200] * 5
    app.state.context.db.dispose()


def _limited(url: str, extra_pages: int) -> Database:
    """A Database on the SQLite file that may grow by ``extra_pages`` pages (SQLITE_FULL after)."""
    database = Database(url)

    @event.listens_for(database.engine, "connect")
    def _limit(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages + extra_pages}")
        cursor.close()

    return database


def test_sqlite_disk_full_gives_a_clear_error_and_corrupts_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{tmp_path / 'regie.sqlite3'}"
    settings = fast_settings(home, url)
    prepare(settings)
    accounts = open_accounts(settings)
    with accounts.db.session() as session:
        user = accounts.by_email(session, OWNER)
    files = make_files(tmp_path / "files", 6, 400)
    paths = sorted((tmp_path / "files").iterdir())
    service = RecordService(accounts.db, accounts.keyring)
    keys = service.keys(user)
    assert all(o.ok for o in service.import_paths(keys, paths[:2], **OPTIONS))
    with service.open(keys) as repo:
        before = repo.summary()
    accounts.db.dispose()

    full = RecordService(_limited(url, 20), accounts.keyring)  # ~80 KB left: SQLITE_FULL
    outcomes = full.import_paths(full.keys(user), paths[2:], batch_files=1, **OPTIONS)
    assert not any(o.ok for o in outcomes)
    assert all("full" in (o.error or "") and "nothing from this file was kept" in o.error for o in outcomes), \
        [o.error for o in outcomes]
    full.db.dispose()

    assert storage_problems(url) == []  # integrity_check ok, no orphans
    with service.open(keys) as repo:
        assert repo.summary() == before  # nothing stored earlier lost, nothing half stored
    # Room again: the same files import completely.
    assert all(o.ok for o in service.import_paths(keys, paths[2:], **OPTIONS))
    with service.open(keys) as repo:
        assert repo.summary()["resources"] == sum(files.values())
    accounts.db.dispose()


def _upgrade(url: str) -> None:
    upgrade(Database(url).engine)


def test_migration_killed_halfway_then_rerun_completes(database_url: str) -> None:
    """`regie db upgrade` killed (SIGKILL) at seeded random points; each rerun completes."""
    rng = random.Random(7)
    fork = multiprocessing.get_context("fork")
    t0 = time.monotonic()
    probe = fork.Process(target=_upgrade, args=(database_url,))
    probe.start()
    time.sleep(0.3)  # the first kill lands early, before any migration finished
    if probe.is_alive():
        probe.kill()
    probe.join(30)
    for attempt in range(3):
        process = fork.Process(target=_upgrade, args=(database_url,))
        process.start()
        time.sleep(rng.uniform(0.2, 1.5))
        if process.is_alive():
            process.kill()
        process.join(30)
        engine = create_engine(database_url)
        revision = current_revision(engine)
        engine.dispose()
        if revision == head_revision():
            break
    assert time.monotonic() - t0 < 60
    database = Database(database_url)
    upgrade(database.engine)  # the rerun completes
    assert current_revision(database.engine) == head_revision()
    database.dispose()
    assert storage_problems(database_url) == []
