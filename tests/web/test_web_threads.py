"""The web process runs its blocking work on few threads (Settings.web_threads): many more
threads than cores only take turns for Python's lock (docs/benchmarks.md, Load)."""
from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regie.config import Settings


def test_the_default_is_four_per_core_and_at_least_eight(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert Settings(web_threads=0).resolved_web_threads == 8
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert Settings(web_threads=0).resolved_web_threads == 64
    assert Settings(web_threads=3).resolved_web_threads == 3


def test_the_app_sets_the_thread_limit_at_start(app: FastAPI) -> None:
    app.state.context.settings.web_threads = 5
    seen: list[float] = []

    @app.get("/__threads")
    async def threads() -> dict:
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        return {}

    with TestClient(app) as client:
        assert client.get("/__threads").status_code == 200
    assert seen == [5]
