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


def test_worker_rebuilds_the_accounts_an_upgrade_left_waiting(tmp_path: Path, database_url: str) -> None:
    """After `regie db upgrade`, a running `regie worker` rebuilds the record indexes of the
    accounts a migration marked (docs/decisions/0010), with the master key of REGIE_HOME."""
    from typer.testing import CliRunner

    from regie.cli.main import app
    from tests.store.test_reindex_gate import BUNDLE

    env = {**os.environ, "REGIE_HOME": str(tmp_path / "home"), "REGIE_DATABASE_URL": database_url,
           "REGIE_JOBS_POLL_SECONDS": "0.1", "REGIE_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
           "REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1"}
    upgraded(env)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(BUNDLE)
    dropped = {name: None for name in os.environ if name.startswith("REGIE_") and name not in env}
    for args, stdin in ((["user", "create", "patient@voorbeeld.nl", "--password-stdin"], "paars-fietsje-wandelt-42\n"),
                        (["import", "--user", "patient@voorbeeld.nl", "--fhir-version", "STU3", str(bundle)], None)):
        result = CliRunner().invoke(app, args, env={**dropped, **env}, input=stdin)
        assert result.exit_code == 0, result.output
    db = Database(database_url)
    try:
        with db.engine.begin() as connection:  # as an older Regie stored it, and as a migration marks it
            connection.execute(text("DELETE FROM record_links"))
            connection.execute(text("INSERT INTO record_reindex_pending (user_id, since) "
                                    "SELECT id, CURRENT_TIMESTAMP FROM users"))
        again = CliRunner().invoke(app, ["db", "upgrade"], env={**dropped, **env})
        assert "1 account(s) wait for a rebuild" in again.output, again.output
        process = regie(["worker"], env, tmp_path / "worker.log", fresh=database_url.startswith("sqlite"))
        try:
            deadline = time.monotonic() + 90
            waiting = 1
            while time.monotonic() < deadline and waiting:
                with db.engine.connect() as connection:
                    waiting = connection.execute(text("SELECT count(*) FROM record_reindex_pending")).scalar()
                time.sleep(0.1)
            assert waiting == 0
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM record_links")).scalar() == 1
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        db.dispose()
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines() if line.startswith("{")]
    rebuilt = [line for line in lines if line["message"] == "record indexes rebuilt"]
    assert len(rebuilt) == 1 and rebuilt[0]["accounts"] == 1 and rebuilt[0]["finished"] is True
