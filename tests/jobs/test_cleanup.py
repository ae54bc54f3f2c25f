"""The periodic clean-up (regie.jobs.cleanup) on SQLite and PostgreSQL: what expired is
gone or made harmless after one run, what still lives stays, a second run changes
nothing; batches are bounded; every sweep reads through an index; statements on user-data
tables name user_id; the worker schedules it; old outbox mail goes."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select, text

from regie.config import Settings
from regie.jobs import cleanup, tasks
from regie.jobs.queue import JobQueue
from regie.jobs.tasks import JobContext
from regie.jobs.worker import InProcessWorker, Worker
from regie.store.collect_models import Collection
from regie.store.db import Database
from regie.store.delegation_models import Delegation, ManagedRecord
from regie.store.jobs_models import Job
from regie.store.models import EmailToken, Throttle, User, WebSession, new_id
from regie.store.questionnaire_models import QuestionnaireAccess
from regie.store.share_models import MedMijSend
from regie.store.sharelinks_models import ShareLink, ShareLinkOpen
from regie.store.types import utcnow
from tests.conftest import migrate
from tests.web.test_citus_readiness import violations

DAY = timedelta(days=1)


@pytest.fixture
def db(settings: Settings):
    migrate(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


def _user(session, *, shredded: bool = False) -> str:
    user_id = new_id()
    session.add(User(id=user_id, email=f"{user_id}@example.org", password_hash="x",
                     wrapped_data_key=b"" if shredded else b"wrapped"))
    session.flush()
    return user_id


def _session(session, now: datetime, *, last_seen: timedelta, age: timedelta, stage: str = "anonymous",
             user_id: str | None = None) -> str:
    row_id = new_id() + new_id()
    session.add(WebSession(id=row_id, user_id=user_id, stage=stage, csrf_token="c", created_at=now - age,
                           last_seen_at=now - last_seen, step_up_until=now - timedelta(minutes=1)))
    return row_id


def _seed(db: Database, settings: Settings, now: datetime) -> dict[str, set]:
    """One expired and one live row of every kind; returns what must survive, per table."""
    live: dict[str, set] = {}
    with db.session() as s:
        owner = _user(s)
        full = _user(s)
        # sessions: idle anonymous, idle signed-in, past the absolute limit; a live one
        _session(s, now, last_seen=timedelta(minutes=31), age=timedelta(minutes=40))
        _session(s, now, last_seen=timedelta(hours=2), age=timedelta(hours=3), stage="full", user_id=full)
        _session(s, now, last_seen=timedelta(minutes=1), age=timedelta(hours=13), stage="full", user_id=full)
        live["web_sessions"] = {_session(s, now, last_seen=timedelta(minutes=5), age=timedelta(hours=1),
                                         stage="full", user_id=full)}
        # e-mail links: expired three days ago (gone), expired an hour ago (kept: says "expired")
        s.add(EmailToken(purpose="reset", token_hash=new_id() * 2, email="a@example.org", user_id=full,
                         created_at=now - 4 * DAY, expires_at=now - 3 * DAY))
        kept = EmailToken(id=new_id(), purpose="register", token_hash=new_id() * 2, email="b@example.org",
                          created_at=now - 2 * DAY, expires_at=now - timedelta(hours=1))
        s.add(kept)
        live["email_tokens"] = {kept.id}
        # share links: expired 31 days ago (with an opening), stopped 40 days ago, expired
        # 10 days ago (kept), live
        links = {}
        for name, expires, revoked in (("old", now - 31 * DAY, None), ("stopped", now + 300 * DAY, now - 40 * DAY),
                                       ("recent", now - 10 * DAY, None), ("live", now + 5 * DAY, None)):
            links[name] = new_id()
            s.add(ShareLink(id=links[name], user_id=owner, token_hash=new_id() * 2, created_by=owner,
                            details_encrypted=b"x", created_at=now - 60 * DAY, expires_at=expires, revoked_at=revoked))
        s.flush()
        s.add(ShareLinkOpen(user_id=owner, link_id=links["old"], at=now - 35 * DAY))
        s.add(ShareLinkOpen(id="keptopen", user_id=owner, link_id=links["live"], at=now - DAY))
        live["share_links"] = {links["recent"], links["live"]}
        live["share_link_opens"] = {"keptopen"}
        # OAuth states: expired two days ago (secrets cleared), expired an hour ago (kept)
        for model, extra in ((Collection, {"batch_id": new_id(), "channel": "web", "reference": "R1"}),
                             (MedMijSend, {"kind": "document", "service_id": "48", "channel": "web",
                                           "bundle_encrypted": b"b", "reference": "R2"}),
                             (QuestionnaireAccess, {"provider": "p@medmij", "purpose": "fetch"})):
            for name, expires in (("old", now - 2 * DAY), ("recent", now - timedelta(hours=1))):
                s.add(model(id=f"{model.__tablename__[:10]}{name}", user_id=owner, state="pending",
                            state_hash=new_id() * 2, verifier_encrypted=b"v", authorize_expires_at=expires, **extra))
        # questionnaire access tokens: expired (cleared), live
        s.add(QuestionnaireAccess(id="tokenold", user_id=owner, provider="p", purpose="fetch", state="done",
                                  token_encrypted=b"t", token_expires_at=now - timedelta(minutes=1)))
        s.add(QuestionnaireAccess(id="tokenlive", user_id=owner, provider="p", purpose="fetch", state="done",
                                  token_encrypted=b"t", token_expires_at=now + timedelta(minutes=5)))
        # invitations: expired eight days ago (hash cleared, row kept), open
        for name, expires in (("old", now - 8 * DAY), ("open", now + 3 * DAY)):
            s.add(Delegation(id=f"invite{name}", user_id=owner, kind="caregiver", label_encrypted=b"l",
                             token_hash=new_id() * 2, invite_expires_at=expires, created_by=owner))
        # child claims: expired eight days ago, open
        for name, expires in (("old", now - 8 * DAY), ("open", now + DAY)):
            child = _user(s)
            live.setdefault("children", set()).add((name, child))
            s.add(ManagedRecord(user_id=child, name_encrypted=b"n", birth_date_encrypted=b"b", created_by=owner,
                                claim_token_hash=new_id() * 2, claim_expires_at=expires))
        # throttles: quiet for two days (gone), locked still, failed an hour ago
        s.add(Throttle(key="pw:ip:old", failures=3, last_failure_at=now - 2 * DAY))
        s.add(Throttle(key="pw:ip:locked", failures=0, last_failure_at=now - 2 * DAY, locked_until=now + DAY))
        s.add(Throttle(key="pw:ip:recent", failures=2, last_failure_at=now - timedelta(hours=1)))
        live["throttles"] = {"pw:ip:locked", "pw:ip:recent"}
        # jobs: done eight days ago (gone), failed yesterday (kept), queued
        s.add(Job(id="jobold", kind="x", state="done", finished_at=now - 8 * DAY))
        s.add(Job(id="jobrecent", kind="x", state="failed", finished_at=now - DAY))
        s.add(Job(id="jobqueued", kind="x", state="queued", run_after=now + DAY))
        live["jobs"] = {"jobrecent", "jobqueued"}
        # an account whose erasure stopped after its key was destroyed, with a session left
        erased = _user(s, shredded=True)
        _session(s, now, last_seen=timedelta(0), age=timedelta(0), stage="full", user_id=erased)
    live["users"] = {owner, full} | {c for _, c in live["children"]}
    return live


def _state(db: Database) -> dict[str, object]:
    with db.session() as s:
        return {
            "web_sessions": set(s.scalars(select(WebSession.id))),
            "email_tokens": set(s.scalars(select(EmailToken.id))),
            "share_links": set(s.scalars(select(ShareLink.id))),
            "share_link_opens": set(s.scalars(select(ShareLinkOpen.id))),
            "throttles": set(s.scalars(select(Throttle.key))),
            "jobs": set(s.scalars(select(Job.id))),
            "users": set(s.scalars(select(User.id))),
            "secrets": {(m.__tablename__, r.id, r.state_hash is not None, r.verifier_encrypted is not None)
                        for m in (Collection, MedMijSend, QuestionnaireAccess)
                        for r in s.scalars(select(m).where(m.authorize_expires_at.is_not(None)))},
            "tokens": {r.id: r.token_encrypted is not None for r in s.scalars(
                select(QuestionnaireAccess).where(QuestionnaireAccess.id.in_(("tokenold", "tokenlive"))))},
            "invitations": {r.id: r.token_hash is not None for r in s.scalars(select(Delegation))},
            "claims": {r.user_id: r.claim_token_hash is not None for r in s.scalars(select(ManagedRecord))},
        }


def test_expired_rows_go_live_rows_stay_and_a_second_run_is_a_no_op(db: Database, settings: Settings,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    now = utcnow()
    live = _seed(db, settings, now)
    with caplog.at_level(logging.INFO, logger="regie.jobs"):
        counts = cleanup.run(db, settings, now)
    assert counts == {
        "sessions_anonymous": 1, "sessions": 2, "email_links": 1, "share_links": 2, "collect_states": 1,
        "send_states": 1, "questionnaire_states": 1, "questionnaire_tokens": 1, "invitations": 1,
        "child_claims": 1, "throttles": 1, "jobs": 1, "erased_accounts": 1, "outbox_files": 0,
    }
    state = _state(db)
    for table in ("web_sessions", "email_tokens", "share_links", "share_link_opens", "throttles", "jobs", "users"):
        assert state[table] == live[table], table
    for table, row_id, has_state, has_verifier in state["secrets"]:
        # the expired authorization lost both secrets but the row stays; the recent one is untouched
        assert (has_state, has_verifier) == ((False, False) if row_id.endswith("old") else (True, True)), row_id
    assert len(state["secrets"]) == 6
    assert state["tokens"] == {"tokenold": False, "tokenlive": True}
    assert state["invitations"] == {"inviteold": False, "inviteopen": True}  # the row stays: the owner's history
    assert state["claims"] == {child: name == "open" for name, child in live["children"]}

    # one log line with the counts, nothing that names a person
    record = next(r for r in caplog.records if r.getMessage() == "clean-up done")
    assert record.sessions == 2 and record.share_links == 2
    logged = " ".join(str(v) for v in vars(record).values())
    assert "@example.org" not in logged and not any(user in logged for user in live["users"])

    assert set(cleanup.run(db, settings, now).values()) == {0}  # idempotent
    assert _state(db) == state


def test_batches_are_bounded_and_the_rest_waits_for_the_next_run(db: Database, settings: Settings) -> None:
    now = utcnow()
    with db.session() as s:
        for _ in range(11):
            _session(s, now, last_seen=timedelta(hours=1), age=timedelta(hours=1))

    def sessions(counts: dict[str, int]) -> tuple[int, int]:
        return counts["sessions_anonymous"], counts["sessions"]

    # two sweeps find idle sessions (anonymous ones first), each at most 2 batches of 2
    assert sessions(cleanup.run(db, settings, now, batch=2, max_batches=2)) == (4, 4)
    assert sessions(cleanup.run(db, settings, now, batch=2, max_batches=2)) == (3, 0)
    assert sessions(cleanup.run(db, settings, now, batch=2)) == (0, 0)
    with db.session() as s:
        assert s.scalars(select(WebSession.id)).all() == []


# PostgreSQL only: SQLite has one writer at a time, the other connection would wait for this one.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_session_used_between_select_and_delete_stays(db: Database, settings: Settings) -> None:
    """The condition is checked again in the delete itself."""
    now = utcnow()
    with db.session() as s:
        kept = _session(s, now, last_seen=timedelta(hours=1), age=timedelta(hours=1), stage="full",
                        user_id=_user(s))
    sweep = next(w for w in cleanup.sweeps(settings) if w.kind == "sessions")

    def used_meanwhile(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM WEB_SESSIONS"):
            with db.engine.begin() as other:
                other.execute(WebSession.__table__.update().values(last_seen_at=now))

    event.listen(db.engine, "before_cursor_execute", used_meanwhile)
    try:
        # PostgreSQL: the other transaction commits before our DELETE runs; READ COMMITTED sees it.
        assert cleanup._sweep(db, sweep, now, 10, 1) == 0
    finally:
        event.remove(db.engine, "before_cursor_execute", used_meanwhile)
    with db.session() as s:
        assert s.get(WebSession, kept) is not None


def test_every_sweep_reads_through_an_index(db: Database, settings: Settings) -> None:
    from regie.leaving.erase import SHREDDED

    now = utcnow()
    queries = [select(*[w.table.c[k] for k in w.keys]).where(w.where(now)).limit(500)
               for w in cleanup.sweeps(settings)]
    queries.append(select(User.id).where(User.wrapped_data_key == SHREDDED))  # regie.leaving.erase.finish_pending
    postgres = db.engine.dialect.name == "postgresql"
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "

    def as_explain(_conn, _cursor, statement, parameters, _context, _many):
        return explain + statement, parameters  # the real statement with its bound values

    with db.engine.connect() as connection:
        if postgres:
            connection.execute(text("SET enable_seqscan = off"))  # tiny tables: else a scan is cheaper
        event.listen(connection, "before_cursor_execute", as_explain, retval=True)
        for query in queries:
            plan = " | ".join(str(row[-1]) for row in connection.execute(query))
            if postgres:
                assert "Seq Scan" not in plan and "Index" in plan, (str(query), plan)
            else:
                assert "INDEX" in plan and not any(
                    part.strip().startswith("SCAN") and "INDEX" not in part for part in plan.split("|")), (str(query), plan)


def test_statements_on_user_data_tables_name_user_id(db: Database, settings: Settings) -> None:
    """Citus (docs/scale.md): multi-shard by expiry is fine, but each statement names user_id."""
    now = utcnow()
    _seed(db, settings, now)
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        cleanup.run(db, settings, now)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    assert any("share_links" in s for s in statements)
    found = violations(statements)
    assert not found, found


def test_old_outbox_mail_is_pruned(settings: Settings) -> None:
    folder = settings.home / "outbox"
    folder.mkdir()
    old, new, other = folder / "1-old.eml", folder / "2-new.eml", folder / "notes.txt"
    for path in (old, new, other):
        path.write_text("To: someone@example.org")
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    os.utime(other, (week_ago, week_ago))
    (folder / "3-link.eml").symlink_to(old)
    assert cleanup.prune_outbox(folder, utcnow()) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["2-new.eml", "3-link.eml", "notes.txt"]
    assert cleanup.prune_outbox(folder, utcnow()) == 0
    # a week later the newer one goes too
    assert cleanup.prune_outbox(folder, utcnow() + 8 * DAY) == 1
    assert cleanup.prune_outbox(settings.home / "missing", utcnow()) == 0


def test_the_worker_schedules_and_runs_it(db: Database, settings: Settings) -> None:
    from prometheus_client import REGISTRY

    assert tasks.CLEANUP in tasks.periodic(settings)
    now = utcnow()
    with db.session() as s:
        gone = _session(s, now, last_seen=timedelta(hours=1), age=timedelta(hours=1))
    (settings.home / "outbox").mkdir()
    old_mail = settings.home / "outbox" / "1-old.eml"
    old_mail.write_text("x")
    os.utime(old_mail, (time.time() - 8 * 86400,) * 2)
    before = REGISTRY.get_sample_value("regie_cleanup_removed_total", {"kind": "sessions_anonymous"}) or 0.0

    context = JobContext(settings, db)
    assert Worker(context).run_until_idle() >= 1  # housekeeping puts the periodic job in the queue
    with db.session() as s:
        assert s.get(WebSession, gone) is None
        job = s.scalars(select(Job).where(Job.kind == tasks.CLEANUP, Job.state == "done")).one()
        assert job.error is None
    assert not old_mail.exists()
    assert REGISTRY.get_sample_value("regie_cleanup_removed_total", {"kind": "sessions_anonymous"}) == before + 1
    # the next round schedules the next run an interval later, and runs nothing now
    assert Worker(context).run_until_idle() == 0
    stats = JobQueue(db).stats()
    assert stats.scheduled >= 1 and stats.queued == 0


def test_the_in_process_worker_runs_it(db: Database, settings: Settings) -> None:
    """The web process's worker thread (SQLite's single-worker path) keeps the clean-up going."""
    now = utcnow()
    with db.session() as s:
        gone = _session(s, now, last_seen=timedelta(hours=1), age=timedelta(hours=1))
    # A grace long enough for a running clean-up to end before stop() returns: a job thread
    # handed back after a short grace went on and wrote after the test's schema was dropped.
    worker = InProcessWorker(JobContext(settings.model_copy(update={"jobs_poll_seconds": 0.05,
                                                                    "jobs_grace_seconds": 10}), db))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.session() as s:
                if s.get(WebSession, gone) is None:
                    break
            time.sleep(0.05)
    finally:
        worker.stop()
    with db.session() as s:
        assert s.get(WebSession, gone) is None


def test_migration_0023_goes_down_and_up_again(db: Database) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from regie.store.migrate import alembic_config, upgrade

    def names() -> set[str]:
        found = inspect(db.engine)
        return {i["name"] for t in ("users", "web_sessions", "collections", "delegations")
                for i in found.get_indexes(t)}

    wanted = {"ix_users_shredded", "ix_web_sessions_last_seen_at", "ix_collections_open_authorizations",
              "ix_delegations_open_invitations"}
    assert wanted <= names()
    command.downgrade(alembic_config(db.engine), "0022")
    assert not wanted & names()
    upgrade(db.engine)
    assert wanted <= names()
