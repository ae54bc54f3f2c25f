"""A check on every transaction the suite commits on PostgreSQL: one that wrote to a table
the record pages show must also have raised the record's change counter, or a web process
could go on showing a page of the record as it was (regie.store.record_stamp,
docs/decisions/0011). Registered for every engine by tests/conftest.py, so any write path a
test takes is checked, including ones added later.

PostgreSQL counts a connection's written rows per table (``pg_stat_xact_user_tables``);
the check reads them when a transaction begins and just before it commits.
Exempt: migrations (they change no page a running process keeps: processes restart with a
new version), writes that mark the users for the rebuild as a migration does (the rebuild
raises the counter) and deleting an account (its pages go with it).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from regie.store.record_stamp import STAMPED_TABLES

_COUNTS = ("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
           "WHERE schemaname = current_schema()")
_EXEMPT = frozenset({"alembic_version", "record_reindex_pending", "users"})
_BEFORE = "stamp_guard_counts"
_unchecked = threading.local()


def _checked(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql" or getattr(_unchecked, "active", False):
        return False
    try:
        return not connection.connection.dbapi_connection.autocommit  # statements commit on their own there
    except Exception:  # a lost connection (the fault tests): its transaction fails on its own
        return False


def _counts(connection: Connection) -> dict[str, int]:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_COUNTS)
        return dict(cursor.fetchall())
    finally:
        cursor.close()


@event.listens_for(Engine, "begin")
def _count_before(connection: Connection) -> None:
    # The view also holds earlier transactions' rows that the server has not yet added to its
    # totals (it does so between transactions, when the connection is idle): the check compares
    # with what it said at the start of this transaction, in the transaction (its first
    # statement), so nothing is added in between.
    if _checked(connection):
        try:
            connection.info[_BEFORE] = _counts(connection)
        except Exception:  # a lost connection: the transaction fails on its own
            connection.info.pop(_BEFORE, None)


@event.listens_for(Engine, "commit")
def _record_writes_raise_the_stamp(connection: Connection) -> None:
    if not _checked(connection):
        return
    before = connection.info.pop(_BEFORE, None)
    if before is None:
        return
    try:
        now = _counts(connection)
    except Exception:  # the connection is lost (the fault tests): the commit fails on its own
        return
    written = {table for table, count in now.items() if count > before.get(table, 0)}
    unstamped = written & STAMPED_TABLES
    if unstamped and "record_stamps" not in written and not written & _EXEMPT:
        raise AssertionError(f"a transaction wrote {sorted(unstamped)} without raising the record's change "
                             "counter (record_stamps): call RecordRepository.note_write (regie.store.record_stamp)")


@event.listens_for(Engine, "rollback")
def _forget(connection: Connection) -> None:
    if connection.dialect.name == "postgresql" and not connection.invalidated:
        connection.info.pop(_BEFORE, None)


@contextmanager
def as_a_migration() -> Iterator[None]:
    """For a test that writes rows as a migration would (straight SQL, no user keys): not
    checked, as migrations are not."""
    _unchecked.active = True
    try:
        yield
    finally:
        _unchecked.active = False
