"""regie.store.driver_sql: the same rows as SQLAlchemy's exec_driver_sql, inside the same
transaction, with SQLAlchemy's errors, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import event, exc, text

from regie.store.db import Database
from regie.store.driver_sql import execute, fetch_all, fetch_first, mark_of


@pytest.fixture
def table(db: Database) -> Database:
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE driver_probe (id VARCHAR(10) PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO driver_probe VALUES ('a', 1), ('b', 2), ('c', NULL)"))
    return db


def _sql(db: Database, sql: str) -> str:
    return sql.replace("?", mark_of(db.engine.dialect))


def test_rows_are_those_exec_driver_sql_gives(table: Database) -> None:
    sql = _sql(table, "SELECT id, n FROM driver_probe WHERE id IN (?, ?, ?) ORDER BY id")
    with table.engine.connect() as connection:
        expected = [tuple(row) for row in connection.exec_driver_sql(sql, ("a", "c", "z")).all()]
        assert fetch_all(connection, sql, ("a", "c", "z")) == expected == [("a", 1), ("c", None)]
        assert fetch_first(connection, sql, ("b", "b", "b")) == ("b", 2)
        assert fetch_first(connection, sql, ("x", "y", "z")) is None


def test_writes_belong_to_the_session_transaction(table: Database) -> None:
    insert = _sql(table, "INSERT INTO driver_probe VALUES (?, ?)")
    with pytest.raises(RuntimeError):
        with table.session() as session:
            execute(session.connection(), insert, ("d", 4))
            raise RuntimeError("roll back")
    with table.session() as session:
        execute(session.connection(), insert, ("e", 5))
    with table.engine.connect() as connection:
        assert fetch_all(connection, "SELECT id FROM driver_probe WHERE n > 3") == [("e",)]


def test_autocommit_reading_commits_each_statement(table: Database) -> None:
    with table.reading() as session:
        execute(session.connection(), _sql(table, "INSERT INTO driver_probe VALUES (?, ?)"), ("f", 6))
    with table.engine.connect() as connection:
        assert fetch_first(connection, "SELECT n FROM driver_probe WHERE id = 'f'") == (6,)


def test_a_driver_error_is_sqlalchemys_error(table: Database) -> None:
    with table.engine.connect() as connection:
        with pytest.raises(exc.DBAPIError) as raised:
            fetch_all(connection, "SELECT no_such_column FROM driver_probe")
        assert isinstance(raised.value, (exc.ProgrammingError, exc.OperationalError))
        assert "no_such_column" in str(raised.value)


def test_statement_listeners_still_see_every_statement(table: Database) -> None:
    seen: list[str] = []
    listener = lambda conn, cursor, sql, params, ctx, many: seen.append(sql)  # noqa: E731
    event.listen(table.engine, "before_cursor_execute", listener)
    try:
        with table.engine.connect() as connection:
            assert fetch_all(connection, "SELECT id FROM driver_probe ORDER BY id") == [("a",), ("b",), ("c",)]
    finally:
        event.remove(table.engine, "before_cursor_execute", listener)
    assert seen == ["SELECT id FROM driver_probe ORDER BY id"]


def test_a_lost_postgresql_connection_is_an_operational_error_and_invalidated(table: Database) -> None:
    if table.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    with table.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        raw.pgconn.finish()  # the socket is gone, as when the server went away mid-request
        with pytest.raises(exc.OperationalError) as raised:
            fetch_all(connection, "SELECT 1")
        assert raised.value.connection_invalidated
        assert connection.invalidated


def test_marks_are_numbered_once_for_postgresql() -> None:
    from regie.store.driver_sql import _numbered

    assert _numbered("SELECT a FROM t WHERE b = %s AND c IN (%s, %s)") == b"SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    assert _numbered("SELECT 1") == b"SELECT 1"
    # Any other use of % is left to psycopg's own rewriting.
    assert _numbered("SELECT a FROM t WHERE b LIKE 'x%%' AND c = %s") is None
    assert _numbered("SELECT a FROM t WHERE b = %(name)s") is None


def test_a_long_statement_with_many_marks_gives_the_same_rows(table: Database) -> None:
    """Over psycopg's 4 KB / 50-parameter cache limits (the overview's statement): the raw
    cursor path on PostgreSQL gives what exec_driver_sql gives."""
    wanted = ["a", "c"] + [f"z{n}" for n in range(70)]
    padding = " ".join(f"/* {n:04d} */" for n in range(450))  # the statement text over 4 KB
    sql = _sql(table, f"SELECT id, n FROM driver_probe {padding} WHERE id IN ({', '.join('?' * len(wanted))}) "
                      "ORDER BY id")
    assert len(sql) > 4096
    with table.engine.connect() as connection:
        expected = [tuple(row) for row in connection.exec_driver_sql(sql, tuple(wanted)).all()]
        for _ in range(6):  # past psycopg's prepare threshold too
            assert fetch_all(connection, sql, wanted) == expected == [("a", 1), ("c", None)]


@pytest.fixture
def blobs(db: Database) -> Database:
    """Every kind of value the record reads return, with a blob among them."""
    with db.engine.begin() as connection:
        blob = "BYTEA" if db.engine.dialect.name == "postgresql" else "BLOB"
        stamp = "TIMESTAMP WITH TIME ZONE" if db.engine.dialect.name == "postgresql" else "TIMESTAMP"
        connection.execute(text(f"CREATE TABLE blob_probe (id VARCHAR(32) PRIMARY KEY, n INTEGER, flag BOOLEAN,"
                                f" at {stamp}, record_encrypted {blob})"))
        connection.execute(text("INSERT INTO blob_probe VALUES (:id, :n, :flag, :at, :blob)"), [
            {"id": "a", "n": 1, "flag": True, "at": "2026-11-23 10:00:00+00:00", "blob": bytes(range(256)) * 8},
            {"id": "b", "n": None, "flag": None, "at": None, "blob": None}])
    return db


def test_binary_rows_are_the_text_rows(blobs: Database) -> None:
    """Statements with encrypted blobs ask PostgreSQL for its binary format (half the bytes, no
    hex on either side): the same Python values as the text format, and SQLite ignores it."""
    sql = _sql(blobs, "SELECT id, n, flag, at, record_encrypted FROM blob_probe WHERE id IN (?, ?) ORDER BY id")
    with blobs.engine.connect() as connection:
        text_rows = fetch_all(connection, sql, ("a", "b"))
        binary_rows = fetch_all(connection, sql, ("a", "b"), binary=True)
    assert binary_rows == text_rows and binary_rows[0][4] == bytes(range(256)) * 8
    assert [type(v) for v in binary_rows[0]] == [type(v) for v in text_rows[0]]


def test_record_reads_with_blobs_ask_for_the_binary_format(blobs: Database, monkeypatch) -> None:
    from regie.store import driver_sql, record_sql

    asked: list[bool] = []
    real = driver_sql.fetch_all

    def spy(connection, sql, params=(), *, binary=False):
        asked.append(binary)
        return real(connection, sql, params, binary=binary)

    monkeypatch.setattr(driver_sql, "fetch_all", spy)
    sql = _sql(blobs, "SELECT id, record_encrypted FROM blob_probe WHERE id = ?")
    with blobs.engine.connect() as connection:
        record_sql.read(connection, sql, ("a",), names=("id", "record_encrypted"))
        record_sql.read(connection, _sql(blobs, "SELECT id, n FROM blob_probe WHERE id = ?"), ("a",),
                        names=("id", "n"))
    assert asked == [True, False]  # the blob statement only
