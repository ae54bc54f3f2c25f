"""/collect's lasting permissions: the schedule and e-mail choice, and stopping one."""
from __future__ import annotations

import re

import pytest

from regie.collect.service import Collections
from tests.web.helpers import Browser


@pytest.fixture
def signed_in(browser: Browser, app):
    account = browser.register()
    context = app.state.context
    with context.db.session() as session:
        from sqlalchemy import select

        from regie.store.models import User

        user_id = session.scalar(select(User.id).where(User.email == account.email))
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    return browser, collections, user_id


def test_no_permissions_yet(signed_in):
    browser, _collections, _user = signed_in
    page = browser.client.get("/collect")
    assert page.status_code == 200, page.text
    assert "Toestemming bewaren" in page.text


def test_choose_schedule_and_email_then_stop(signed_in):
    browser, collections, user_id = signed_in
    collections.keep_consent(user_id, "huisartsdevries@medmij", "huisartsdevries~49", "a-refresh-token")
    [kept] = collections.consents(user_id)
    page = browser.client.get("/collect")
    assert page.status_code == 200, page.text
    assert re.search(r'<option value="7" selected>', page.text)
    assert "a-refresh-token" not in page.text
    saved = browser.post_form(f"/collect/consents/{kept['id']}/schedule", {"days": "1"}, token_from="/collect")
    assert saved.status_code == 303 and saved.headers["location"].startswith("/collect?saved=1")
    [now] = collections.consents(user_id)
    assert now["schedule_days"] == 1 and not now["email_new_data"]
    assert now["language"] == "nl"  # the e-mail about new data goes out in the page's language
    browser.client.cookies.set("regie_lang", "en")
    browser.post_form(f"/collect/consents/{kept['id']}/schedule", {"days": "1"}, token_from="/collect")
    assert collections.consents(user_id)[0]["language"] == "en"
    browser.client.cookies.set("regie_lang", "nl")
    for wrong in ("2", "0.5", "x", "-1"):
        refused = browser.post_form(f"/collect/consents/{kept['id']}/schedule", {"days": wrong, "email": "1"},
                                    token_from="/collect")
        assert refused.status_code == 400
    assert browser.post_form("/collect/consents/nope/schedule", {"days": "7"}, token_from="/collect").status_code == 404
    stopped = browser.post_form(f"/collect/consents/{kept['id']}/revoke", {}, token_from="/collect")
    assert stopped.status_code == 303
    assert collections.consents(user_id) == []
    assert "De toestemming is gestopt" in browser.client.get("/collect?revoked=1").text
