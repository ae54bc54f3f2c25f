"""An app on a fresh database of each kind, and a client that can sign in."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from regie.config import Settings
from regie.web.app import create_app
from tests.conftest import migrate
from tests.web.helpers import Browser


@pytest.fixture
def app(settings: Settings):
    migrate(settings.resolved_database_url)
    application = create_app(settings)
    yield application
    application.state.context.db.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def browser(app, client) -> Browser:
    return Browser(client, app.state.context)
