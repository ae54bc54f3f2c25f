"""A mail server that hangs holds the mail lane's threads, never the threads that serve
pages: while people ask for links, every other page still answers at once, and each of
them gets "could not send, try again later" once the mail server times out."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from regie.web.app import create_app
from tests.conftest import fast_settings, migrate
from tests.sandbox.live import free_port, serve
from tests.web.helpers import CSRF

PAGE_THREADS = 3
MAIL_TIMEOUT = 2.0  # seconds the mail server is waited for
ASKING = 6  # people asking for a link at once: twice the page threads


@pytest.fixture
def silent_mail_server() -> Iterator[int]:
    """Accepts connections and never says a word (a mail server that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def served(tmp_path: Path, silent_mail_server: int) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'regie.sqlite3'}"
    migrate(url)
    port = free_port()
    settings = fast_settings(tmp_path, url, public_url=f"http://127.0.0.1:{port}", web_threads=PAGE_THREADS,
                             mail_threads=2, smtp_url=f"smtp://127.0.0.1:{silent_mail_server}",
                             smtp_timeout_seconds=MAIL_TIMEOUT)
    app = create_app(settings)
    # With its lifespan: that is where the page threads are set to web_threads.
    with serve(app, port, lifespan="on"):
        yield f"http://127.0.0.1:{port}"
    app.state.context.db.dispose()


def _ask_for_reset_link(base: str, number: int) -> int:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = CSRF.search(client.get("/password/forgot").text).group(1)
        return client.post("/password/forgot", data={"email": f"persoon{number}@voorbeeld.nl",
                                                     "csrf_token": token}).status_code


def test_a_hanging_mail_server_does_not_hold_the_page_threads(served: str) -> None:
    with ThreadPoolExecutor(ASKING) as pool:
        asked = [pool.submit(_ask_for_reset_link, served, n) for n in range(ASKING)]
        time.sleep(0.5)  # every request is now waiting on the mail server (or for a turn)
        with httpx.Client(base_url=served, timeout=10) as other:
            for path in ("/healthz", "/password/forgot", "/login"):
                started = time.monotonic()
                assert other.get(path).status_code == 200
                took = time.monotonic() - started
                assert took < MAIL_TIMEOUT / 2, f"{path} waited {took:.1f} s behind the mail server"
        statuses = [future.result() for future in asked]
    assert statuses == [503] * ASKING  # "we could not send the e-mail just now"
