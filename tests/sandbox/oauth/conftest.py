"""Fixtures for the sandbox OAuth tests: the assembled app on a fake clock, a plain
HTTP client (Starlette's TestClient, no browser), and a helper that walks the flow."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from regie.sandbox.app import create_sandbox_app
from regie.sandbox.config import SandboxConfig, default_config

BASE = "http://sandbox.localhost:8100"
PGO = "regie.localhost"
REDIRECT = "http://regie.localhost:8000/medmij/callback"
GP = "huisartsdevries"
HOSPITAL = "ziekenhuisrivierenland"
BSN = "999990007"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Redirect:
    """Where the sandbox sent the browser back to the PGO."""

    url: str
    params: dict[str, str]


def params_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config() -> SandboxConfig:
    return default_config(base_url=BASE)


@pytest.fixture
def app(config, clock, tmp_path):
    return create_sandbox_app(config, tmp_path / "state", fhir_app_factory=None, clock=clock)


@pytest.fixture
def client(app):
    with TestClient(app, base_url=BASE, follow_redirects=False) as c:
        yield c


def authorize_params(provider: str = GP, services: tuple[str, ...] = ("49",), **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": PGO,
        "redirect_uri": REDIRECT,
        "scope": " ".join(f"{provider}~{s}" for s in services),
        "state": secrets.token_urlsafe(16),
        "MedMij-Request-ID": "11111111-1111-4111-8111-111111111111",
        "X-Correlation-ID": "22222222-2222-4222-8222-222222222222",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def start(client: TestClient, provider: str = GP, **params: str):
    return client.get(f"/{provider}/oauth/authorize", params=params)


def run_flow(
    client: TestClient,
    provider: str = GP,
    services: tuple[str, ...] = ("49",),
    *,
    bsn: str | None = BSN,
    consent: str = "yes",
    expect_login: bool = True,
    **extra: str,
) -> Redirect:
    """authorize → DigiD (form post) → consent → back at the PGO."""
    params = authorize_params(provider, services, **extra)
    response = start(client, provider, **params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("/digid/login?flow=")
    flow = params_of(location)["flow"]
    response = client.get(location)
    if expect_login:
        assert response.status_code == 200, response.text
        assert 'name="bsn"' in response.text
        response = client.post("/digid/login", data={"flow": flow, "bsn": bsn, "action": "login"})
        assert response.status_code == 303, response.text
    else:
        assert response.status_code == 302, "expected the DigiD session to be reused"
    consent_url = response.headers["location"]
    assert consent_url.startswith(f"/{provider}/oauth/consent?")
    page = client.get(consent_url)
    assert page.status_code == 200
    response = client.post(f"/{provider}/oauth/consent", data={"flow": flow, "consent": consent})
    assert response.status_code == 303
    url = response.headers["location"]
    redirect = Redirect(url, params_of(url))
    assert redirect.params.get("state") == params["state"]
    return redirect


def token(client: TestClient, provider: str = GP, **form: str):
    return client.post(
        f"/{provider}/oauth/token",
        data=form,
        headers={"MedMij-Request-ID": "33333333-3333-4333-8333-333333333333",
                 "X-Correlation-ID": "22222222-2222-4222-8222-222222222222"},
    )


def exchange(client: TestClient, redirect: Redirect, provider: str = GP, **extra: str):
    form = {
        "grant_type": "authorization_code",
        "code": redirect.params["code"],
        "redirect_uri": REDIRECT,
        "client_id": PGO,
    }
    form.update(extra)
    return token(client, provider, **{k: v for k, v in form.items() if v is not None})
