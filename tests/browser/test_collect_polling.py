"""The collection page's live progress (static/collect-2.js) reloads the page when every
collection has finished. A click the person made just before (DigiD at the next care
provider) must not be lost to that reload.

A small loopback server stands in for Regie so the order is fixed, however busy the machine:
the progress answer ("done") is held until the test has clicked, and then arrives while the
link's navigation is still under way."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import regie.web

SCRIPT = (Path(regie.web.__file__).parent / "static" / "collect-2.js").read_bytes()
PAGE = b"""<!doctype html><html lang="en"><head><title>Queue</title></head><body><main>
<h1>Queue</h1><p data-collection-poll="c1" data-text="{done} of {total}"><span data-progress-text></span></p>
<a href="/next-provider">Log in with DigiD at the next care provider</a>
<script src="/static/collect.js"></script></main></body></html>"""
# Once all have finished, the real page no longer polls (collect_batch.html: only while active).
PAGE_DONE = b"""<!doctype html><html lang="en"><head><title>Queue</title></head><body><main>
<h1>Everything collected</h1></main></body></html>"""
PROGRESS_SECONDS = 0.8  # the poll starts at 0.5 s: "done" arrives at ~1.3 s
AFTER_THE_CLICK_SECONDS = 0.2  # "done" this long after the click: its navigation is under way
NAVIGATION_SECONDS = 1.5  # the next page arrives this long after the click


class _Regie(BaseHTTPRequestHandler):
    loads: list[str] = []
    polling = threading.Event()  # a progress request has arrived
    clicked = threading.Event()  # set by a test that clicks: only then "done"
    hold_for_click = False

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path == "/queue":
            self.loads.append(self.path)
            self._answer(PAGE if len(self.loads) == 1 else PAGE_DONE, "text/html")
        elif self.path == "/static/collect.js":
            self._answer(SCRIPT, "text/javascript")
        elif self.path.startswith("/api/v1/collections/"):
            self.polling.set()
            if self.hold_for_click:
                # Timing alone raced on a busy machine: the test's click came after "done",
                # when the page had already reloaded without the link.
                self.clicked.wait(30)
                time.sleep(AFTER_THE_CLICK_SECONDS)
            else:
                time.sleep(PROGRESS_SECONDS)
            self._answer(json.dumps({"state": "done", "progress": {}}).encode(), "application/json")
        elif self.path == "/next-provider":
            time.sleep(NAVIGATION_SECONDS)
            self._answer(b"<!doctype html><title>DigiD</title><h1>Arrived at DigiD</h1>", "text/html")
        else:  # the browser's favicon.ico
            self.send_response(204)
            self.end_headers()

    def _answer(self, body: bytes, media_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    _Regie.loads = []
    _Regie.polling, _Regie.clicked, _Regie.hold_for_click = threading.Event(), threading.Event(), False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Regie)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_click_just_before_the_reload_is_not_lost(page: Page, stand_in: str) -> None:
    _Regie.hold_for_click = True
    page.goto(stand_in + "/queue")
    assert _Regie.polling.wait(10)  # the poll is under way
    page.get_by_role("link", name="Log in with DigiD at the next care provider").click(no_wait_after=True)
    _Regie.clicked.set()  # now "done" comes, while the navigation is under way
    expect(page.get_by_role("heading", name="Arrived at DigiD")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(300)
    assert page.url == stand_in + "/next-provider"
    assert _Regie.loads == ["/queue"]  # never reloaded


def test_the_page_reloads_when_everything_has_finished(page: Page, stand_in: str) -> None:
    page.goto(stand_in + "/queue")
    deadline = time.monotonic() + 10
    while len(_Regie.loads) < 2:
        assert time.monotonic() < deadline, "the page did not reload"
        page.wait_for_timeout(100)
    expect(page.get_by_role("heading", name="Everything collected")).to_be_visible()
