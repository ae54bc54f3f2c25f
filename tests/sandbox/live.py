"""Run an ASGI app with uvicorn in a thread on a free loopback port (for tests that
need a real socket: TLS, another process's view over HTTP, the browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(app: Any, port: int | None = None, **options: Any) -> Iterator[int]:
    """Serve *app* on 127.0.0.1 until the block ends; yields the port."""
    port = port or free_port()
    options = {"log_level": "warning", "lifespan": "off", **options}  # lifespan="on" where it matters
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
