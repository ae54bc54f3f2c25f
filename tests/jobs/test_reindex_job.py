"""The background rebuild of record indexes (tasks.REINDEX, docs/decisions/0010): the worker
works through every waiting account in jobs of bounded length that chain on, skips an account
whose rebuild fails (it stays waiting) and needs no key when nobody waits. Both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from regie.config import Settings
from regie.jobs import tasks
from regie.jobs.queue import JobQueue
from regie.jobs.tasks import JobContext
from regie.jobs.worker import Worker
from regie.store import record_reindex
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.jobs_models import Job
from regie.store.master_key import key_file_path, load_master_key
from regie.store.migrate import upgrade
from regie.store.record_models import RecordLink, RecordReindexPending
from regie.store.record_reindex import pending_user_ids
from tests.store.record_helpers import new_user
from tests.store.test_reindex_gate import BUNDLE


@pytest.fixture
def context(settings: Settings):
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    load_master_key(settings)
    yield JobContext(settings.model_copy(update={"jobs_poll_seconds": 0.05, "jobs_grace_seconds": 0.5}), db)
    db.dispose()


def _waiting_accounts(context: JobContext, count: int) -> list[str]:
    """``count`` accounts with a record, as an older Regie stored them: no links, marked."""
    service = RecordService(context.db, context.keyring)
    ids = []
    for _ in range(count):
        keys = service.keys(new_user(context.db, context.keyring))
        assert service.import_bytes(keys, BUNDLE, name="bundle.json", fhir_version="STU3", channel="cli").ok
        ids.append(keys.user_id)
    with context.db.session() as session:
        session.execute(delete(RecordLink))
        session.add_all(RecordReindexPending(user_id=user_id) for user_id in ids)
    return ids


def _failing_for(user_id: str, monkeypatch) -> None:
    """The rebuild of ``user_id`` fails (after the others' work is written); the others work."""
    real = record_reindex.reindex

    def fail_for_one(repo):
        if repo.user_id == user_id:
            raise RuntimeError("disk gone")
        return real(repo)

    monkeypatch.setattr(record_reindex, "reindex", fail_for_one)


def _links(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(RecordLink))


def test_the_worker_rebuilds_every_waiting_account_in_chained_jobs(context: JobContext, monkeypatch) -> None:
    assert tasks.REINDEX in tasks.periodic(context.settings)
    _waiting_accounts(context, 3)
    monkeypatch.setattr(tasks, "REINDEX_BUDGET_SECONDS", 0.0)  # one account per job
    JobQueue(context.db).enqueue(tasks.REINDEX)
    assert Worker(context, schedule=False).run_until_idle() == 3  # the first job, and two links of its chain
    assert pending_user_ids(context.db) == [] and _links(context.db) == 3
    with context.db.session() as session:
        jobs = session.scalars(select(Job).where(Job.kind == tasks.REINDEX)).all()
    assert [job.state for job in jobs] == ["done"] * 3
    assert sorted(job.payload for job in jobs) == ['{"link": 1}', '{"link": 2}', "{}"]


def test_a_failing_account_stays_waiting_and_the_others_go_on(context: JobContext, monkeypatch) -> None:
    first, second = _waiting_accounts(context, 2)
    _failing_for(first, monkeypatch)
    JobQueue(context.db).enqueue(tasks.REINDEX)
    assert Worker(context, schedule=False).run_until_idle() == 1
    assert pending_user_ids(context.db) == [first] and _links(context.db) == 1
    with context.db.session() as session:
        assert session.scalar(select(Job.state).where(Job.kind == tasks.REINDEX)) == "done"


def test_nobody_waiting_needs_no_key(settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.engine)
        context = JobContext(settings, db)
        JobQueue(db).enqueue(tasks.REINDEX)
        assert Worker(context, schedule=False).run_until_idle() == 1
        assert not key_file_path(settings).exists()  # the key ring was never loaded
    finally:
        db.dispose()


def test_a_failing_account_goes_to_the_back_of_the_line(context: JobContext, monkeypatch) -> None:
    """However often it fails, it never holds up the accounts behind it."""
    first, second, third = _waiting_accounts(context, 3)
    _failing_for(first, monkeypatch)
    monkeypatch.setattr(tasks, "REINDEX_BUDGET_SECONDS", 0.0)  # one account per job
    assert pending_user_ids(context.db)[0] == first
    JobQueue(context.db).enqueue(tasks.REINDEX)
    assert Worker(context, schedule=False).run_until_idle() == 1  # it failed: no chain from nothing done
    waiting = pending_user_ids(context.db)
    assert set(waiting[:2]) == {second, third} and waiting[2] == first
    JobQueue(context.db).enqueue(tasks.REINDEX)  # the next periodic run
    Worker(context, schedule=False).run_until_idle()
    assert pending_user_ids(context.db) == [first]
