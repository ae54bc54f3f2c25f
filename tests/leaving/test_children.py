"""A parent who deletes their account: a child's record nobody else can reach goes with it
(the page says so first); one the other parent still reaches stays. Both databases."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from regie.delegation import Delegations
from regie.store.delegation_models import Delegation, ManagedRecord
from regie.store.models import User
from tests.sharelinks.record_data import load_record
from tests.web.helpers import Account, Browser

CHILD = "Pim Zeldenrijk"


def _user(browser: Browser, email: str) -> User:
    with browser.context.db.session() as session:
        return browser.context.accounts.by_email(session, email)


def _delete(browser: Browser, account: Account) -> None:
    browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret), "next": "/account/delete"},
                      token_from="/account/confirm?next=/account/delete")
    done = browser.post_form("/account/delete", {"password": account.password, "understood": "1"},
                             token_from="/account/delete")
    assert done.status_code == 303 and done.headers["location"] == "/account/deleted"


def test_the_only_parent_takes_the_childs_record_along(browser: Browser) -> None:
    parent = browser.register()
    delegations = Delegations(browser.context.accounts)
    child = delegations.create_child(_user(browser, parent.email), CHILD, date(2017, 5, 1))
    load_record(browser.context, child.email)
    page = browser.client.get("/account/delete")
    assert "data-children" in page.text and CHILD in page.text
    _delete(browser, parent)
    with browser.context.db.session() as session:
        assert session.get(User, child.id) is None
        assert session.scalar(select(ManagedRecord).where(ManagedRecord.user_id == child.id)) is None
        assert session.scalar(select(Delegation).where(Delegation.user_id == child.id)) is None


def test_a_childs_record_the_other_parent_reaches_stays(browser: Browser) -> None:
    other = browser.register()
    browser.logout()
    parent = browser.register()
    delegations = Delegations(browser.context.accounts)
    child = delegations.create_child(_user(browser, parent.email), CHILD, date(2017, 5, 1))
    _, token = delegations.invite(child, _user(browser, parent.email), email=other.email, name="", kind="parent",
                                  categories=None, can_add=True, can_collect=True)
    delegations.accept(token, _user(browser, other.email))
    assert "data-children" not in browser.client.get("/account/delete").text
    _delete(browser, parent)
    with browser.context.db.session() as session:
        assert session.get(User, child.id) is not None
        kept = session.scalars(select(Delegation).where(Delegation.user_id == child.id)).all()
    assert [row.delegate_user_id for row in kept] == [_user(browser, other.email).id]
    assert delegations.grant(_user(browser, other.email), child.id) is not None
