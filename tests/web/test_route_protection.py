"""No route shows or changes anything for an anonymous visitor unless it is meant to be public.

Generated from the route table: a new route without a guard fails here.
"""
from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.helpers import CSRF
from tests.web.routes import iter_routes

# Reachable without an account, each for a reason.
PUBLIC = {
    ("GET", "/"),  # the welcome page
    ("GET", "/login"), ("POST", "/login"),
    ("GET", "/register"), ("POST", "/register"),
    ("GET", "/password/forgot"), ("POST", "/password/forgot"),  # answers alike for every address
    ("GET", "/healthz"), ("GET", "/readyz"),  # liveness and readiness: states only
    ("GET", "/favicon.ico"),
    ("GET", "/language/{language}"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/logout"),  # ends whatever session there is
}
# Steps of logging in: without a pending login they send the visitor back or refuse.
LOGIN_STEPS = {
    ("GET", "/login/second-factor"), ("POST", "/login/second-factor"),
    ("GET", "/login/recovery"), ("POST", "/login/recovery"),
    ("POST", "/login/passkey/options"), ("POST", "/login/passkey/verify"),
}
# Steps after an e-mail link: without an opened link they send the visitor back to the start.
EMAIL_STEPS = {
    ("GET", "/register/password"): "/register", ("POST", "/register/password"): "/register",
    ("GET", "/password/reset"): "/password/forgot", ("POST", "/password/reset"): "/password/forgot",
    ("GET", "/password/reset/confirm"): "/password/forgot", ("POST", "/password/reset/confirm"): "/password/forgot",
    ("POST", "/password/reset/passkey/options"): None, ("POST", "/password/reset/passkey/verify"): None,
}
# Their own secret is the credential (a calendar feed token, a one-time callback state).
SECRET_URL = {("GET", "/calendar/{token}.ics"), ("GET", "/collect/callback"), ("GET", "/send/callback"),
              ("GET", "/metrics"),  # loopback or the metrics bearer token; else 404
              ("GET", "/s/{token}"), ("POST", "/s/{token}"),  # a share link for a doctor (docs/share-links.md)
              ("GET", "/s/{token}/documents/{item_id}")}
SECRET_URL |= {("GET", "/questionnaires/callback")}  # the one-time state (docs/share.md)
# Delegation: the invitation or own-login link is the credential (docs/delegation.md).
SECRET_URL |= {("GET", "/register/continue/{token}"), ("GET", "/password/link/{token}")}  # e-mailed links
SECRET_URL |= {("GET", "/invite/{token}"), ("GET", "/claim/{token}"), ("POST", "/claim/{token}")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0123456789abcdef0123456789abcdef", path)


def test_every_route_needs_an_account(client: TestClient, app) -> None:
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)
    checked = 0
    for path, methods in iter_routes(app.routes):
        for method in methods:
            if (method, path) in PUBLIC:
                continue
            url = _concrete(path)
            headers = {"X-CSRF-Token": token}
            response = client.request(method, url, headers=headers, data={"csrf_token": token}, follow_redirects=False)
            if (method, path) in LOGIN_STEPS:
                assert response.status_code in (303, 409), (method, path, response.status_code)
                if response.status_code == 303:
                    assert response.headers["location"] == "/login"
                continue
            if (method, path) in EMAIL_STEPS:
                start = EMAIL_STEPS[(method, path)]
                assert response.status_code == (303 if start else 409), (method, path, response.status_code)
                assert response.headers.get("location") == start, (method, path)
                continue
            if (method, path) in SECRET_URL:
                assert response.status_code in (303, 400, 404), (method, path, response.status_code)
                continue
            checked += 1
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers["content-type"] == "application/problem+json"
            else:
                assert response.status_code in (303, 401, 403), (method, path, response.status_code)
                if response.status_code == 303:
                    assert response.headers["location"].startswith("/login"), (method, path, response.headers["location"])
    assert checked > 40


def test_the_exceptions_name_real_routes(app) -> None:
    """A renamed public route must be renamed here too, not silently lose its check."""
    table = {(method, path) for path, methods in iter_routes(app.routes) for method in methods}
    assert (PUBLIC | LOGIN_STEPS | SECRET_URL | set(EMAIL_STEPS)) - table == set()
