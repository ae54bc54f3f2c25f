"""The browser fixtures (tests/browser/conftest.py): one Chromium per test process, a clean
browser for every test, a new one after a crash, and asyncio usable by the process's other
tests. The tests of this file run in one process, in this order."""
from __future__ import annotations

import asyncio
import time

import pytest

pytestmark = pytest.mark.xdist_group("session-browser")

ORIGIN = "http://localhost:9"  # answered by Playwright (no server): an origin for storage


def _open(context):
    context.route(f"{ORIGIN}/**", lambda route: route.fulfill(body="<p>hello</p>", content_type="text/html"))
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    return page


def _cookies_once_stored(context, deadline_s: float = 5.0) -> list[dict]:
    """The page's `document.cookie` write reaches Chromium's cookie store (which
    `context.cookies()` reads) a moment later, not within the same call: wait for it."""
    give_up = time.monotonic() + deadline_s
    while not (cookies := context.cookies()) and time.monotonic() < give_up:
        time.sleep(0.02)
    return cookies


def test_a_test_leaves_cookies_storage_and_contexts_behind(chromium) -> None:
    context = chromium.new_context()
    page = _open(context)
    page.evaluate("document.cookie = 'left=behind; max-age=3600'; localStorage.setItem('left', 'behind')")
    assert [cookie["value"] for cookie in _cookies_once_stored(context)] == ["behind"]
    assert page.evaluate("localStorage.getItem('left')") == "behind"
    chromium.new_context()  # a second one, never closed by the test


def test_the_next_test_finds_none_of_it(chromium, page) -> None:
    assert chromium.contexts == [page.context]
    for context in (page.context, chromium.new_context()):
        assert _open(context).evaluate("[document.cookie, localStorage.length]") == ["", 0]
        assert context.cookies() == []


def test_asyncio_runs_after_a_browser_test() -> None:
    """Playwright's sync API marks its loop as running between its calls; outside browser
    tests the mark is gone, so asyncio.run works as in any other test."""
    assert asyncio.run(asyncio.sleep(0, result="ran")) == "ran"


def test_a_closed_browser_is_launched_again(chromium, _session_browser) -> None:
    chromium.close()
    assert not chromium.is_connected()
    again = _session_browser.get()
    assert again is not chromium and again.is_connected()
    assert again.new_page().evaluate("1 + 1") == 2


def test_a_crashed_browser_is_launched_again(chromium, _session_browser) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the crash ends the call in whatever way
        chromium.new_browser_cdp_session().send("Browser.crash")
        chromium.new_context().new_page().evaluate("1")  # the browser is gone: this fails
    assert not chromium.is_connected()


def test_after_a_crash_the_next_test_has_a_working_browser(chromium, page) -> None:
    assert chromium.is_connected()
    page.set_content("<p id=p>works</p>")
    assert page.locator("#p").inner_text() == "works"
