"""Security page: activity list, step-up before tokens and factor changes, recovery codes renewal."""
from __future__ import annotations

import re

from tests.web.helpers import Browser


def test_activity_page_lists_logins_and_failures_with_browser(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    browser.password_step(account, "dit-is-helemaal-fout")
    browser.login(account)
    page = browser.client.get("/account/activity", headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"})
    assert page.status_code == 200
    assert "Verkeerd wachtwoord" in page.text and "Ingelogd" in page.text and "Account gemaakt" in page.text


def test_tokens_need_the_second_factor_again(browser: Browser) -> None:
    account = browser.register()
    page = browser.client.get("/account/tokens")
    assert "Laat zien dat u het bent" in page.text
    refused = browser.post_form("/account/tokens", {"name": "script"}, token_from="/account/tokens")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/account/confirm")
    wrong = browser.post_form("/account/confirm", {"code": "123456", "next": "/account/tokens"}, token_from="/account/confirm")
    assert wrong.status_code == 401
    confirmed = browser.post_form(
        "/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account/tokens"}, token_from="/account/confirm"
    )
    assert confirmed.headers["location"] == "/account/tokens"
    created = browser.post_form("/account/tokens", {"name": "mijn script"}, token_from="/account/tokens")
    token = re.search(r"<code class=\"secret\" data-new-token>([^<]+)</code>", created.text).group(1)
    assert token.startswith("regie_pat_")
    me = browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == account.email
    listing = browser.client.get("/account/tokens")
    assert token not in listing.text and "mijn script" in listing.text
    token_id = re.search(r'data-token-id="([0-9a-f]+)"', listing.text).group(1)
    revoked = browser.post_form(f"/account/tokens/{token_id}/revoke", {}, token_from="/account/tokens")
    assert revoked.status_code == 303
    browser.client.cookies.clear()
    assert browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_last_second_factor_cannot_be_removed(browser: Browser) -> None:
    account = browser.register()
    browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account"}, token_from="/account/confirm")
    page = browser.client.get("/account")
    factor_id = re.search(r'action="/account/totp/([0-9a-f]+)/remove"', page.text).group(1)
    response = browser.post_form(f"/account/totp/{factor_id}/remove", {}, token_from="/account", follow=True)
    assert "laatste manier van inloggen" in response.text


def test_recovery_codes_can_be_renewed_and_old_ones_stop_working(browser: Browser) -> None:
    account = browser.register()
    browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account"}, token_from="/account/confirm")
    renewed = browser.post_form("/account/recovery-codes", {}, token_from="/account", follow=True)
    new_codes = re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", renewed.text)
    assert len(new_codes) == 10 and set(new_codes).isdisjoint(account.recovery_codes)
    again = browser.client.get("/setup/recovery-codes")
    assert "al getoond" in again.text  # shown once only
    browser.logout()
    browser.password_step(account)
    old = browser.post_form("/login/recovery", {"code": account.recovery_codes[1]}, token_from="/login/recovery")
    assert old.status_code == 401
    new = browser.post_form("/login/recovery", {"code": new_codes[0]}, token_from="/login/recovery")
    assert new.status_code == 303


def test_confirming_again_rotates_the_session(browser: Browser) -> None:
    account = browser.register()
    before = browser.client.cookies.get("regie_session")
    browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account"}, token_from="/account/confirm")
    after = browser.client.cookies.get("regie_session")
    assert before != after
    assert browser.client.get("/account/tokens").text.count('name="name"') == 1  # the create form shows: stepped up
