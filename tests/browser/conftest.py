"""A live Regie server per test and Debian's Chromium driven by Playwright.

Never a downloaded browser: /usr/bin/chromium (the Debian package). With
REQUIRE_BROWSER=1 a missing Chromium fails the run instead of skipping.
"""
from __future__ import annotations

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


@pytest.fixture
def chromium():
    # Per test, not per session: Playwright's sync API keeps an event loop running
    # while it is open, which breaks tests elsewhere in the same worker that call asyncio.run().
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (Debian package 'chromium')", "REQUIRE_BROWSER")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
