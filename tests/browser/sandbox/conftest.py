"""The MedMij sandbox on a free loopback port (uvicorn in a thread), with a stand-in PGO.

The browser reaches the sandbox at ``http://sandbox.localhost:<port>`` (Chromium resolves
``*.localhost`` to loopback itself). The stand-in PGO is the client ``localhost``: a
tiny Starlette route on the same server, ``http://localhost:<port>/_pgo/callback``, that
shows what came back. The ``chromium`` and ``page`` fixtures come from
``tests/browser/conftest.py``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from regie.sandbox.app import create_sandbox_app
from regie.sandbox.config import default_config
from tests.browser.conftest import _free_port


@dataclass
class Sandbox:
    base_url: str  # where the browser meets the providers
    pgo_url: str  # the stand-in PGO
    app: Starlette

    @property
    def redirect_uri(self) -> str:
        return f"{self.pgo_url}/_pgo/callback"


async def _pgo_callback(request: Request) -> HTMLResponse:
    items = "".join(
        f"<li><span>{escape(k)}</span>: <output data-name=\"{escape(k)}\">{escape(v)}</output></li>"
        for k, v in request.query_params.items()
    )
    return HTMLResponse(
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Test-PGO</title>'
        f"</head><body><main><h1>Terug bij de PGO</h1><ul>{items}</ul></main></body></html>"
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    port = _free_port()
    config = default_config(port=port)
    sandbox_app = create_sandbox_app(config, tmp_path / "sandbox", fhir_app_factory=None)
    app = Starlette(routes=[
        Route("/_pgo/callback", _pgo_callback),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/", app=sandbox_app),
    ])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.02)
    yield Sandbox(config.base_url, f"http://localhost:{port}", sandbox_app)
    server.should_exit = True
    thread.join(timeout=10)
