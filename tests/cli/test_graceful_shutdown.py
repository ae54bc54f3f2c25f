"""SIGTERM on `regie worker` and `regie serve` (with its in-process worker): a job that
finishes within REGIE_JOBS_GRACE_SECONDS finishes, one that does not is handed back to
the queue (attempt not counted), and the process exits cleanly, in bounded time.

The processes are the real commands (regie.cli.main) in a fork of the test process
(tests/processes.py), which first adds two test job kinds (one second, and one that would
take a minute) to the handlers."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from regie.jobs.queue import JobQueue
from regie.store.db import Database
from tests.processes import Forked, regie, upgraded, wait_answering


def _test_jobs() -> None:
    """In the command's process only: the handlers of the two test job kinds."""
    from regie.jobs import tasks

    tasks.register("test.quick", lambda _context, _job: time.sleep(1.0))
    tasks.register("test.slow", lambda _context, _job: time.sleep(60))


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "REGIE_HOME": str(tmp_path / "home"), "REGIE_DATABASE_URL": database_url,
           "REGIE_JOBS_POLL_SECONDS": "0.1", "REGIE_JOBS_GRACE_SECONDS": "3", "REGIE_LOG_FORMAT": "json",
           "PYTHONUNBUFFERED": "1", **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    upgraded(env)
    return env


def _wait_running(db: Database, count: int, process: Forked, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text()[-2000:]
        with db.engine.connect() as connection:
            running = connection.execute(text("SELECT count(*) FROM jobs WHERE kind LIKE 'test.%' "
                                              "AND state = 'running'")).scalar()
        if running == count:
            return
        assert time.monotonic() < deadline, "the jobs did not start"
        time.sleep(0.1)


def _stop_and_check(process: Forked, queue: JobQueue, quick: str, slow: str, log: Path) -> None:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("did not stop within 40 s of SIGTERM:\n" + log.read_text()[-2000:]) from None
    took = time.monotonic() - started
    assert code in (0, -signal.SIGTERM), log.read_text()[-2000:]
    assert took < 35, took  # the grace period (3 s) and the hand-back, never the slow job's minute
    assert queue.get(quick).state == "done"
    handed = queue.get(slow)
    assert handed.state == "queued" and handed.worker is None and handed.attempts == 0
    assert "job handed back at shutdown" in log.read_text()


def test_worker_finishes_or_hands_back_on_sigterm(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    db = Database(database_url)
    queue = JobQueue(db)
    quick, slow = queue.enqueue("test.quick"), queue.enqueue("test.slow")
    log = tmp_path / "worker.log"
    process = regie(["worker", "--concurrency", "2"], env, log, prepare=_test_jobs)
    try:
        _wait_running(db, 2, process, log)
        _stop_and_check(process, queue, quick, slow, log)
    finally:
        if process.poll() is None:
            process.kill()
        db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_hands_back_its_in_process_jobs_on_sigterm(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url, REGIE_JOBS_IN_WEB="1", REGIE_JOBS_CONCURRENCY="1")
    db = Database(database_url)
    queue = JobQueue(db)
    slow = queue.enqueue("test.slow")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    process = regie(["serve", "--port", str(port)], env, log, prepare=_test_jobs)
    try:
        _wait_running(db, 1, process, log)
        # The in-process worker starts in the app's start-up, before uvicorn listens: the
        # slow job can be running while the port still refuses connections.
        wait_answering(f"http://127.0.0.1:{port}/healthz", process, log, timeout=60)
        # The in-process worker runs one job at a time: the quick one waits behind the slow one
        # and is still queued (never started) at shutdown.
        quick = queue.enqueue("test.quick")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=40)
        assert code in (0, -signal.SIGTERM), log.read_text()[-2000:]
        assert time.monotonic() - started < 35
        handed = queue.get(slow)
        assert handed.state == "queued" and handed.attempts == 0 and handed.worker is None
        assert queue.get(quick).state == "queued"
    finally:
        if process.poll() is None:
            process.kill()
        db.dispose()
