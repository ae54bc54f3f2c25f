"""The per-provider bound on requests in flight, handing free slots out by priority.

A plain semaphore serves waiters in arrival order, so a ``Bundle.link[next]`` page or a
``Binary`` found late waits behind every search that had not started yet, and the
collection's longest chain (search -> pages -> documents) grows by whole rounds of
other requests. Here a freed slot goes to the most urgent waiter first: continuations of
a chain, then the searches that lead to more requests (DocumentReference), then the
rest; arrival order within a priority. The bound itself is unchanged.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Lower goes first.
CONTINUATION = 0  # a next page or a document read: the chain is already under way
LEADS_ON = 1  # a search whose results name more to fetch (DocumentReference -> Binary)
SEARCH = 2


class ProviderSlots:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the bound must be at least 1")
        self.limit = limit
        self._free = limit
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.in_flight_max = 0  # the most requests that were in flight at once (tests, bench)

    @property
    def in_flight(self) -> int:
        return self.limit - self._free

    @asynccontextmanager
    async def hold(self, priority: int = SEARCH) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._take()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            raise

    def _take(self) -> None:
        self._free -= 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)

    def _release(self) -> None:
        # The slot passes straight to the most urgent live waiter (no window in which a
        # newcomer could overtake it); cancelled waiters are dropped on the way.
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                self.in_flight_max = max(self.in_flight_max, self.in_flight)
                return
        self._free += 1
