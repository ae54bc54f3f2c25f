"""Sessions: reuse after logout and after a password change, cookie flags over https.

Through the real ceremony (register, TOTP, login) of tests/web/helpers.py, on both databases.
Session fixation at login: tests/web/test_auth_flow.py::test_session_is_rotated_at_login_and_dropped_at_logout.
"""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from regie.store.db import Database
from regie.store.migrate import upgrade
from regie.web.app import create_app
from tests.conftest import fast_settings
from tests.web.conftest import app, browser, client  # noqa: F401
from tests.web.helpers import Browser


def test_the_cookie_from_before_a_password_change_is_dead(browser: Browser) -> None:
    account = browser.register()
    before = browser.client.cookies.get("regie_session")
    new_password = "nieuw-en-heel-lang-wachtwoord"
    changed = browser.post_form(
        "/account/password",
        {"current_password": account.password, "new_password": new_password, "new_password_repeat": new_password},
        token_from="/account/password",
    )
    assert changed.status_code == 303
    after = browser.client.cookies.get("regie_session")
    assert after and after != before
    assert browser.client.get("/account", follow_redirects=False).status_code == 200
    thief = TestClient(browser.client.app, base_url="http://localhost")
    thief.cookies.set("regie_session", before)
    assert thief.get("/account", follow_redirects=False).status_code == 303
    assert thief.get("/api/v1/me").status_code == 401


def test_api_session_is_dead_after_api_logout(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    browser.login(account)
    cookie = browser.client.cookies.get("regie_session")
    page = browser.client.get("/account")
    assert page.status_code == 200
    csrf = browser.csrf("/account/password")
    assert browser.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code in (200, 204)
    replay = TestClient(browser.client.app, base_url="http://localhost")
    replay.cookies.set("regie_session", cookie)
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/record/allergies", follow_redirects=False).status_code == 303


def test_a_made_up_session_cookie_is_not_adopted(client: TestClient) -> None:
    """A cookie the server never issued is replaced, not taken over (fixation by planting)."""
    planted = "A" * 43
    client.cookies.set("regie_session", planted)
    response = client.get("/login")
    assert response.status_code == 200
    issued = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert issued and issued != planted


def test_cookies_over_https_are_secure_httponly_samesite(tmp_path: Path, database_url: str) -> None:
    settings = fast_settings(tmp_path, database_url, public_url="https://regie.example")
    upgrade(Database(settings.resolved_database_url).engine)
    with TestClient(create_app(settings), base_url="https://regie.example") as https:
        session_cookie = https.get("/login").headers["set-cookie"]
        language_cookie = https.get("/language/en?next=/login", follow_redirects=False).headers["set-cookie"]
    for cookie in (session_cookie,):
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie, cookie
    assert "Secure" in language_cookie and "SameSite=Lax" in language_cookie  # no secret: readable is fine
