"""The job queue on the ``jobs`` table, for PostgreSQL and SQLite with the same code.

Claiming: ``SELECT … FOR UPDATE SKIP LOCKED`` picks a due job no other worker is looking
at (PostgreSQL; SQLite has no row locks and ignores the clause), then a conditional
``UPDATE … WHERE state = 'queued'`` takes it; only the worker whose update changed a row
runs it. So several workers on PostgreSQL never run one job twice, and on SQLite a second
worker is merely pointless, not wrong.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from regie.store.db import Database
from regie.store.jobs_models import Job
from regie.store.types import utcnow


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    user_id: str | None
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class QueueStats:
    queued: int  # due now
    scheduled: int  # waiting for run_after
    running: int
    oldest_due_seconds: float  # how long the oldest due job has waited (0 when none)


class JobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- adding -------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any] | None = None, *, user_id: str | None = None,
                run_after: datetime | None = None, singleton: str | None = None,
                max_attempts: int = 3) -> str | None:
        """Add a job; with ``singleton``, only when no unfinished job holds that key (then None)."""
        job = Job(kind=kind, payload=json.dumps(payload or {}, sort_keys=True), user_id=user_id,
                  run_after=run_after or utcnow(), singleton=singleton, max_attempts=max_attempts)
        try:
            with self.db.session() as session:
                session.add(job)
        except IntegrityError:
            if singleton is None:
                raise
            return None
        return job.id

    def ensure_periodic(self, kind: str, every: timedelta, now: datetime | None = None) -> str | None:
        """Keep one unfinished job of ``kind`` in the queue, due ``every`` after the last run."""
        now = now or utcnow()
        with self.db.session() as session:
            if session.scalar(select(Job.id).where(Job.singleton == f"periodic:{kind}")) is not None:
                return None
            last = session.scalar(select(func.max(Job.finished_at)).where(Job.kind == kind))
        due = now if last is None else max(now, _aware(last) + every)
        return self.enqueue(kind, run_after=due, singleton=f"periodic:{kind}", max_attempts=1)

    # --- working ------------------------------------------------------------------
    def claim(self, worker: str, kinds: list[str] | None = None, now: datetime | None = None) -> ClaimedJob | None:
        now = now or utcnow()
        for _ in range(5):  # another worker may take the row between select and update
            with self.db.session() as session:
                query = (select(Job).where(Job.state == "queued", Job.run_after <= now)
                         .order_by(Job.run_after).limit(1).with_for_update(skip_locked=True))
                if kinds is not None:
                    query = query.where(Job.kind.in_(kinds))
                job = session.scalars(query).first()
                if job is None:
                    return None
                taken = session.execute(
                    update(Job).where(Job.id == job.id, Job.state == "queued")
                    .values(state="running", worker=worker, started_at=now, heartbeat_at=now,
                            attempts=Job.attempts + 1)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if taken:
                    return ClaimedJob(job.id, job.kind, json.loads(job.payload or "{}"), job.user_id,
                                      job.attempts + 1, job.max_attempts)
        return None

    def heartbeat(self, job_id: str, worker: str) -> None:
        with self.db.session() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == "running")
                            .values(heartbeat_at=utcnow()))

    def complete(self, job_id: str, worker: str) -> bool:
        with self.db.session() as session:
            return bool(session.execute(
                update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == "running")
                .values(state="done", finished_at=utcnow(), singleton=None, error=None)
            ).rowcount)

    def fail(self, job_id: str, worker: str, error: str, *, retry_in: timedelta | None = None,
             final: bool = False) -> bool:
        """A failed attempt: back in the queue after ``retry_in`` while attempts are left."""
        now = utcnow()
        with self.db.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.worker != worker or job.state != "running":
                return False
            if not final and job.attempts < job.max_attempts:
                delay = retry_in or timedelta(seconds=30 * 2 ** (job.attempts - 1))
                job.state, job.worker, job.run_after = "queued", None, now + delay
            else:
                job.state, job.finished_at, job.singleton = "failed", now, None
            job.error = error[:200]
            return True

    def hand_back(self, job_id: str, worker: str) -> bool:
        """The worker stops before the job finished: another worker takes it (attempt not counted)."""
        with self.db.session() as session:
            return bool(session.execute(
                update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == "running")
                .values(state="queued", worker=None, heartbeat_at=None, attempts=Job.attempts - 1)
            ).rowcount)

    def requeue_stale(self, stale_after: timedelta, now: datetime | None = None) -> int:
        """Running jobs whose worker stopped beating (killed, machine lost) go back to the queue."""
        now = now or utcnow()
        with self.db.session() as session:
            return session.execute(
                update(Job).where(Job.state == "running", Job.heartbeat_at < now - stale_after)
                .values(state="queued", worker=None, heartbeat_at=None)
            ).rowcount or 0

    # --- looking ------------------------------------------------------------------
    def stats(self, now: datetime | None = None) -> QueueStats:
        now = now or utcnow()
        with self.db.session() as session:
            due = and_(Job.state == "queued", Job.run_after <= now)
            queued, oldest = session.execute(select(func.count(), func.min(Job.run_after)).where(due)).one()
            scheduled = session.scalar(select(func.count()).where(Job.state == "queued", Job.run_after > now))
            running = session.scalar(select(func.count()).where(Job.state == "running"))
        age = 0.0 if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
        return QueueStats(queued or 0, scheduled or 0, running or 0, age)

    def get(self, job_id: str) -> Job | None:
        with self.db.session() as session:
            return session.get(Job, job_id)

    def ping(self) -> bool:
        """The queue answers (the table exists and can be read)."""
        try:
            with self.db.session() as session:
                session.execute(select(Job.id).limit(1))
            return True
        except Exception:
            return False


def _aware(value: datetime) -> datetime:
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
