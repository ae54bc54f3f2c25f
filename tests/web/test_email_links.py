"""Links sent by e-mail (registration, password reset): single use, expiring, bound to one
account and one kind; a reset counts only after the second factor and ends every session."""
from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from regie.store.models import EmailToken, SecurityEvent, WebSession
from regie.store.types import utcnow
from tests.web.helpers import Account, Browser, link_in_mail, outbox_mails

NEW = "nieuw-wachtwoord-voor-jou-9"


def _reset_link(browser: Browser, email: str) -> str:
    asked = browser.post_form("/password/forgot", {"email": email})
    assert asked.status_code == 200 and "Kijk in uw e-mail" in asked.text
    return link_in_mail(browser.context.settings.home, email, "/password/link/")


def _choose(browser: Browser, link: str, password: str = NEW):
    opened = browser.client.get(link, follow_redirects=False)
    assert opened.headers.get("location") == "/password/reset", opened.text
    return browser.post_form("/password/reset", {"password": password, "password_repeat": password})


def _kinds(browser: Browser, email: str) -> list[str]:
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, email)
        return [e.kind for e in session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id))]


def _second_browser(browser: Browser) -> Browser:
    return Browser(TestClient(browser.client.app, base_url="http://localhost"), browser.context, browser.clock)


def test_a_reset_counts_only_after_the_second_factor_and_ends_other_sessions(browser: Browser) -> None:
    account = browser.register()
    other = _second_browser(browser)
    assert other.login(account).status_code == 303  # logged in elsewhere
    browser.logout()
    link = _reset_link(browser, account.email)
    chosen = _choose(browser, link)
    assert chosen.headers["location"] == "/password/reset/confirm"
    # The new password does not count yet; the old one still does.
    assert browser.password_step(Account(account.email, NEW, account.totp_secret)).status_code == 401
    assert other.client.get("/account", follow_redirects=False).status_code == 200
    wrong = browser.post_form("/password/reset/confirm", {"code": "000000"})
    assert wrong.status_code == 401
    done = browser.post_form("/password/reset/confirm", {"code": browser.clock.code(account.totp_secret)})
    assert done.headers["location"] == "/account?password_reset=1"
    assert "Uw nieuwe wachtwoord is klaar" in browser.client.get(done.headers["location"]).text
    # The other device is logged out; only this browser's new session is left.
    assert other.client.get("/account", follow_redirects=False).status_code == 303
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, account.email)
        assert len(list(session.scalars(select(WebSession).where(WebSession.user_id == user.id)))) == 1
    kinds = _kinds(browser, account.email)
    assert {"password-reset-requested", "password-reset", "login-failed-second-factor"} <= set(kinds)
    browser.logout()
    assert browser.password_step(account).status_code == 401
    assert browser.login(Account(account.email, NEW, account.totp_secret)).status_code == 303


