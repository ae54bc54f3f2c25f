"""A record opened while its user still waits for the index rebuild is rebuilt first.

After a migration marks users for the rebuild of their keyed indexes
(:mod:`regie.store.record_reindex`), ``regie db upgrade`` does not wait for every account:
``regie worker`` works through them in the background (docs/decisions/0010). Until a user's
turn, the links of related items, the attention flags of other sources and the search index
of rows stored before those existed are missing. So :class:`RecordService` asks this gate
before it opens a record: a waiting user is rebuilt then and there (one transaction, a
second or less for most records), and the page is right on the first visit.

What it costs when nobody waits, the usual case: nothing per record opened. Each process
asks the database once whether anyone waits (one indexed ``SELECT``, at the first record it
opens). Users are marked only by migrations, which run before the processes of the new
version start, so a process that found nobody waiting never asks again. While someone
waits, each record opened costs one primary-key lookup, once per user and process, and the
process asks again every :data:`RECHECK_SECONDS` whether anyone still waits (the worker
may have finished them all).

A rebuild that fails is logged (ids only) and the record opens anyway, as it would have
before the rebuild existed (those rows are found by their fallbacks; only related items,
other sources' flags and search may miss them); the user stays waiting for the worker.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.record_reindex import anyone_waiting, is_waiting, reindex_user

log = logging.getLogger("regie.store")

RECHECK_SECONDS = 60.0


class ReindexGate:
    """Per process and database: who may still wait for a rebuild, and the rebuild on open."""

    def __init__(self, db: Database, *, recheck_seconds: float = RECHECK_SECONDS) -> None:
        # Weakly: the gates are kept per Database in a WeakKeyDictionary, whose values must
        # not keep their key (and its connection pool) alive.
        self._db = weakref.ref(db)
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._anyone_waits: bool | None = None  # None: not asked yet
        self._asked_at = 0.0
        self._not_waiting: set[str] = set()  # users seen without a mark since the last recheck
        self._user_locks: dict[str, threading.Lock] = {}

    def ensure_rebuilt(self, keyring: KeyRing, user_id: str) -> None:
        """Rebuild ``user_id``'s indexes now if that user waits for it."""
        if not self._may_wait(user_id):
            return
        with self._lock:
            user_lock = self._user_locks.setdefault(user_id, threading.Lock())
        # One rebuild per user in this process; another process's rebuild of the same user
        # is waited for by the lock on the user's mark (record_reindex.reindex_user).
        with user_lock:
            if user_id in self._not_waiting:
                return
            try:
                result = reindex_user(self.db, keyring, user_id, only_if_waiting=True)
            except Exception as exc:
                log.error("record rebuild on open failed; the record opens as it is",
                          extra={"user": user_id, "error": type(exc).__name__})
            else:
                if result is not None:
                    log.info("record indexes rebuilt on open", extra={"user": user_id, "rows": result.rows})
            with self._lock:
                # Also after a failure: tried again after the next recheck, not on every page.
                self._not_waiting.add(user_id)
                self._user_locks.pop(user_id, None)

    def recheck(self) -> None:
        """Ask the database again at the next record opened (after marking users outside a
        migration, as tests do)."""
        with self._lock:
            self._anyone_waits = None
            self._not_waiting.clear()

    @property
    def db(self) -> Database:
        db = self._db()
        if db is None:
            raise RuntimeError("the database of this gate is gone")
        return db

    def _may_wait(self, user_id: str) -> bool:
        if self._anyone_waits is False:
            return False  # the usual case, on every record opened: no lock, no statement
        now = time.monotonic()
        with self._lock:
            stale = self._anyone_waits is None or now - self._asked_at >= self.recheck_seconds
        if stale:
            anyone = self._ask_anyone()
            if anyone is None:
                return False  # asked again on the next record opened
            with self._lock:
                self._anyone_waits, self._asked_at = anyone, now
                self._not_waiting.clear()
        with self._lock:
            if not self._anyone_waits or user_id in self._not_waiting:
                return False
        waits = self._ask_user(user_id)
        if waits is None:
            return False  # asked again on the next record opened
        if waits:
            return True
        with self._lock:
            self._not_waiting.add(user_id)
        return False

    def _ask_anyone(self) -> bool | None:
        """Whether anyone waits; None when the database could not say (briefly away: the
        record's own read reports that)."""
        try:
            return anyone_waiting(self.db)
        except Exception:
            log.debug("could not ask for waiting rebuilds", exc_info=True)
            return None

    def _ask_user(self, user_id: str) -> bool | None:
        """Whether ``user_id`` waits; None when the database could not say. (A caller of
        ``open_on`` holds a connection already: this takes a second one from the pool, and
        must not fail the page when the pool is briefly exhausted.)"""
        try:
            return is_waiting(self.db, user_id)
        except Exception:
            log.debug("could not ask whether a user waits for a rebuild", exc_info=True)
            return None


_gates: weakref.WeakKeyDictionary[Database, ReindexGate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def gate_of(db: Database) -> ReindexGate:
    """The one gate of this process for ``db``."""
    gate = _gates.get(db)
    if gate is not None:
        return gate
    with _gates_lock:
        return _gates.setdefault(db, ReindexGate(db))
