"""Stopping the web process: running collections and the in-process job worker get their
grace periods at the same time, not one after the other (which could outlast the service
manager's stop timeout and end in SIGKILL)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi.testclient import TestClient

from regie.collect.runner import CollectionRunner
from regie.jobs.worker import InProcessWorker
from regie.web.app import create_app
from tests.conftest import fast_settings, migrate

GRACE = 0.8  # what each of the two takes to stop in this test


def test_collections_and_jobs_stop_at_the_same_time(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'regie.sqlite3'}"
    migrate(url)
    stopped: list[str] = []

    async def collections_finish(self, grace_seconds=None) -> None:
        await asyncio.sleep(GRACE)
        stopped.append("collections")

    real_stop = InProcessWorker.stop

    def jobs_finish(self) -> None:
        real_stop(self)  # the worker thread really ends; then the grace this test gives it
        time.sleep(GRACE)
        stopped.append("jobs")

    monkeypatch.setattr(CollectionRunner, "shutdown", collections_finish)
    monkeypatch.setattr(InProcessWorker, "stop", jobs_finish)
    app = create_app(fast_settings(tmp_path, url, jobs_in_web=True))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        started = time.monotonic()
    took = time.monotonic() - started
    app.state.context.db.dispose()
    assert sorted(stopped) == ["collections", "jobs"]
    assert took < 1.6 * GRACE, f"stopping took {took:.2f} s: one after the other"
