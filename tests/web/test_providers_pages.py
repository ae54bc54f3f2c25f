"""/providers (patients) and /admin/lists (administrators) over held sandbox lists."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from regie.medmij.lists import ListKind
from regie.medmij.lists_client import ListsClient
from regie.store.models import User
from regie.web.app import create_app
from tests.medmij.conftest import lists_db, lists_settings, stelselnode  # noqa: F401 - fixtures
from tests.web.helpers import Browser


@pytest.fixture
def lists_app(lists_settings, lists_db, stelselnode):  # noqa: F811
    ListsClient(lists_settings, lists_db, transport=stelselnode.transport).refresh()
    application = create_app(lists_settings)
    assert application.state.context.settings.lists_auto_refresh is False
    yield application
    application.state.context.db.dispose()


@pytest.fixture
def browser(lists_app):
    with TestClient(lists_app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield Browser(client, lists_app.state.context)


def test_search_needs_a_signed_in_user(browser):
    response = browser.client.get("/providers?q=huisarts", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_search_finds_a_misspelt_provider_with_its_services(browser, stelselnode):  # noqa: F811
    browser.register()
    page = browser.client.get("/providers")
    assert page.status_code == 200 and 'name="q"' in page.text and "provider-list" not in page.text
    page = browser.client.get("/providers", params={"q": "ziekenhuis rivierenlnd"})
    assert page.status_code == 200
    first = re.search(r'data-provider="([^"]+)"', page.text)
    # The sandbox's own hospital (name derived) and the generated one in Tiel (details).
    assert first and first.group(1) in {"ziekenhuisrivierenland@medmij", "ziekenhuisrivierenlandtiel@medmij"}
    assert 'value="ziekenhuisrivierenland@medmij~48"' in page.text
    gnl = stelselnode.publisher.current(ListKind.GNL).xml.decode()
    name_48 = re.search(r"<GegevensdienstId>48</GegevensdienstId>\s*<Weergavenaam>([^<]+)<", gnl).group(1)
    assert name_48 in page.text
    assert 'name="csrf_token"' in page.text and "TODO" not in page.text
    nothing = browser.client.get("/providers", params={"q": "qqqqqqqqq"})
    assert "provider-list" not in nothing.text and 'role="status"' in nothing.text


def test_dutch_texts_on_the_search_page(browser):
    browser.register()
    browser.client.get("/language/nl")
    page = browser.client.get("/providers", params={"q": "apotheek"})
    assert "Zoek uw zorgverleners" in page.text and "Apotheek" in page.text


def test_admin_page_shows_the_lists_state_to_administrators_only(browser, lists_app, lists_settings,  # noqa: F811
                                                                  lists_db, stelselnode):  # noqa: F811
    account = browser.register()
    assert browser.client.get("/admin/lists").status_code == 403
    with lists_app.state.context.db.session() as session:
        session.execute(update(User).where(User.email == account.email).values(is_admin=True))
    page = browser.client.get("/admin/lists")
    assert page.status_code == 200
    for kind in ("ZAL", "OCL", "WHITELIST", "GNL", "DETAILS"):
        assert f'data-list="{kind}"' in page.text
    assert "last_error" not in page.text and 'class="failed"' not in page.text

    stelselnode.publisher.publish(ListKind.ZAL)
    stelselnode.publisher.faults.bad_signature.add(ListKind.ZAL)
    ListsClient(lists_settings, lists_db, transport=stelselnode.transport).refresh(["ZAL"])
    page = browser.client.get("/admin/lists")
    row = re.search(r'<tr data-list="ZAL" class="failed">(.*?)</tr>', page.text, re.S)
    assert row and "ListSignatureError" in row.group(1) and "<td>1</td>" in row.group(1)
