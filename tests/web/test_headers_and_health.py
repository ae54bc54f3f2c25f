"""Security headers on every response, health endpoint, language switch."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.web.app import create_app
from tests.conftest import fast_settings


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/", "/login", "/healthz", "/api/v1/openapi.json", "/static/regie-2.css", "/does-not-exist"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain http here


def test_https_gets_hsts_and_secure_cookie(tmp_path: Path, database_url: str) -> None:
    settings = fast_settings(tmp_path, database_url, public_url="https://regie.example")
    upgrade(Database(settings.resolved_database_url).engine)
    with TestClient(create_app(settings), base_url="https://regie.example") as client:
        response = client.get("/login")
    assert "max-age=" in response.headers["strict-transport-security"]
    assert "Secure" in response.headers["set-cookie"]


def test_no_inline_script_in_pages(client: TestClient) -> None:
    for path in ("/", "/login", "/register"):
        html = client.get(path).text
        assert "<script>" not in html and "onclick=" not in html and "style=" not in html


def test_healthz(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    broken = fast_settings(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    with TestClient(create_app(broken, check_schema=False)) as down:
        response = down.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_language_switch(client: TestClient) -> None:
    assert 'lang="nl"' in client.get("/login").text
    client.get("/language/en?next=/login")
    english = client.get("/login").text
    assert 'lang="en"' in english and "E-mail address" in english
    client.get("/language/nl?next=/login")
    assert "E-mailadres" in client.get("/login").text