def test_a_recovery_code_confirms_a_reset_once(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    _choose(browser, _reset_link(browser, account.email))
    done = browser.post_form("/password/reset/confirm", {"code": account.recovery_codes[0]})
    assert done.headers["location"] == "/account?password_reset=1"
    browser.logout()
    _choose(browser, _reset_link(browser, account.email), "nog-een-nieuw-wachtwoord-3")
    again = browser.post_form("/password/reset/confirm", {"code": account.recovery_codes[0]})
    assert again.status_code == 401


def test_a_link_works_once(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    link = _reset_link(browser, account.email)
    _choose(browser, link)
    browser.post_form("/password/reset/confirm", {"code": browser.clock.code(account.totp_secret)})
    browser.logout()
    reused = browser.client.get(link, follow_redirects=False)
    assert reused.status_code == 410 and "al gebruikt" in reused.text
    # Nor does the confirm step run again on its own.
    assert browser.client.get("/password/reset/confirm", follow_redirects=False).headers["location"] == "/password/forgot"


def test_an_expired_link_does_not_work(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    link = _reset_link(browser, account.email)
    opened = browser.client.get(link, follow_redirects=False)
    assert opened.status_code == 303
    with browser.context.db.session() as session:
        session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    # Expired between opening and choosing: the step sends back to the start.
    step = browser.post_form("/password/reset", {"password": NEW, "password_repeat": NEW}, token_from="/login")
    assert step.headers["location"] == "/password/forgot"
    expired = browser.client.get(link, follow_redirects=False)
    assert expired.status_code == 410 and "te oud" in expired.text


def test_a_link_of_one_kind_does_not_open_the_other(browser: Browser) -> None:
    browser.post_form("/register", {"email": "los@voorbeeld.nl"})
    token = link_in_mail(browser.context.settings.home, "los@voorbeeld.nl", "/register/continue/").rsplit("/", 1)[1]
    assert browser.client.get(f"/password/link/{token}", follow_redirects=False).status_code == 404
    account = browser.register()
    browser.logout()
    reset_token = _reset_link(browser, account.email).rsplit("/", 1)[1]
    assert browser.client.get(f"/register/continue/{reset_token}", follow_redirects=False).status_code == 404
    assert browser.client.get("/password/link/" + "x" * 43, follow_redirects=False).status_code == 404


def test_a_link_resets_only_its_own_account_and_needs_that_accounts_factor(browser: Browser) -> None:
    anna = browser.register()
    browser.logout()
    bert = browser.register()  # bert stays logged in in this browser and opens anna's link
    link = _reset_link(browser, anna.email)
    _choose(browser, link)
    refused = browser.post_form("/password/reset/confirm", {"code": browser.clock.code(bert.totp_secret)})
    assert refused.status_code == 401
    assert browser.post_form("/password/reset/confirm", {"code": bert.recovery_codes[0]}).status_code == 401
    # Another browser that never opened the link cannot take the step.
    stranger = _second_browser(browser)
    assert stranger.client.get("/password/reset/confirm", follow_redirects=False).headers["location"] == "/password/forgot"
    done = browser.post_form("/password/reset/confirm", {"code": browser.clock.code(anna.totp_secret)})
    assert done.headers["location"] == "/account?password_reset=1"
    assert anna.email in browser.client.get("/").text
    browser.logout()
    assert browser.password_step(bert).headers["location"] == "/login/second-factor"  # bert's password is unchanged


def test_only_the_newest_link_works_and_a_password_change_ends_them(browser: Browser) -> None:
    account = browser.register()
    browser.logout()
    first = _reset_link(browser, account.email)
    second = _reset_link(browser, account.email)
    assert browser.client.get(first, follow_redirects=False).status_code == 404
    assert browser.client.get(second, follow_redirects=False).status_code == 303
    browser.login(account)
    browser.post_form("/account/password", {"current_password": account.password, "new_password": NEW,
                                            "new_password_repeat": NEW})
    assert browser.client.get(second, follow_redirects=False).status_code == 404


def test_unknown_address_gets_a_mail_that_says_so(browser: Browser) -> None:
    _reset_link_page = browser.post_form("/password/forgot", {"email": "onbekend@voorbeeld.nl"})
    assert _reset_link_page.status_code == 200
    [(subject, body)] = outbox_mails(browser.context.settings.home, "onbekend@voorbeeld.nl")
    assert subject == "Een nieuw wachtwoord voor Regie"
    assert "geen account" in body and "/register" in body and "/password/link/" not in body


def test_registration_link_works_once_and_not_after_the_address_is_taken(browser: Browser) -> None:
    browser.post_form("/register", {"email": "twee@voorbeeld.nl"})
    link = link_in_mail(browser.context.settings.home, "twee@voorbeeld.nl", "/register/continue/")
    other = _second_browser(browser)
    assert other.client.get(link, follow_redirects=False).status_code == 303
    account = browser.register("twee@voorbeeld.nl")  # a newer link, used
    assert account.email == "twee@voorbeeld.nl"
    assert other.client.get("/register/password", follow_redirects=False).headers["location"] == "/register"
    used = browser.client.get(link_in_mail(browser.context.settings.home, "twee@voorbeeld.nl", "/register/continue/"),
                              follow_redirects=False)
    assert used.status_code == 410


def test_a_reset_for_an_account_without_second_factor_leads_to_enrolment(browser: Browser) -> None:
    browser.post_form("/register", {"email": "half@voorbeeld.nl"})
    browser.client.get(link_in_mail(browser.context.settings.home, "half@voorbeeld.nl", "/register/continue/"))
    browser.post_form("/register/password", {"password": "eerste-wachtwoord-van-mij", "password_repeat": "eerste-wachtwoord-van-mij"})
    browser.client.cookies.clear()
    assert _choose(browser, _reset_link(browser, "half@voorbeeld.nl")).headers["location"] == "/setup"
    assert browser.client.get("/account", follow_redirects=False).headers["location"] == "/setup"
