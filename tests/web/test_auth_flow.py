"""Register, enrol TOTP, log out, log in, lock-out and recovery codes, on both databases."""
from __future__ import annotations

from sqlalchemy import select

from regie.store.models import SecurityEvent, WebSession
from tests.web.helpers import CSRF, Browser, link_in_mail, outbox_mails


def event_kinds(browser: Browser, email: str) -> list[str]:
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, email)
        return [e.kind for e in session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id))]


def test_register_enrol_logout_login(browser: Browser) -> None:
    account = browser.register()
    assert browser.client.get("/").text.count(account.email) == 1  # the overview greets the user
    browser.logout()
    assert browser.client.get("/", follow_redirects=False).status_code == 200
    assert "/login" in browser.client.get("/account", follow_redirects=False).headers["location"]
    done = browser.login(account)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert browser.client.get("/account").status_code == 200
    kinds = event_kinds(browser, account.email)
    assert kinds.count("login") == 2 and "registered" in kinds and "totp-added" in kinds and "logout" in kinds


def _open_registration_link(browser: Browser, email: str):
    asked = browser.post_form("/register", {"email": email})
    assert asked.status_code == 200 and "Kijk in uw e-mail" in asked.text
    return browser.client.get(link_in_mail(browser.context.settings.home, email, "/register/continue/"),
                              follow_redirects=False)


def test_nothing_but_enrolment_is_reachable_before_a_second_factor(browser: Browser) -> None:
    assert _open_registration_link(browser, "nieuw@voorbeeld.nl").headers["location"] == "/register/password"
    response = browser.post_form(
        "/register/password", {"password": "paars-fietsje-wandelt-42", "password_repeat": "paars-fietsje-wandelt-42"}
    )
    assert response.headers["location"] == "/setup"
    for path in ("/", "/account", "/account/tokens", "/account/activity"):
        assert browser.client.get(path, follow_redirects=False).headers["location"] == "/setup", path
    assert browser.client.get("/api/v1/me").status_code == 401


