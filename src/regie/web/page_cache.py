"""Record pages this web process rendered, kept while the record they show is unchanged
(docs/decisions/0011).

The start page, a category page or the timeline reads and decrypts its 50-100 items, the
sources and the counts, and renders them: about 7 ms of CPU in the web process and 4 in the
database (docs/benchmarks.md, Load). Shown again with nothing changed, it is the same page.
Each kept page is found by everything it depends on besides the record
(:func:`regie.web.kept_pages.page_key`: who
looks at whose record, with which rights, in which session, language, day, at which URL)
and is valid only for the record's change counter it was rendered at
(:mod:`regie.store.record_stamp`), which the page reads again on every visit, before
anything else. A visit to a kept page still opens the record (a shredded key or ended
access is refused as before) and writes its audit entries.

Only in this process's memory: nothing on disk or in a shared store (a kept page is
medical content in the clear), nothing a request needs (a miss renders the page), bounded
in bytes and age (``REGIE_PAGE_CACHE_MB``, ``REGIE_PAGE_CACHE_SECONDS``; 0 MB: off).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeptPage:
    body: bytes
    shown: tuple[str, ...]  # the items the page lists: audited again at every visit
    stamp: int
    expires: float  # on the monotonic clock


class PageCache:
    """A byte-bounded, least-recently-used store of rendered pages (thread-safe: record
    pages render on Regie's worker threads)."""

    def __init__(self, max_bytes: int, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._pages: OrderedDict[Hashable, KeptPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.max_age > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable, stamp: int) -> KeptPage | None:
        """The page kept under ``key`` if it was rendered at ``stamp`` and is not too old."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None and page.stamp == stamp and page.expires > self._clock():
                self._pages.move_to_end(key)
                self.hits += 1
                return page
            if page is not None:  # the record changed, or it is too old: it will not be right again
                self._drop(key)
            self.misses += 1
            return None

    def put(self, key: Hashable, stamp: int, body: bytes, shown: tuple[str, ...]) -> None:
        if not self.enabled or len(body) > self.max_bytes // 8:  # one huge page must not empty the rest
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = KeptPage(body, shown, stamp, self._clock() + self.max_age)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def forget_session(self, session_id: str) -> None:
        """Drop every page kept for one session (at logout: its pages can no longer be
        asked for, and need not stay in memory until they age out). Keys start with the
        session's id (:mod:`regie.web.kept_pages`)."""
        with self._lock:
            for key in [k for k in self._pages if isinstance(k, tuple) and k and k[0] == session_id]:
                self._drop(key)

    def _drop(self, key: Hashable) -> None:
        page = self._pages.pop(key)
        self._bytes -= len(page.body)
