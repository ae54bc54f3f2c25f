"""The periodic clean-up: everything that expired, removed or made harmless.

Run by the ``cleanup`` job (every ``REGIE_JOBS_CLEANUP_MINUTES``, on ``regie worker`` and
on the web process's worker thread on SQLite). What goes, and why that long after expiry:

==========================  ==========================================================
sessions                    idle or past their absolute limit (anonymous ones too:
                            every visitor who opened a form has one)
email_links                 registration and reset links two days after expiry or use
                            (until then a reused link can still say "used"/"expired")
share_links                 30 days after they expired or were stopped, with their
                            openings (the patient sees recent ones in the list; the
                            audit log keeps every opening)
collect/send/questionnaire  the OAuth state hash and PKCE verifier of an authorization
_states                     that expired a day ago (a late callback still hears
                            "expired" for a day); the row itself stays (its receipt)
questionnaire_tokens        a provider's access token once it expired
invitations                 the token hash of a delegation invitation a week after it
                            expired; the row stays (the owner's history)
child_claims                the token hash of a child's claim link a week after expiry
throttles                   failure counters a day after the last failure, no lock left
                            (they hold client addresses; a new failure starts afresh)
jobs                        finished jobs after a week
erased_accounts             rows of accounts whose erasure stopped after the key went
outbox_files                development mail (``REGIE_HOME/outbox``) after a week
==========================  ==========================================================

Step-up markers need nothing of their own: ``web_sessions.step_up_until`` is compared
with the clock on use and goes with its session.

Every sweep finds rows through an index (``regie.store.cleanup_indexes``), works in
bounded batches of one short transaction each (a backlog never holds locks for long; what
is left waits for the next run), re-checks its condition in the statement that changes the
rows (a session used meanwhile stays), and names ``user_id`` in every statement on a
user-data table (docs/scale.md). Running it twice changes nothing the second time.
Logged and counted per kind; no ids, addresses or content.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, or_, select, tuple_, update

from regie.config import Settings
from regie.store.db import Database
from regie.store.types import utcnow

log = logging.getLogger("regie.jobs")

BATCH = 500
MAX_BATCHES = 200  # per sweep and run: at most 100,000 rows, the rest next time

SHARE_LINKS_KEPT = timedelta(days=30)
OAUTH_STATES_KEPT = timedelta(days=1)
INVITATIONS_KEPT = timedelta(days=7)
THROTTLES_KEPT = timedelta(days=1)
JOBS_KEPT = timedelta(days=7)
OUTBOX_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class Sweep:
    """Rows of one table that match ``where(now)``: deleted, or updated with ``clear``."""

    kind: str
    table: Table
    keys: tuple[str, ...]  # the primary key, ``user_id`` first on user-data tables
    where: Callable[[datetime], ColumnElement[bool]]
    clear: dict[str, Any] | None = None
    # Child rows deleted first, as (table, its columns that point at ``keys``).
    children: tuple[tuple[Table, tuple[str, ...]], ...] = ()


def sweeps(settings: Settings) -> list[Sweep]:
    from regie.accounts.email_links import _KEEP_AFTER as EMAIL_LINKS_KEPT  # the links' own rule
    from regie.store.collect_models import Collection
    from regie.store.delegation_models import Delegation, ManagedRecord
    from regie.store.jobs_models import Job
    from regie.store.models import EmailToken, Throttle, WebSession
    from regie.store.questionnaire_models import QuestionnaireAccess
    from regie.store.share_models import MedMijSend
    from regie.store.sharelinks_models import ShareLink, ShareLinkOpen

    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    ws, link = WebSession.__table__.c, ShareLink.__table__.c

    def oauth(kind: str, model) -> Sweep:
        c = model.__table__.c
        return Sweep(kind, model.__table__, ("user_id", "id"),
                     lambda now: (c.verifier_encrypted.is_not(None)) & (c.authorize_expires_at < now - OAUTH_STATES_KEPT),
                     clear={"verifier_encrypted": None, "state_hash": None})

    qa, dg, mr = QuestionnaireAccess.__table__.c, Delegation.__table__.c, ManagedRecord.__table__.c
    opens = ((ShareLinkOpen.__table__, ("user_id", "link_id")),)
    return [
        # Two sweeps per end condition, each on its own index.
        Sweep("sessions_anonymous", WebSession.__table__, ("id",),
              lambda now: (ws.stage == "anonymous") & (ws.last_seen_at < now - idle)),
        Sweep("sessions", WebSession.__table__, ("id",), lambda now: ws.last_seen_at < now - idle),
        Sweep("sessions", WebSession.__table__, ("id",), lambda now: ws.created_at < now - absolute),
        Sweep("email_links", EmailToken.__table__, ("id",),
              lambda now: EmailToken.__table__.c.expires_at < now - EMAIL_LINKS_KEPT),
        Sweep("share_links", ShareLink.__table__, ("user_id", "id"),
              lambda now: link.expires_at < now - SHARE_LINKS_KEPT, children=opens),
        Sweep("share_links", ShareLink.__table__, ("user_id", "id"),
              lambda now: link.revoked_at < now - SHARE_LINKS_KEPT, children=opens),
        oauth("collect_states", Collection),
        oauth("send_states", MedMijSend),
        oauth("questionnaire_states", QuestionnaireAccess),
        Sweep("questionnaire_tokens", QuestionnaireAccess.__table__, ("user_id", "id"),
              lambda now: qa.token_encrypted.is_not(None) & (qa.token_expires_at < now),
              clear={"token_encrypted": None, "token_expires_at": None}),
        Sweep("invitations", Delegation.__table__, ("user_id", "id"),
              lambda now: dg.token_hash.is_not(None) & (dg.invite_expires_at < now - INVITATIONS_KEPT),
              clear={"token_hash": None}),
        Sweep("child_claims", ManagedRecord.__table__, ("user_id",),
              lambda now: mr.claim_token_hash.is_not(None) & (mr.claim_expires_at < now - INVITATIONS_KEPT),
              clear={"claim_token_hash": None}),
        Sweep("throttles", Throttle.__table__, ("key",),
              lambda now: (Throttle.__table__.c.last_failure_at < now - THROTTLES_KEPT)
              & or_(Throttle.__table__.c.locked_until.is_(None), Throttle.__table__.c.locked_until < now)),
        Sweep("jobs", Job.__table__, ("id",),
              lambda now: Job.__table__.c.state.in_(("done", "failed")) & (Job.__table__.c.finished_at < now - JOBS_KEPT)),
    ]


def run(db: Database, settings: Settings, now: datetime | None = None, *, batch: int = BATCH,
        max_batches: int = MAX_BATCHES) -> dict[str, int]:
    """One clean-up round; the count per kind (rows or files removed or cleared)."""
    from regie.leaving.erase import finish_pending

    now = now or utcnow()
    counts: dict[str, int] = {}
    for sweep in sweeps(settings):
        counts[sweep.kind] = counts.get(sweep.kind, 0) + _sweep(db, sweep, now, batch, max_batches)
    counts["erased_accounts"] = len(finish_pending(db))
    counts["outbox_files"] = prune_outbox(settings.home / "outbox", now)
    log.info("clean-up done", extra=counts)
    _observe(counts)
    return counts


def _sweep(db: Database, sweep: Sweep, now: datetime, batch: int, max_batches: int) -> int:
    condition = sweep.where(now)
    key_columns = [sweep.table.c[name] for name in sweep.keys]
    done = 0
    for _ in range(max_batches):
        with db.session() as session:
            keys = [tuple(row) for row in session.execute(select(*key_columns).where(condition).limit(batch))]
            if not keys:
                break
            for child, columns in sweep.children:
                session.execute(delete(child).where(_match([child.c[n] for n in columns], keys)))
            statement = (delete(sweep.table) if sweep.clear is None
                         else update(sweep.table).values(**sweep.clear))
            # The condition again: a row that changed since the select (a session used) stays.
            done += session.execute(statement.where(_match(key_columns, keys), condition)).rowcount or 0
        if len(keys) < batch:
            break
    return done


def _match(columns: list, keys: list[tuple]) -> ColumnElement[bool]:
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return tuple_(*columns).in_(keys)


def prune_outbox(folder: Path, now: datetime, kept: timedelta = OUTBOX_KEPT) -> int:
    """Delete mail files older than ``kept`` from the outbox (written without SMTP). Their
    links expired long before; the files hold addresses and live links while they last."""
    if not folder.is_dir():
        return 0
    cutoff = (now - kept).timestamp()
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.endswith(".eml") or not entry.is_file(follow_symlinks=False):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # another worker took it first
                continue
    return removed


def _observe(counts: dict[str, int]) -> None:
    try:
        from regie.ops.metrics import observe_cleanup

        observe_cleanup(counts)
    except Exception:  # metrics never break a job
        pass