def test_registration_errors_are_specific_and_per_field(browser: Browser) -> None:
    response = browser.post_form("/register", {"email": "geen-adres"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert "geen geldig e-mailadres" in response.text  # Dutch by default
    assert 'aria-invalid="true"' in response.text and 'value="geen-adres"' in response.text
    assert outbox_mails(browser.context.settings.home, "geen-adres") == []
    _open_registration_link(browser, "a@voorbeeld.nl")
    common = browser.post_form("/register/password", {"password": "1qaz2wsx3edc", "password_repeat": "1qaz2wsx3edc"})
    assert common.status_code == 422 and 'id="password-error"' in common.text
    assert "Veel mensen gebruiken dit wachtwoord" in common.text
    mismatch = browser.post_form("/register/password", {"password": "lang-en-sterk-genoeg", "password_repeat": "x"})
    assert 'id="password_repeat-error"' in mismatch.text and "niet hetzelfde" in mismatch.text
    short = browser.post_form("/register/password", {"password": "kort", "password_repeat": "kort"})
    assert "minstens 12 tekens" in short.text
    assert 'value="a@voorbeeld.nl"' in short.text  # the address the link was for, not typed again


def test_a_taken_address_gets_an_e_mail_not_a_second_account(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    again = browser.post_form("/register", {"email": account.email.upper()})
    assert again.status_code == 200 and "Kijk in uw e-mail" in again.text
    subject, body = outbox_mails(browser.context.settings.home, account.email)[-1]
    assert subject == "U heeft al een Regie-account"
    assert "/password/forgot" in body and "/login" in body and "/register/continue/" not in body
    assert "register-attempt" in event_kinds(browser, account.email)


def test_wrong_password_then_lock(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    limit = browser.context.settings.password_lock_failures
    for _ in range(limit - 1):
        response = browser.password_step(account, "helemaal-verkeerd-wachtwoord")
        assert response.status_code == 401
        assert "klopt niet" in response.text
    locked = browser.password_step(account, "helemaal-verkeerd-wachtwoord")
    assert locked.status_code == 429 and "kunt u tot" in locked.text
    # Even the right password is refused while the lock lasts.
    assert browser.password_step(account).status_code == 429
    assert "account-locked" in event_kinds(browser, account.email)


def test_unknown_account_is_answered_like_a_wrong_password(browser: Browser) -> None:
    response = browser.post_form("/login", {"email": "niemand@voorbeeld.nl", "password": "wat-dan-ook-12345"})
    account = browser.register()
    browser.logout()
    wrong = browser.password_step(account, "wat-dan-ook-12345")
    assert response.status_code == wrong.status_code == 401
    strip = lambda text: CSRF.sub("", text).replace("niemand@voorbeeld.nl", "").replace(account.email, "")  # noqa: E731
    assert strip(response.text) == strip(wrong.text)


def test_wrong_codes_lock_then_recovery_code_gets_in_once(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    assert browser.password_step(account).headers["location"] == "/login/second-factor"
    limit = browser.context.settings.second_factor_lock_failures
    statuses = [
        browser.post_form("/login/second-factor", {"code": "000000"}, token_from="/login/second-factor").status_code
        for _ in range(limit)
    ]
    assert statuses == [401] * (limit - 1) + [429]
    right_code = browser.clock.code(account.totp_secret)
    still_locked = browser.post_form("/login/second-factor", {"code": right_code}, token_from="/login/second-factor")
    assert still_locked.status_code == 429 and "kunt u tot" in still_locked.text
    # The recovery code is throttled apart and still works.
    code = account.recovery_codes[0]
    done = browser.post_form("/login/recovery", {"code": code.upper()}, token_from="/login/recovery")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "recovery-code-used" in event_kinds(browser, account.email)
    browser.logout()
    browser.password_step(account)
    reused = browser.post_form("/login/recovery", {"code": code}, token_from="/login/recovery")
    assert reused.status_code == 401 and "al gebruikt" in reused.text


def test_a_totp_code_is_never_accepted_twice(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    code = browser.clock.code(account.totp_secret)
    browser.password_step(account)
    first = browser.post_form("/login/second-factor", {"code": code}, token_from="/login/second-factor")
    assert first.status_code == 303
    browser.logout()
    browser.password_step(account)
    replay = browser.post_form("/login/second-factor", {"code": code}, token_from="/login/second-factor")
    assert replay.status_code == 401


def test_session_is_rotated_at_login_and_dropped_at_logout(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    browser.client.get("/login")
    before = browser.client.cookies.get("regie_session")
    browser.login(account)
    after = browser.client.cookies.get("regie_session")
    assert before and after and before != after
    with browser.context.db.session() as session:
        assert session.get(WebSession, __import__("hashlib").sha256(before.encode()).hexdigest()) is None
    browser.logout()
    assert browser.client.get("/account", follow_redirects=False).status_code == 303
    # Re-using the old cookie after logout gets nowhere.
    browser.client.cookies.set("regie_session", after)
    assert browser.client.get("/account", follow_redirects=False).status_code == 303


def test_cookie_flags(browser: Browser) -> None:
    response = browser.client.get("/login")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain http here; see test_https_cookie_is_secure


def test_forms_without_csrf_token_are_refused(browser: Browser) -> None:
    browser.client.get("/login")
    response = browser.client.post("/login", data={"email": "x@voorbeeld.nl", "password": "y"})
    assert response.status_code == 403 and "verlopen" in response.text
    wrong = browser.client.post("/login", data={"email": "x@voorbeeld.nl", "password": "y", "csrf_token": "fout"})
    assert wrong.status_code == 403


def test_change_password_logs_out_other_sessions(browser: Browser, app) -> None:
    from fastapi.testclient import TestClient

    account = browser.register()
    other = Browser(TestClient(app, base_url="http://localhost"), browser.context, browser.clock)
    assert other.login(account).status_code == 303
    assert other.client.get("/account", follow_redirects=False).status_code == 200
    new_password = "nieuw-en-heel-lang-wachtwoord"
    changed = browser.post_form(
        "/account/password",
        {"current_password": account.password, "new_password": new_password, "new_password_repeat": new_password},
        token_from="/account/password",
    )
    assert changed.status_code == 303
    assert browser.client.get("/account", follow_redirects=False).status_code == 200
    assert other.client.get("/account", follow_redirects=False).status_code == 303
    browser.logout()
    account.password = new_password
    assert browser.login(account).status_code == 303


def test_idle_and_absolute_timeouts(browser: Browser) -> None:
    from datetime import timedelta

    account = browser.register()
    token = browser.client.cookies.get("regie_session")
    digest = __import__("hashlib").sha256(token.encode()).hexdigest()
    with browser.context.db.session() as session:
        row = session.get(WebSession, digest)
        row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
    assert browser.client.get("/account", follow_redirects=False).status_code == 303
    browser.login(account)
    token = browser.client.cookies.get("regie_session")
    digest = __import__("hashlib").sha256(token.encode()).hexdigest()
    with browser.context.db.session() as session:
        row = session.get(WebSession, digest)
        row.created_at = row.created_at - timedelta(hours=12, minutes=1)
    assert browser.client.get("/account", follow_redirects=False).status_code == 303


def test_open_redirects_are_refused(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    for target in ("https://elders.example/", "//elders.example/", "/\\elders.example"):
        response = browser.post_form("/login", {"email": account.email, "password": account.password, "next": target}, token_from="/login")
        done = browser.post_form("/login/second-factor", {"code": browser.clock.code(account.totp_secret)}, token_from="/login/second-factor")
        assert done.headers["location"] == "/", target
        browser.logout()
    language = browser.client.get("/language/en?next=https://elders.example/", follow_redirects=False)
    assert language.headers["location"] == "/"
