"""The sandbox Stelselnode in-process, reached over httpx (no sockets)."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from regie.sandbox.directory import details_document, details_routes, generate_directory
from regie.sandbox.lists import ListPublisher, SandboxConfig, create_lists_app, default_config, make_provider
from regie.store.db import Database
from tests.conftest import fast_settings, migrate

LISTS_URL = "https://stelselnode.test"


class Stelselnode:
    """A sandbox lists app plus switches the tests flip: down, oversized."""

    def __init__(self, state_dir: Path, config: SandboxConfig, details: bytes | None) -> None:
        self.publisher = ListPublisher(config, state_dir)
        routes = details_routes(state_dir, lambda: details) if details is not None else []
        self.app = Starlette(routes=[*routes, Mount("/", app=create_lists_app(self.publisher))])
        self.client = TestClient(self.app)
        self.down = False
        self.padding = 0
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        answer = self.client.get(request.url.path)
        content = answer.content + b" " * self.padding
        return httpx.Response(answer.status_code, content=content,
                              headers={"content-type": answer.headers.get("content-type", "")})

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def small_config() -> SandboxConfig:
    base = default_config()
    extra = tuple(
        make_provider(p.naam, p.service_ids, base_url="https://{naam}.sandbox.localhost")
        for p in generate_directory(30, seed=3)
    )
    return SandboxConfig(providers=base.providers + extra, clients=base.clients)


@pytest.fixture
def stelselnode(tmp_path: Path) -> Stelselnode:
    providers = generate_directory(30, seed=3)
    return Stelselnode(tmp_path / "stelselnode", small_config(), details_document(providers))


@pytest.fixture
def lists_settings(tmp_path: Path, database_url: str, stelselnode: Stelselnode):
    home = tmp_path / "home"
    home.mkdir()
    migrate(database_url)
    return fast_settings(
        home, database_url, medmij_lists_url=LISTS_URL,
        medmij_lists_key=stelselnode.publisher.trust_anchor_path, lists_auto_refresh=False,
    )


@pytest.fixture
def lists_db(lists_settings):
    database = Database(lists_settings.resolved_database_url)
    yield database
    database.dispose()
