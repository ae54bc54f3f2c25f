"""`regie worker` starts against a freshly upgraded database, runs the periodic jobs,
logs JSON and stops cleanly on SIGTERM. On SQLite the worker is a new interpreter, as
deployed; on PostgreSQL (what differs is the database) a fork of this process running the
same command line (tests/processes.py). `regie db upgrade` runs in this process."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from sqlalchemy import text

from regie.store.db import Database
from tests.processes import regie, upgraded


def test_worker_runs_jobs_and_stops_on_sigterm(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "REGIE_HOME": str(tmp_path / "home"), "REGIE_DATABASE_URL": database_url,
           "REGIE_JOBS_POLL_SECONDS": "0.1", "REGIE_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"}
    upgraded(env)
    log_path = tmp_path / "worker.log"
    process = regie(["worker"], env, log_path, fresh=database_url.startswith("sqlite"))
    db = Database(database_url)
    try:
        deadline = time.monotonic() + 90  # start-up imports are slow on a busy machine
        done = 0
        while time.monotonic() < deadline and not done:
            with db.engine.connect() as connection:
                done = connection.execute(text("SELECT count(*) FROM jobs WHERE kind='cleanup' AND state='done'")).scalar()
            time.sleep(0.1)
        assert done == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        db.dispose()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert "worker started" in messages and "job done" in messages and messages[-1] == "worker stopped"
    assert all({"time", "level", "logger", "process"} <= set(line) for line in lines)
