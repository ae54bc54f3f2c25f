"""A short-lived, per-process cache of users' unwrapped record keys.

Opening a record unwraps the user's data key with the master key and derives the index
key (AES-GCM + HKDF) on every request. Kept here for ``TTL_SECONDS`` at most, for the
``MAX_USERS`` most recent users, so a burst of reads by one person unwraps once.

Revocation: an entry is found only by the *wrapped* key as stored in the user's row,
which every request reads anew. Crypto-shredding empties that column and a master key
rotation rewraps it, so from that moment no request can find the old entry; the old key
stays in this process's memory until it expires (docs/security.md). :func:`forget` drops
a user's entry at once (used where the key is replaced in this process).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.record import UserKeys

TTL_SECONDS = 60.0
MAX_USERS = 256


class KeyCache:
    def __init__(self, ttl: float = TTL_SECONDS, size: int = MAX_USERS) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[bytes, float, UserKeys]] = OrderedDict()
        self._lock = threading.Lock()  # handlers run in a thread pool

    def keys(self, service: RecordService, user: User) -> UserKeys:
        now = time.monotonic()
        wrapped = bytes(user.wrapped_data_key or b"")
        with self._lock:
            found = self._entries.get(user.id)
            if found is not None and found[0] == wrapped and found[1] > now:
                self._entries.move_to_end(user.id)
                return found[2]
        keys = service.keys(user)  # raises for a shredded (empty) key: nothing is cached then
        with self._lock:
            self._entries[user.id] = (wrapped, now + self.ttl, keys)
            self._entries.move_to_end(user.id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return keys

    def forget(self, user_id: str | None = None) -> None:
        """Drop one user's keys (or all)."""
        with self._lock:
            if user_id is None:
                self._entries.clear()
            else:
                self._entries.pop(user_id, None)
