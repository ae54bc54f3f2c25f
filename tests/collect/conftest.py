"""A live sandbox and a Regie (TestClient; its event loop runs the collection jobs)."""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from regie.web.app import create_app
from tests.collect.harness import Network, api_token, consent, regie_settings, wait_finished


@pytest.fixture
def network(tmp_path: Path):
    with ExitStack() as stack:
        yield Network(tmp_path / "sandbox", stack)


@dataclass
class Regie:
    app: object
    client: TestClient
    token: str
    user_id: str
    network: Network

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def start(self, provider: str, services: list[str] | None = None, **extra) -> dict:
        body = {"provider": provider, **({"services": services} if services is not None else {}), **extra}
        response = self.client.post("/api/v1/collections", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def callback(self, url: str):
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def collect(self, provider: str, services: list[str] | None = None, timeout: float = 30.0) -> dict:
        started = self.start(provider, services)
        back = self.callback(consent(started["authorization_url"]))
        assert back.status_code == 200, back.text
        return wait_finished(self.get, started["id"], timeout)


@pytest.fixture
def regie(tmp_path: Path, database_url: str, network: Network):
    home = tmp_path / "home"
    home.mkdir()
    settings = regie_settings(home, database_url, network, "http://localhost:8000")
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as client:
        user_id, token = api_token(app.state.context)
        yield Regie(app, client, token, user_id, network)
    app.state.context.db.dispose()
