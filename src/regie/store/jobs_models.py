"""The background job queue (docs/decisions/0004-jobs.md).

One row per job. A job carries only what a worker needs to find its work (a kind, a
small JSON payload with ids, and, for per-user jobs, ``user_id``): never medical
content, never a token. Workers claim rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL and a conditional UPDATE on both databases (regie.jobs.queue).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow

# queued → running → done | failed; running → queued when a worker hands it back
# (SIGTERM) or stopped beating; failed jobs with attempts left go back to queued later.
JOB_STATES = ("queued", "running", "done", "failed")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON: ids and options only
    # Per-user jobs (scheduled re-collects) name their user; global jobs (lists, clean-up) don't.
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # At most one unfinished job per key (periodic jobs): cleared when the job finishes.
    singleton: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A short error class and reference, never an exception text (it could quote content).
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
