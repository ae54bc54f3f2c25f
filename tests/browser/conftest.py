"""A live Regie server per test and Debian's Chromium driven by Playwright: one browser per
test process, a fresh browser context per test.

Never a downloaded browser: /usr/bin/chromium (the Debian package). With
REQUIRE_BROWSER=1 a missing Chromium fails the run instead of skipping.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from regie.web.app import create_app
from regie.web.context import AppContext
from tests.conftest import fast_settings, migrate, skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}


@dataclass
class LiveServer:
    base_url: str
    context: AppContext


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _SessionBrowser:
    """Playwright and Chromium, started once per test process (a launch costs ~1.7 s of CPU)
    and started again when the browser crashed or was closed. Each test gets a browser
    context of its own (the `page` fixture's, or those it makes), closed after it, so no
    cookies or storage pass between tests."""

    def __init__(self) -> None:
        self.manager = None  # playwright's PlaywrightContextManager
        self.playwright = None
        self.browser = None

    def get(self):
        if self.browser is not None and self.browser.is_connected():
            return self.browser
        try:
            self.browser = self._launch()
        except Exception:  # the driver itself is gone: a new Playwright, then the browser
            try:
                self.stop()
            except Exception:  # noqa: BLE001 - what is left of the old one
                self.manager = self.playwright = self.browser = None
            self.browser = self._launch()
        return self.browser

    def _launch(self):
        if self.playwright is None:
            from playwright.sync_api import sync_playwright

            self.manager = sync_playwright()
            self.playwright = self.manager.start()
        return self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

    # Playwright's sync API marks its event loop as the thread's running loop between calls
    # (playwright/_impl/_greenlets.py wait_for_future), and asyncio.run() refuses to start
    # while one is: so the mark is taken away after each browser test, for the other tests of
    # the process, and put back before the next one calls Playwright.
    def enter(self) -> None:
        if self.manager is not None:
            asyncio._set_running_loop(self.manager._loop)

    def leave(self) -> None:
        if self.manager is not None:
            asyncio._set_running_loop(None)

    def stop(self) -> None:
        if self.manager is None:
            return
        self.enter()
        try:
            if self.browser is not None and self.browser.is_connected():
                self.browser.close()
        except Exception:  # noqa: BLE001 - a browser that is already gone
            pass
        finally:
            self.browser = None
            try:
                self.playwright.stop()
            finally:
                self.leave()
                self.manager = self.playwright = None


@pytest.fixture(scope="session")
def _session_browser() -> Iterator[_SessionBrowser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (Debian package 'chromium')", "REQUIRE_BROWSER")
    session = _SessionBrowser()
    yield session
    session.stop()


def _close_contexts(browser) -> None:
    if browser.is_connected():
        for context in browser.contexts:
            context.close()


@pytest.fixture
def chromium(_session_browser: _SessionBrowser):
    """The process's Chromium, with no browser context open: the contexts a test opens in it
    are closed after the test."""
    _session_browser.enter()
    try:
        browser = _session_browser.get()
        _close_contexts(browser)  # none, unless an earlier test's clean-up failed
    except BaseException:
        _session_browser.leave()
        raise
    try:
        yield browser
    finally:
        try:
            _close_contexts(browser)
        finally:
            _session_browser.leave()


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    port = _free_port()
    home = tmp_path / "home"
    home.mkdir()
    # localhost, not 127.0.0.1: passkeys need a host name as relying-party id.
    settings = fast_settings(home, database_url, public_url=f"http://localhost:{port}")
    migrate(settings.resolved_database_url)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://localhost:{port}", app.state.context)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.context.db.dispose()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):
    """A fresh browser context per test; console errors fail the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    # Forms answer wrong input with 401/422/429 on purpose; Chromium logs each such page load.
    # A test that opens a missing page on purpose adds 404.
    page.regie_expected_statuses = {401, 422, 429}

    def on_console(message) -> None:
        expected = any(f"status of {status}" in message.text for status in page.regie_expected_statuses)
        if message.type == "error" and not expected:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"
