"""Regie's own request layers hand blocking work to one pool of their own (regie.web.blocking),
not to anyio's per-call thread hop, which cost more than a short read under load."""
from __future__ import annotations

import asyncio
import contextvars
import os
import threading

import anyio.to_thread
import pytest

from regie.config import Settings
from regie.web import blocking
from regie.web.blocking import run_blocking
from tests.web.helpers import Browser
from tests.web.test_item_read import _first_item
from tests.web.test_record_api import _seed

_request = contextvars.ContextVar("request", default=None)


class _App:
    settings = Settings(web_threads=3)


def test_runs_in_a_pool_thread_with_the_callers_context_and_gives_back_result_or_error() -> None:
    def work(value: int) -> tuple[int, str, str | None]:
        return value * 2, threading.current_thread().name, _request.get()

    def fails() -> None:
        raise LookupError("no such thing")

    async def main() -> None:
        _request.set("req-1")
        doubled, thread, seen = await run_blocking(_App(), work, 21)
        assert (doubled, seen) == (42, "req-1")
        assert thread.startswith("regie-web") and thread != threading.current_thread().name
        with pytest.raises(LookupError, match="no such thing"):
            await run_blocking(_App(), fails)

    asyncio.run(main())


def test_one_pool_per_process_of_the_first_size_asked() -> None:
    first = blocking.pool(3)
    assert blocking.pool(50) is first
    assert first._max_workers >= 1  # noqa: SLF001 (made by whichever app came first in this process)


def test_a_forked_process_makes_a_pool_of_its_own() -> None:
    """The parent's threads do not exist in a fork: its pool would take work and never run it."""
    async def double(value: int) -> int:
        return await run_blocking(_App(), lambda: value * 2)

    assert asyncio.run(double(1)) == 2  # the parent's pool exists now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, never return into the test
        code = 1
        try:
            os.close(read)
            os.write(write, str(asyncio.run(asyncio.wait_for(double(21), 5))).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100)
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0 and answer == b"42"


def test_the_session_load_and_the_item_read_do_not_use_anyios_hop(browser: Browser, monkeypatch) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    item_id = _first_item(browser)

    async def refused(*args, **kwargs):
        raise AssertionError("anyio.to_thread.run_sync used")

    monkeypatch.setattr(anyio.to_thread, "run_sync", refused)
    answer = browser.client.get(f"/api/v1/record/items/{item_id}")
    assert answer.status_code == 200 and answer.json()["id"] == item_id
    assert browser.client.get("/healthz").status_code == 200
