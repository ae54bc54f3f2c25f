"""Erasing an account: crypto-shredding first, then every row (docs/leaving.md).

1. One transaction destroys the user's wrapped data key (from then on every encrypted
   blob and keyed hash of the user is unreadable noise; backups made before still hold
   the key until they expire, see docs/leaving.md), replaces the e-mail address and
   password hash, and ends every session and API token. The account cannot be used any
   more, and a crash after this step leaves nothing that can still be read.
2. A second transaction deletes the user's rows from every table, found from the
   metadata: each table with a ``user_id`` column or a column that refers to ``users.id``
   (a delegate's own delegations, too), children before parents, then the user row.
   Throttle counters are keyed by a hash of the e-mail address and go as well.

:func:`erase_user` does both and is safe to run again: a user whose key is already
gone (a crash between the two steps) is finished by :func:`finish_pending`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, delete, select, text, update
from sqlalchemy.orm import Session

from regie.store.db import Database
from regie.store.models import ApiToken, Base, EmailToken, Throttle, User, WebSession

#: Stands in for the wrapped key once it is destroyed: empty, so nothing can unwrap it.
SHREDDED = b""
#: Tables that name a user without ``user_id`` and are handled on their own, with why.
HANDLED_APART = {
    "users": "the account row itself: shredded first, deleted last",
    "throttles": "keyed by a hash of the e-mail address (regie.accounts.throttle)",
}


@dataclass
class Erased:
    user_id: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def user_columns(tables: Iterable[Table] | None = None) -> list[tuple[Table, list[Column]]]:
    """Per table (children first) the columns that hold a user's id: ``user_id`` and every
    foreign key to ``users.id``. Read from the metadata, so a new table is never forgotten."""
    out = []
    for table in reversed(list(tables if tables is not None else Base.metadata.sorted_tables)):
        if table.name == "users":
            continue
        columns = [c for c in table.columns
                   if c.name == "user_id" or any(fk.column.table.name == "users" for fk in c.foreign_keys)]
        if columns:
            out.append((table, columns))
    return out


def _throttle_keys(email: str) -> list[str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [f"{kind}:acct:{digest}" for kind in ("pw", "2fa", "rc")]


def shred(session: Session, user_id: str) -> str | None:
    """Step 1: destroy the key and every way in. Returns the old e-mail address (for the
    throttle rows), or None when the user does not exist."""
    user = session.get(User, user_id)
    if user is None:
        return None
    email = user.email
    session.execute(update(User).where(User.id == user_id).values(
        wrapped_data_key=SHREDDED,
        # Frees the address at once and keeps nothing of it; '!' is no Argon2 hash: no login.
        email=f"erased-{user_id}@invalid", password_hash="!",
    ))
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    # A registration link has no user_id (it was sent before the account existed) but
    # holds the address: it goes here, in the step that forgets the address.
    session.execute(delete(EmailToken).where(EmailToken.email == email))
    return email


def delete_rows(session: Session, user_id: str, email: str | None) -> dict[str, int]:
    """Step 2: every row that belongs to or names the user, then the user row."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Overwrite deleted content in the file instead of leaving it in free pages.
        session.execute(text("PRAGMA secure_delete = ON"))
    counts: dict[str, int] = {}
    for table, columns in user_columns():
        condition = columns[0] == user_id
        for column in columns[1:]:
            condition = condition | (column == user_id)
        result = session.execute(delete(table).where(condition))
        if result.rowcount:
            counts[table.name] = result.rowcount
    if email:
        result = session.execute(delete(Throttle).where(Throttle.key.in_(_throttle_keys(email))))
        if result.rowcount:
            counts["throttles"] = result.rowcount
    result = session.execute(delete(User).where(User.id == user_id))
    counts["users"] = result.rowcount or 0
    if sqlite:
        session.execute(text("PRAGMA secure_delete = OFF"))
    return counts


def _checkpoint(db: Database) -> None:
    """SQLite: copy the WAL into the file (whose deleted pages are zeroed) and empty it, so
    older page images do not linger there. Best effort: readers may hold it back a while."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def erase_user(db: Database, user_id: str) -> Erased:
    with db.session() as session:
        email = shred(session, user_id)
    if email is None:
        return Erased(user_id)
    with db.session() as session:
        erased = Erased(user_id, delete_rows(session, user_id, email))
    _checkpoint(db)
    return erased


def finish_pending(db: Database) -> list[Erased]:
    """Accounts whose key was destroyed but whose rows are still there (a crash between
    the two steps): delete their rows now."""
    with db.session() as session:
        pending = list(session.scalars(select(User.id).where(User.wrapped_data_key == SHREDDED)))
    done = []
    for user_id in pending:
        with db.session() as session:
            done.append(Erased(user_id, delete_rows(session, user_id, None)))
    return done
