"""Confirming with a passkey before a sensitive account change (step-up) answers like log-in's passkey step."""
from __future__ import annotations

from sqlalchemy import select

from regie.store.models import SecurityEvent
from tests.web.helpers import Browser

# Not a passkey of this account: the check refuses it as a wrong passkey.
FOREIGN_PASSKEY = b'{"id": "AAAAAAAAAAAAAAAAAAAAAA", "rawId": "AAAAAAAAAAAAAAAAAAAAAA", "type": "public-key"}'


def _passkey_attempt(browser: Browser, base: str, token: str):
    headers = {"X-CSRF-Token": token}
    assert browser.client.post(f"{base}/options", headers=headers).status_code == 200
    return browser.client.post(f"{base}/verify", content=FOREIGN_PASSKEY,
                               headers={**headers, "content-type": "application/json"})


def _event_kinds(browser: Browser, email: str) -> list[str]:
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, email)
        return [e.kind for e in session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id))]


def test_a_step_up_passkey_failure_that_trips_the_lock_answers_429_like_log_in(browser: Browser) -> None:
    limit = browser.context.settings.second_factor_lock_failures
    account = browser.register()
    token = browser.csrf("/account/confirm")
    step_up = [_passkey_attempt(browser, "/account/confirm/passkey", token) for _ in range(limit)]
    assert [r.status_code for r in step_up] == [401] * (limit - 1) + [429]
    assert step_up[0].json() == {"error": "invalid-passkey"}
    tripped = step_up[-1].json()
    assert tripped["error"] == "throttled" and "kunt u tot" in tripped["message"]
    kinds = _event_kinds(browser, account.email)
    assert kinds.count("login-failed-second-factor") == limit and kinds.count("account-locked") == 1
    # Still locked: the next try is refused before the passkey is looked at.
    assert _passkey_attempt(browser, "/account/confirm/passkey", token).status_code == 429

    # Log-in's passkey step answers the same way (a second account, so its own counters).
    other = browser.register()
    browser.logout()
    browser.password_step(other)
    token = browser.csrf("/login/second-factor")
    log_in = [_passkey_attempt(browser, "/login/passkey", token) for _ in range(limit)]
    assert [r.status_code for r in log_in] == [r.status_code for r in step_up]
    assert log_in[-1].json() == tripped


def test_a_step_up_passkey_without_options_first_is_refused(browser: Browser) -> None:
    browser.register()
    token = browser.csrf("/account/confirm")
    refused = browser.client.post("/account/confirm/passkey/verify", content=FOREIGN_PASSKEY,
                                  headers={"X-CSRF-Token": token, "content-type": "application/json"})
    assert refused.status_code == 409 and refused.json() == {"error": "no-challenge"}


def test_a_step_up_passkey_without_csrf_token_is_refused(browser: Browser) -> None:
    account = browser.register()
    token = browser.csrf("/account/confirm")
    assert browser.client.post("/account/confirm/passkey/options", headers={"X-CSRF-Token": token}).status_code == 200
    refused = browser.client.post("/account/confirm/passkey/verify", content=FOREIGN_PASSKEY,
                                  headers={"content-type": "application/json"})
    assert refused.status_code == 403
    assert "login-failed-second-factor" not in _event_kinds(browser, account.email)


def test_a_passkey_answer_that_is_not_json_is_a_failed_check_not_an_error(browser: Browser) -> None:
    """Log-in and step-up share the check: garbage gets 401 and counts as a failure."""
    account = browser.register()
    token = browser.csrf("/account/confirm")
    headers = {"X-CSRF-Token": token}
    for body in (b"not json", b"[1, 2]"):
        assert browser.client.post("/account/confirm/passkey/options", headers=headers).status_code == 200
        refused = browser.client.post("/account/confirm/passkey/verify", content=body,
                                      headers={**headers, "content-type": "application/json"})
        assert refused.status_code == 401 and refused.json() == {"error": "invalid-passkey"}
    assert _event_kinds(browser, account.email).count("login-failed-second-factor") == 2
