"""Database engine and sessions for SQLite (embedded) and PostgreSQL (production)."""
from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return _server_engine(url)


# Per connection, in the startup packet (no extra round trip): no parallel workers. Regie's
# statements are short and per user, read through indexes; PostgreSQL's estimates for a user's
# share of a large table are rough, and for the start page's per-source counts it started two
# workers: ~10 ms of its CPU for 0.4 ms of work (docs/benchmarks.md, session 9).
SERVER_OPTIONS = "-c max_parallel_workers_per_gather=0"


def _server_engine(url: str | URL, **options: Any) -> Engine:
    url = with_server_options(make_url(url))
    engine = create_engine(url, pool_size=10, max_overflow=20, **options)
    _check_liveness_on_checkout(engine)
    return engine


def with_server_options(url: URL) -> URL:
    """``url`` with :data:`SERVER_OPTIONS` added to any ``options`` it has (a search path)."""
    given = url.query.get("options")
    if isinstance(given, tuple):
        given = " ".join(given)
    if given and SERVER_OPTIONS in given:
        return url
    return url.update_query_dict({"options": f"{given} {SERVER_OPTIONS}" if given else SERVER_OPTIONS})


def _autocommit_engine(engine: Engine) -> Engine:
    """Connections whose every statement commits on its own (see :meth:`Database.reading`).

    On PostgreSQL a pool of its own whose connections are in autocommit from the start: the
    same engine with ``execution_options(isolation_level=...)`` switches each connection on
    checkout and back on checkin, a share of a short read's CPU (two checkouts per request;
    docs/benchmarks.md, Session 7). SQLite shares the one engine (one file, one writer)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return _server_engine(engine.url, isolation_level="AUTOCOMMIT")


# A pooled connection idle for longer than this is pinged (a round trip) before use: a
# connection a firewall or NAT dropped silently shows nothing on its socket.
IDLE_PING_SECONDS = 30.0


def _check_liveness_on_checkout(engine: Engine) -> None:
    """Hand out only live connections, without SQLAlchemy's ``pool_pre_ping`` round trip
    on every checkout (two per request: a tenth of a JSON read's CPU, docs/benchmarks.md).

    A server that restarts, or ends a backend, first sends the client a FATAL message and
    closes the socket, so a dead idle connection has something to read; a live idle one
    never has (we use no LISTEN/NOTIFY). Checking that costs a poll() of the socket. A
    connection idle for long is pinged as well. Raising DisconnectionError makes the pool
    discard the connection and hand out another one (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "checkin")
    def _remember_idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _refuse_dead(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None:
            return  # just connected
        if _server_hung_up(dbapi_connection):
            raise exc.DisconnectionError("the server closed this connection")
        if time.monotonic() - idle_since > IDLE_PING_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as error:
                raise exc.DisconnectionError("the connection did not answer a ping") from error


def _server_hung_up(dbapi_connection: Any) -> bool:
    if getattr(dbapi_connection, "closed", False):
        return True
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while an import writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # 16 MiB of page cache (the default is 2 MiB): an import adds rows to a few indexes whose
    # pages otherwise are read again from the file for nearly every row; and a checkpoint
    # every 10,000 pages (40 MiB of WAL, default 1,000), so pages written by several imports
    # in a row go to the database file (and fsync) once (docs/benchmarks.md).
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


class Database:
    """One engine and its session factory; repositories receive sessions from here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Each statement its own transaction: no BEGIN and COMMIT round trips (two of a
        # request's few on PostgreSQL) for work that reads, or writes with one statement.
        self.autocommit_engine = _autocommit_engine(self.engine)
        self._autocommit_sessions = sessionmaker(self.autocommit_engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for a read (and at most single-statement writes, such as the audit
        entry a read leaves): every statement commits on its own. On PostgreSQL (READ
        COMMITTED) each statement saw its own snapshot inside a transaction too; what is
        saved is the BEGIN and COMMIT. Never for work that must be all or nothing."""
        with self._autocommit_sessions() as session:
            yield session
            session.commit()  # flushes anything pending; there is no transaction to end

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def analyze(self, *, vacuum: bool = False) -> None:
        """PostgreSQL: planner statistics for every table of Regie's schema (with ``vacuum``,
        also the visibility map for index-only scans), what autovacuum does some time after a
        bulk load: after a restore, or data a benchmark built. Nothing on SQLite."""
        if self.engine.dialect.name != "postgresql":
            return
        command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"  # VACUUM needs autocommit
        with self.autocommit_engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                connection.exec_driver_sql(f'{command} "{table}"')

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Each engine with a pool of its own (for event listeners, and to dispose of)."""
        if self.autocommit_engine.pool is self.engine.pool:
            return (self.engine,)
        return (self.engine, self.autocommit_engine)

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


class ConnectionUnit:
    """One autocommit connection in the place of an ORM session, for a repository that only
    reads through driver SQL and writes single statements (an audit entry): the hot item read.

    It offers what those methods use, ``connection()``; anything else a session has is not
    here, so an ORM query on it fails at once instead of running outside a session. Saved
    against :meth:`Database.reading`: the session's transaction bookkeeping, its commit and a
    second pool checkout per request (the session load shares the connection): ~15 % of a
    JSON item read's CPU (docs/benchmarks.md, session 9)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def connection(self) -> Connection:
        return self._connection
