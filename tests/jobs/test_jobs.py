"""The job queue and worker on SQLite and PostgreSQL: claiming, no double runs, retries,
periodic jobs, clean-up, and handing back at shutdown."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from regie.config import Settings
from regie.jobs import tasks
from regie.jobs.queue import JobQueue
from regie.jobs.tasks import JobContext
from regie.jobs.worker import Worker
from regie.store.db import Database
from regie.store.jobs_models import Job
from regie.store.migrate import upgrade
from regie.store.types import utcnow


@pytest.fixture
def context(settings: Settings):
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    yield JobContext(settings.model_copy(update={"jobs_poll_seconds": 0.05, "jobs_grace_seconds": 0.5}), db)
    db.dispose()


@pytest.fixture
def handlers():
    saved = dict(tasks.HANDLERS)
    yield tasks.HANDLERS
    tasks.HANDLERS.clear()
    tasks.HANDLERS.update(saved)


def test_each_job_runs_once_across_workers(context: JobContext, handlers) -> None:
    queue = JobQueue(context.db)
    ran: list[int] = []
    lock = threading.Lock()

    def record(_context, job):
        with lock:
            ran.append(job.payload["n"])

    handlers["test.record"] = record
    for n in range(40):
        queue.enqueue("test.record", {"n": n})
    workers = [Worker(context, name=f"w{i}", concurrency=2, schedule=False) for i in range(3)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(ran) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(5)
    assert sorted(ran) == list(range(40))  # every job once, none twice
    stats = queue.stats()
    assert (stats.queued, stats.running) == (0, 0)


def test_failures_retry_then_fail_with_class_only(context: JobContext, handlers) -> None:
    queue = JobQueue(context.db)

    def broken(_context, job):
        raise ValueError("glucose 12.3 mmol/L")  # a message that must not be stored

    handlers["test.broken"] = broken
    job_id = queue.enqueue("test.broken", max_attempts=2)
    worker = Worker(context, schedule=False)
    assert worker.run_until_idle() == 1
    job = queue.get(job_id)
    assert job.state == "queued" and job.attempts == 1 and job.run_after > utcnow()
    with context.db.session() as session:
        session.get(Job, job_id).run_after = utcnow() - timedelta(seconds=1)
    assert worker.run_until_idle() == 1
    job = queue.get(job_id)
    assert job.state == "failed" and job.error.startswith("ValueError [") and "glucose" not in job.error


def test_recollect_runs_the_collectors_handler(context: JobContext, handlers) -> None:
    queue = JobQueue(context.db)
    job_id = queue.enqueue(tasks.RECOLLECT, {"consent": "x"})
    Worker(context, schedule=False).run_until_idle()
    # regie.collect.schedule: no long-lived consents, nothing due, done.
    assert queue.get(job_id).state == "done", queue.get(job_id).error
    seen = []
    tasks.register(tasks.RECOLLECT, lambda _c, job: seen.append(job.payload))
    queue.enqueue(tasks.RECOLLECT, {"consent": "y"})
    Worker(context, schedule=False).run_until_idle()
    assert seen == [{"consent": "y"}]


def test_shutdown_hands_back_a_running_job(context: JobContext, handlers) -> None:
    queue = JobQueue(context.db)
    release = threading.Event()
    started = threading.Event()

    def slow(_context, job):
        started.set()
        release.wait(10)

    handlers["test.slow"] = slow
    job_id = queue.enqueue("test.slow")
    worker = Worker(context, schedule=False)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(10)
    worker.stop()  # what SIGTERM does
    thread.join(5)
    job = queue.get(job_id)
    assert job.state == "queued" and job.worker is None and job.attempts == 0
    # The handed-back handler still runs; when it ends, its late "done" must not take the job
    # back from the queue. Waited for here: it must not outlive the test's database either.
    late = [t for t in threading.enumerate() if t.name == f"regie-job-{job_id[:8]}"]
    assert late, "the handler thread is still running"
    release.set()
    for job_thread in late:
        job_thread.join(10)
        assert not job_thread.is_alive()
    job = queue.get(job_id)
    assert job.state == "queued" and job.worker is None and job.attempts == 0


def test_stale_running_jobs_are_requeued(context: JobContext, handlers) -> None:
    queue = JobQueue(context.db)
    queue.enqueue("test.x")
    claimed = queue.claim("dead-worker")
    assert claimed is not None and queue.claim("other") is None
    assert queue.requeue_stale(timedelta(seconds=60), now=utcnow() + timedelta(minutes=5)) == 1
    assert queue.claim("other").id == claimed.id


def test_periodic_jobs_are_single_and_cleanup_runs(context: JobContext) -> None:
    queue = JobQueue(context.db)
    assert queue.ensure_periodic(tasks.CLEANUP, timedelta(hours=1)) is not None
    assert queue.ensure_periodic(tasks.CLEANUP, timedelta(hours=1)) is None  # one unfinished at most
    assert queue.stats().queued == 1
    Worker(context, schedule=False).run_until_idle()
    with context.db.session() as session:
        done = session.query(Job).filter_by(kind=tasks.CLEANUP).one()
        assert done.state == "done" and done.singleton is None
    # the next one is due an hour after the last run
    queue.ensure_periodic(tasks.CLEANUP, timedelta(hours=1))
    assert queue.stats().scheduled == 1 and queue.stats().queued == 0
