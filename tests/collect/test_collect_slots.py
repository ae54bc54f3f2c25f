"""The per-provider bound (regie.collect.slots): never more requests in flight than the
bound, a freed slot goes to a chain's continuation before a search that has not started,
a cancelled waiter loses no slot; and in a real collection the bound holds."""
from __future__ import annotations

import asyncio

import pytest

from regie.collect.slots import CONTINUATION, LEADS_ON, SEARCH, ProviderSlots
from tests.collect.harness import consent, wait_finished

HOSPITAL = "ziekenhuisrivierenland"


def test_the_bound_holds_and_is_used() -> None:
    async def main() -> tuple[int, int]:
        slots = ProviderSlots(4)
        busy = 0
        most = 0

        async def request() -> None:
            nonlocal busy, most
            async with slots.hold():
                busy += 1
                most = max(most, busy)
                await asyncio.sleep(0.01)
                busy -= 1

        await asyncio.gather(*(request() for _ in range(40)))
        return most, slots.in_flight_max

    assert asyncio.run(main()) == (4, 4)


def test_a_continuation_goes_before_searches_that_have_not_started() -> None:
    async def main() -> list[str]:
        slots = ProviderSlots(1)
        order: list[str] = []
        release = asyncio.Event()

        async def request(name: str, priority: int) -> None:
            async with slots.hold(priority):
                order.append(name)
                if name == "first":
                    await release.wait()

        first = asyncio.create_task(request("first", SEARCH))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(request(f"search {i}", SEARCH)) for i in range(3)]
        waiting.append(asyncio.create_task(request("documents", LEADS_ON)))
        waiting.append(asyncio.create_task(request("next page", CONTINUATION)))
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(first, *waiting)
        return order

    assert asyncio.run(main()) == ["first", "next page", "documents", "search 0", "search 1", "search 2"]


def test_a_cancelled_waiter_loses_no_slot() -> None:
    async def main() -> int:
        slots = ProviderSlots(1)
        holder_done = asyncio.Event()

        async def holder() -> None:
            async with slots.hold():
                await holder_done.wait()

        held = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(_take(slots))
        await asyncio.sleep(0)
        waiter.cancel()
        holder_done.set()
        await held
        await asyncio.gather(waiter, return_exceptions=True)
        await asyncio.wait_for(_take(slots), 1)  # the slot is free again
        return slots.in_flight

    assert asyncio.run(main()) == 0


async def _take(slots: ProviderSlots) -> None:
    async with slots.hold():
        await asyncio.sleep(0)


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        ProviderSlots(0)


def test_a_real_collection_keeps_to_the_bound(regie) -> None:
    regie.network.fault(HOSPITAL, "*", kind="none", latency=0.05)
    started = regie.start(HOSPITAL)
    regie.callback(consent(started["authorization_url"]))
    view = wait_finished(regie.get, started["id"], 60)
    assert view["receipt"]["outcome"] == "complete", view
    runner = regie.app.state.collect_runner
    slots = runner._provider_slots[f"{HOSPITAL}@medmij"]
    bound = regie.app.state.context.settings.collect_concurrency_per_provider
    requests = sum(len(s["requests"]) for s in view["receipt"]["services"])
    assert requests > bound  # more requests than slots: the bound is what limits them
    assert slots.in_flight_max == bound and slots.in_flight == 0
