"""/readyz: database, migrations, lists and job queue; the in-process job worker on SQLite."""
from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.web.app import create_app
from tests.conftest import fast_settings


def test_readyz_ready(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "ok",
                               "lists": "not-configured", "jobs": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_not_ready(tmp_path: Path, database_url: str) -> None:
    # Lists configured but never downloaded; schema one migration behind.
    settings = fast_settings(tmp_path, database_url, medmij_lists_url="http://127.0.0.1:1/lists",
                             lists_auto_refresh=False)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine, "0006")
    with TestClient(create_app(settings, check_schema=False)) as client:
        body = client.get("/readyz")
    assert body.status_code == 503
    assert body.json() == {"status": "not-ready", "database": "ok", "migrations": "behind",
                           "lists": "missing", "jobs": "unreachable"}
    db.dispose()
    down = fast_settings(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    with TestClient(create_app(down, check_schema=False)) as client:
        assert client.get("/readyz").json()["database"] == "unreachable"


def test_jobs_run_inside_the_web_process_when_asked(tmp_path: Path, database_url: str) -> None:
    settings = fast_settings(tmp_path, database_url, jobs_in_web=True, jobs_poll_seconds=0.05)
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 10
        done = 0
        while time.monotonic() < deadline and not done:
            with db.engine.connect() as connection:
                done = connection.execute(text("SELECT count(*) FROM jobs WHERE kind='cleanup' AND state='done'")).scalar()
            time.sleep(0.05)
    assert done == 1  # the periodic clean-up ran in the web process
    db.dispose()
