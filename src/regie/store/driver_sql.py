"""Plain SQL on the hot read path, straight on the driver's cursor.

``Connection.exec_driver_sql`` already skips SQLAlchemy's statement building, but its
result handling (a CursorResult with its metadata, per statement) still cost about four
times the driver's own work: ~0.19 ms of CPU against ~0.05 ms for a one-row SELECT on
PostgreSQL (docs/benchmarks.md, Load). A signed-in JSON read runs a handful of these, so
that difference is a fifth of its CPU.

What SQLAlchemy would otherwise do for us is kept:
- the statement runs inside the Connection's transaction (begun as SQLAlchemy would
  autobegin it), so commit and rollback work as before;
- a driver error becomes SQLAlchemy's wrapped exception (``OperationalError`` for a lost
  database, which the web layer answers with a 503), and a lost connection is invalidated;
- when anything listens for statements (the tests that count them), the statement goes
  through ``exec_driver_sql`` so the listeners see it. Results are the same either way:
  ``exec_driver_sql`` applies no type conversion to plain SQL.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, exc

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": "?", "named": "?"}


def mark_of(dialect: Any) -> str:
    """The driver's parameter mark (``?`` for SQLite, ``%s`` for psycopg)."""
    try:
        return _MARKS[dialect.paramstyle]
    except KeyError:
        raise NotImplementedError(f"parameter style {dialect.paramstyle}") from None


def fetch_all(connection: Connection, sql: str, params: Sequence[Any] = (), *,
              binary: bool = False) -> list[tuple[Any, ...]]:
    """The rows of a statement that returns rows (a SELECT). ``binary``: PostgreSQL sends the
    rows in its binary format, for statements that return encrypted blobs: in the text
    format the server writes each ``bytea`` value as hex and the driver reads the hex back,
    twice the bytes and work on both sides (the same Python values either way)."""
    return _run(connection, sql, params, rows=True, binary=binary)


def execute(connection: Connection, sql: str, params: Sequence[Any] = ()) -> None:
    """A statement that returns no rows (INSERT, UPDATE, DELETE)."""
    _run(connection, sql, params, rows=False)


def _run(connection: Connection, sql: str, params: Sequence[Any], *, rows: bool,
         binary: bool = False) -> list[tuple[Any, ...]]:
    if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
        result = connection.exec_driver_sql(sql, tuple(params))
        return [tuple(row) for row in result.all()] if rows else []
    if not connection.in_transaction():
        connection.begin()  # what SQLAlchemy's autobegin does; a no-op round trip in autocommit
    raw = connection.connection.dbapi_connection
    dialect = connection.dialect
    numbered = _numbered(sql) if dialect.name == "postgresql" else None
    cursor = None
    try:
        if numbered is not None:
            cursor = _raw_cursor(raw)
            cursor.execute(numbered, tuple(params), binary=binary)
        else:
            cursor = raw.cursor()
            cursor.execute(sql, tuple(params))
        # Not ``cursor.description``: psycopg builds a column object per column for it.
        return list(cursor.fetchall()) if rows else []
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, raw, cursor)
        if lost:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(sql, tuple(params), error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=dialect) from error
    finally:
        if cursor is not None:
            cursor.close()


def fetch_first(connection: Connection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    rows = fetch_all(connection, sql, params)
    return rows[0] if rows else None


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> bytes | None:
    """The statement with PostgreSQL's own ``$1, $2, …`` marks instead of ``%s``, made once
    per statement text; None when it uses ``%`` in any other way (left to psycopg).

    Why: psycopg rewrites ``%s`` marks on every execution, and caches that rewrite only for
    statements under 4 KB with at most 50 parameters. The record overview's one statement
    (~6 KB) and the group lookups' IN lists (50–100 marks) are over those limits, so each
    page paid the rewrite again: ~0.26 ms per start page, timed on its own statements
    (docs/benchmarks.md, session 8).
    A raw cursor (psycopg's ``RawCursor``) takes numbered marks as they are. The number of
    distinct statement texts is small and bounded (IN lists vary only in length)."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        return None
    numbered = [part + f"${index}" for index, part in enumerate(parts[:-1], start=1)]
    numbered.append(parts[-1])
    return "".join(numbered).encode()


def _raw_cursor(raw: Any) -> Any:
    import psycopg  # only with PostgreSQL; SQLite installs need no psycopg import

    return psycopg.RawCursor(raw)
