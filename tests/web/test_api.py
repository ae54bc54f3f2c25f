"""JSON API: login, tokens, problem documents, OpenAPI, limits."""
from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.helpers import Browser

PROBLEM = "application/problem+json"


def api_login(browser: Browser, account, otp: str | None = None):
    return browser.client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": account.password, "otp": otp or browser.clock.code(account.totp_secret)},
    )


def test_login_starts_a_session_and_returns_csrf_token(browser: Browser, app) -> None:
    account = browser.register()
    api = Browser(TestClient(app, base_url="http://localhost"), browser.context, browser.clock)
    response = api_login(api, account)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == account.email and len(body["csrf_token"]) > 20
    assert "regie_session" in response.headers["set-cookie"]
    assert api.client.get("/api/v1/me").json()["email"] == account.email
    # State changes over a session need the CSRF token.
    refused = api.client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["type"] == "urn:regie:problem:csrf-failed"
    done = api.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert done.status_code == 204
    assert api.client.get("/api/v1/me").status_code == 401


def test_login_errors_are_problem_documents(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    wrong_password = browser.client.post("/api/v1/auth/login", json={"email": account.email, "password": "x" * 12, "otp": "123456"})
    assert wrong_password.status_code == 401
    assert wrong_password.headers["content-type"] == PROBLEM
    assert wrong_password.json()["type"] == "urn:regie:problem:invalid-credentials"
    wrong_code = api_login(browser, account, otp="000000")
    assert wrong_code.json()["type"] == "urn:regie:problem:invalid-second-factor"
    malformed = browser.client.post("/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["type"] == "urn:regie:problem:malformed-json"
    missing = browser.client.post("/api/v1/auth/login", json={"email": account.email})
    assert missing.status_code == 422
    problem = missing.json()
    assert problem["type"] == "urn:regie:problem:validation-error"
    assert {e["field"] for e in problem["errors"]} == {"password", "otp"}
    extra = browser.client.post("/api/v1/auth/login", json={"email": "a", "password": "b", "otp": "c", "admin": True})
    assert extra.status_code == 422 and any(e["field"] == "admin" for e in extra.json()["errors"])


def test_second_factor_lock_over_the_api_says_when(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    limit = browser.context.settings.second_factor_lock_failures
    responses = [api_login(browser, account, otp="000000") for _ in range(limit)]
    assert [r.status_code for r in responses] == [401] * (limit - 1) + [429]
    locked = responses[-1]
    assert locked.json()["type"] == "urn:regie:problem:throttled" and locked.json()["locked"] is True
    assert int(locked.headers["retry-after"]) > 60


def test_bearer_tokens(browser: Browser) -> None:
    from regie.accounts import tokens
    from regie.accounts.activity import ClientInfo

    account = browser.register()
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, account.email)
        issued = tokens.create(session, user.id, "script", ClientInfo())
    browser.client.cookies.clear()
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert browser.client.get("/api/v1/me", headers=headers).json()["email"] == account.email
    listing = browser.client.get("/api/v1/tokens", headers=headers).json()
    assert listing[0]["name"] == "script" and listing[0]["last_used_at"] is not None
    assert "token" not in listing[0]
    with browser.context.db.session() as session:
        from regie.store.models import ApiToken

        stored = session.get(ApiToken, issued.id)
        assert stored.token_hash != issued.token and issued.token not in stored.token_hash
    bad = browser.client.get("/api/v1/me", headers={"Authorization": "Bearer regie_pat_nope"})
    assert bad.status_code == 401 and bad.headers["content-type"] == PROBLEM


def test_unknown_api_path_and_method_are_problems(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:regie:problem:not-found"
    method = client.put("/api/v1/me")
    assert method.status_code in (403, 405)  # CSRF guard may answer first for an anonymous PUT
    assert method.headers["content-type"] == PROBLEM


def test_oversized_bodies_are_refused_before_reading(client: TestClient, app) -> None:
    limit = app.state.context.settings.max_body_bytes
    response = client.post("/api/v1/auth/login", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["type"] == "urn:regie:problem:request-too-large"


def test_openapi_document_lists_the_api_only(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    assert {"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/tokens"} <= paths
    assert all(path.startswith("/api/v1/") for path in paths)


def test_no_stack_trace_reaches_the_user(app, client: TestClient) -> None:
    def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/v1/_explode", explode)
    app.add_api_route("/_explode", explode)
    api = client.get("/api/v1/_explode")
    page = client.get("/_explode")
    assert api.status_code == page.status_code == 500
    assert api.json()["type"] == "urn:regie:problem:server-error"
    for response in (api, page):
        assert "secret internal detail" not in response.text and "Traceback" not in response.text
