"""Server-side sessions: the cookie carries a random token, the database its hash.

Stages: ``anonymous`` (a visitor with a CSRF token), ``enrol`` (password
accepted, but no second factor set up yet: only enrolment is reachable),
``second_factor`` (password accepted, second factor still to give) and
``full``. A new token is issued at login and at every change of stage, so a
token planted before login (session fixation) is worthless after it.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete
from sqlalchemy.orm import Session

from regie.accounts.activity import ClientInfo
from regie.accounts.session_query import SessionQueries
from regie.config import Settings
from regie.store.models import User, WebSession

STAGES = ("anonymous", "enrol", "second_factor", "full")
_LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, settings: Settings) -> None:
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(hours=settings.session_absolute_hours)
        self._queries: dict[str, SessionQueries] = {}  # per database dialect

    def load(self, session: Session, token: str, now: datetime) -> WebSession | None:
        if not token or len(token) > 100:
            return None
        row = session.get(WebSession, token_hash(token))
        if row is None:
            return None
        if now - row.last_seen_at > self.idle or now - row.created_at > self.absolute:
            session.delete(row)
            return None
        if now - row.last_seen_at > _LAST_SEEN_RESOLUTION:
            row.last_seen_at = now  # written at most once a minute: reads stay reads
        return row

    def load_for_request(self, connection: Connection, token: str,
                         now: datetime) -> tuple[WebSession | None, User | None]:
        """:meth:`load` and the session's user (None before log-in) for the web request path:
        the same rules, as driver SQL on one connection (regie.accounts.session_query)."""
        if not token or len(token) > 100:
            return None, None
        return self.queries(connection.dialect).load(connection, token_hash(token), now, idle=self.idle,
                                                     absolute=self.absolute,
                                                     last_seen_resolution=_LAST_SEEN_RESOLUTION)

    def queries(self, dialect: Any) -> SessionQueries:
        found = self._queries.get(dialect.name)
        if found is None:
            found = self._queries[dialect.name] = SessionQueries(dialect)
        return found

    def create(
        self,
        session: Session,
        client: ClientInfo,
        now: datetime,
        *,
        user_id: str | None = None,
        stage: str = "anonymous",
    ) -> tuple[str, WebSession]:
        assert stage in STAGES
        token = secrets.token_urlsafe(32)
        row = WebSession(
            id=token_hash(token),
            user_id=user_id,
            stage=stage,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            user_agent=client.user_agent[:300],
            ip=client.ip[:64],
            scratch="{}",
        )
        session.add(row)
        session.flush()
        return token, row

    def rotate(
        self,
        session: Session,
        old: WebSession | None,
        client: ClientInfo,
        now: datetime,
        *,
        user_id: str,
        stage: str,
    ) -> tuple[str, WebSession]:
        """Replace the session by a new one (new token, new CSRF token)."""
        created_at = now
        if old is not None:
            # The absolute limit runs from the first login of this sign-in, not from each rotation.
            if old.user_id == user_id and old.stage != "anonymous":
                created_at = old.created_at
            self.destroy(session, old)
        token, row = self.create(session, client, now, user_id=user_id, stage=stage)
        row.created_at = created_at
        return token, row

    def destroy(self, session: Session, row: WebSession) -> None:
        session.execute(delete(WebSession).where(WebSession.id == row.id))

    def destroy_all_for_user(self, session: Session, user_id: str, keep: WebSession | None = None) -> None:
        statement = delete(WebSession).where(WebSession.user_id == user_id)
        if keep is not None:
            statement = statement.where(WebSession.id != keep.id)
        session.execute(statement)


def read_scratch(row: WebSession) -> dict[str, Any]:
    # Read several times per request (the access guards); most sessions keep nothing here.
    scratch = row.scratch
    return orjson.loads(scratch) if scratch and scratch != "{}" else {}


def write_scratch(row: WebSession, **values: Any) -> None:
    data = read_scratch(row)
    data.update(values)
    row.scratch = json.dumps({k: v for k, v in data.items() if v is not None})
