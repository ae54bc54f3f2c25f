"""One patient's collected responses are stored one at a time: across tasks, threads,
event loops and processes.

Two responses may carry the same resource (the Patient, an included Medication): stored
at the same moment, both would find it missing and insert it twice, or one would fail.
The collector therefore holds this lock around each ``import_bytes`` call (the ingest
itself stays one transaction per response):

- **PostgreSQL**: a transaction-level advisory lock keyed by the user
  (``pg_advisory_xact_lock(class, hash(user))``), taken on a connection of its own and
  held until the ingest's transaction has committed. Every web process and every
  ``regie worker`` waits for it; a process that dies releases it with its connection.
  Users whose hashes collide only wait for each other.
- **SQLite**: the embedded database allows one writer at a time, and the ingest reads
  before it writes in a deferred transaction, so two writers that overlap can fail with
  "database is locked" (SQLite refuses to upgrade a read snapshot that another writer
  has made stale; the busy timeout does not help there). So on SQLite every ingest of the
  collector, whoever's, is serialised: a lock in the process and an exclusive ``flock``
  on ``<database>-collect.lock`` beside the database file for other processes (a CLI
  import, a second server). No throughput is lost: SQLite writes one at a time anyway.

Within a process a thread lock is taken first, so waiting threads do not each hold a
database connection.
"""
from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from regie.store.db import Database

# The first key of the two-key advisory lock: the collector's ingest ("RGC1"), so other
# users of advisory locks in the same database cannot collide with it.
LOCK_CLASS = 0x52474331

_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def _thread_lock(name: str) -> threading.Lock:
    with _guard:
        return _thread_locks.setdefault(name, threading.Lock())


def user_lock_key(user_id: str) -> int:
    """A signed 32-bit key for the user (the second key of the advisory lock)."""
    return int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big", signed=True)


class IngestLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect = db.engine.dialect.name
        self.lock_file: Path | None = None
        if self.dialect == "sqlite":
            database = make_url(db.url).database
            if database and database != ":memory:":
                self.lock_file = Path(database).with_name(Path(database).name + "-collect.lock")

    @contextmanager
    def hold(self, user_id: str) -> Iterator[None]:
        if self.dialect == "postgresql":
            with _thread_lock(f"user:{user_id}"), self.db.engine.connect() as connection, connection.begin():
                connection.execute(text("SELECT pg_advisory_xact_lock(:cls, :key)"),
                                   {"cls": LOCK_CLASS, "key": user_lock_key(user_id)})
                yield
            return
        with _thread_lock(f"db:{self.db.url}"):
            if self.lock_file is None:
                yield
                return
            with open(self.lock_file, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
