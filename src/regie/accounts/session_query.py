"""The statements every signed-in request runs, as plain SQL.

Every request loads its session, the session's user and (for the access policy on one's
own record) the user's managed-record row. Through the ORM that cost ~0.9 ms of CPU per
statement on a small server, several times the database's own work (statement caching
keys, result objects, identity map); as driver SQL on one connection (regie.store.driver_sql)
it costs a fraction (docs/benchmarks.md, Load). The rows become ordinary detached model instances, exactly
what an ORM query followed by the end of its session gives, so the rest of Regie cannot
tell the difference. Column lists and value conversions come from the models, so a
column added there is read here too.

Two statements, not one join: ``managed_records`` is distributed by ``user_id`` on Citus
(docs/scale.md) and is read by its distribution column; the session (a local table) and
the user (a reference table) join on the coordinator.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from regie.store.delegation_models import ManagedRecord
from regie.store.driver_sql import execute, fetch_first, mark_of
from regie.store.models import User, WebSession
from regie.store.row_shape import RowShape


class SessionQueries:
    """The session-loading statements for one database dialect (built once per engine)."""

    def __init__(self, dialect: Any) -> None:
        mark = mark_of(dialect)
        self.session = RowShape(WebSession, dialect)
        self.user = RowShape(User, dialect)
        self.managed = RowShape(ManagedRecord, dialect)
        self.select_session = (
            f"SELECT {self.session.select}, {self.user.select} FROM web_sessions "
            f"LEFT OUTER JOIN users ON users.id = web_sessions.user_id WHERE web_sessions.id = {mark}")
        self.select_managed = (f"SELECT {self.managed.select} FROM managed_records "
                               f"WHERE managed_records.user_id = {mark}")
        self.delete_session = f"DELETE FROM web_sessions WHERE web_sessions.id = {mark}"
        self.touch_session = f"UPDATE web_sessions SET last_seen_at = {mark} WHERE web_sessions.id = {mark}"
        column = WebSession.__table__.c.last_seen_at
        self._bind_time = column.type.dialect_impl(dialect).bind_processor(dialect)

    def load(self, connection: Connection, token_hash: str, now: datetime, *, idle: timedelta,
             absolute: timedelta, last_seen_resolution: timedelta) -> tuple[WebSession | None, User | None]:
        """The session (None when unknown or expired: an expired one is deleted) and its user."""
        row = fetch_first(connection, self.select_session, (token_hash,))
        if row is None:
            return None, None
        session_row, user_row = row[: self.session.width], row[self.session.width :]
        values = self.session.values(session_row)
        if now - values["last_seen_at"] > idle or now - values["created_at"] > absolute:
            execute(connection, self.delete_session, (token_hash,))
            return None, None
        if now - values["last_seen_at"] > last_seen_resolution:
            # Written at most once a minute: reads stay reads.
            stamp = self._bind_time(now) if self._bind_time is not None else now
            execute(connection, self.touch_session, (stamp, token_hash))
            values["last_seen_at"] = now
        user_id = user_row[self.user.keys.index("id")]
        user = self.user.instance(self.user.values(user_row)) if user_id is not None else None
        return self.session.instance(values), user

    def managed_record(self, connection: Connection, user_id: str) -> ManagedRecord | None:
        row = fetch_first(connection, self.select_managed, (user_id,))
        return self.managed.instance(self.managed.values(row)) if row is not None else None
