"""Autocommit work on a pool of its own on PostgreSQL (regie.store.db._autocommit_engine):
its connections commit every statement without being switched on checkout, work in a
transaction keeps its own pool, and dispose closes both. SQLite keeps one engine."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from regie.store.db import Database


def _autocommit(connection) -> bool:
    raw = connection.connection.dbapi_connection
    return raw.autocommit is True if connection.dialect.name == "postgresql" else raw.isolation_level is None


def test_autocommit_and_transactions_each_keep_their_connections(db: Database) -> None:
    with db.autocommit_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        assert _autocommit(connection)
    with db.session() as session:
        assert not _autocommit(session.connection())
    with db.reading() as session:
        assert _autocommit(session.connection())
    if db.engine.dialect.name == "sqlite":
        assert db.engines == (db.engine,)  # one file, one pool
        return
    assert db.engines == (db.engine, db.autocommit_engine)
    assert db.autocommit_engine.pool is not db.engine.pool
    # Checked in and out again: still in autocommit, without SQLAlchemy switching it back and forth.
    with db.autocommit_engine.connect() as connection:
        assert _autocommit(connection) and connection.get_execution_options().get("isolation_level") is None
    assert db.autocommit_engine.pool.checkedin() >= 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_dispose_closes_both_pools(db: Database) -> None:
    with db.autocommit_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with db.session() as session:
        session.execute(text("SELECT 1"))
    assert db.engine.pool.checkedin() >= 1 and db.autocommit_engine.pool.checkedin() >= 1
    db.dispose()
    assert db.engine.pool.checkedin() == 0 and db.autocommit_engine.pool.checkedin() == 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_server_connections_start_no_parallel_workers_and_keep_the_urls_options(db: Database) -> None:
    """Short per-user statements: parallel workers cost far more than the work
    (regie.store.db.SERVER_OPTIONS). The test's own search path (its URL's options) stays."""
    expected_schema = db.engine.url.query["options"].split("search_path=")[1].split()[0]
    for engine in db.engines:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
            assert connection.execute(text("SELECT current_schema()")).scalar() == expected_schema
    assert db.autocommit_engine.url.query["options"].count("max_parallel_workers_per_gather") == 1
