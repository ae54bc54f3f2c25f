"""The record's change counter (``record_stamps``): raised with every write to what the
record pages show, read before a page reads the record (docs/decisions/0011).

A write marks its user on the ORM session (:func:`note_change`); the counter is raised
once per user just before the transaction commits, so it becomes visible together with
the rows it stands for, and its row lock is held only for the commit. A page reads the
counter *first*, then the record: a page it renders is at least as new as the number it
is kept under, never older.

Which tables count is :data:`STAMPED_TABLES`. The test suite checks every transaction it
commits on PostgreSQL: one that wrote to such a table without raising the counter fails
(``tests/stamp_guard.py``), so a new write path cannot forget it.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from regie.store import driver_sql

#: The tables whose rows the record pages show. Not the audit trail, the search index or
#: the rebuild marks: a write there changes no page.
STAMPED_TABLES = frozenset({"record_resources", "record_sources", "record_links",
                            "record_resource_versions", "record_notes"})

_CHANGED = "regie_record_changed"
_BUMP = ("INSERT INTO record_stamps (user_id, stamp) VALUES ({m}, 1) "
         "ON CONFLICT (user_id) DO UPDATE SET stamp = record_stamps.stamp + 1")
_READ = "SELECT stamp FROM record_stamps WHERE user_id = {m}"


def note_change(session: Any, user_id: str) -> None:
    """``user_id``'s record changes in this unit of work. On an ORM session the counter is
    raised at its commit; on an autocommit connection (:class:`regie.store.db.ConnectionUnit`)
    every statement commits on its own, so it is raised now."""
    if isinstance(session, Session):
        session.info.setdefault(_CHANGED, set()).add(user_id)
    else:
        bump(session.connection(), [user_id])


def bump(connection: Any, user_ids: Iterable[str]) -> None:
    """Raise the counter of each user (in id order: two transactions never wait on each
    other's rows in opposite orders)."""
    sql = _BUMP.format(m=driver_sql.mark_of(connection.dialect))
    for user_id in sorted(set(user_ids)):
        driver_sql.execute(connection, sql, (user_id,))


def stamp_of(connection: Any, user_id: str) -> int:
    """The user's counter now (0 before their record's first write)."""
    row = driver_sql.fetch_first(connection, _READ.format(m=driver_sql.mark_of(connection.dialect)), (user_id,))
    return int(row[0]) if row is not None else 0


@event.listens_for(Session, "before_commit")
def _raise_before_commit(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        bump(session.connection(), changed)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # Only a real rollback: after a savepoint's, the outer transaction may still write and
    # commit; raising the counter for a change that was undone costs one page render.
    session.info.pop(_CHANGED, None)
