"""Share links over the web, on both databases: the patient makes a link, a recipient
without an account opens it (with the code), the patient sees the opening and revokes
the link, after which it shows nothing. Content is read from the record at view time."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from regie.sharelinks.selection import Selection
from regie.sharelinks.service import CODE_BLOCK_AFTER, CODE_PAUSE_AFTER, ShareLinks
from regie.store.record_models import AuditEntry
from regie.store.sharelinks_models import ShareLink
from regie.store.types import utcnow
from tests.sharelinks.record_data import (ALLERGY, MEDICINE, NAME, OLD_LAB, PROBLEM, RECENT_LAB, STOPPED,
                                          load_record, medication_bundle)
from tests.web.helpers import CSRF, Browser

URL = re.compile(r'id="share-url" type="text" value="([^"]+)"')
CODE = re.compile(r"data-share-code>(\d{6})<")
MEDICAL = (NAME, MEDICINE, STOPPED, ALLERGY, PROBLEM, RECENT_LAB, OLD_LAB)


def _owner(browser: Browser):
    account = browser.register()
    load_record(browser.context, account.email)
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, account.email)
    return account, user


def _make_link(browser: Browser, **fields: str) -> tuple[str, str | None, str]:
    data = {"cat_medication": "current", "cat_allergies": "all", "cat_results": "90d", "hours": "24",
            "patient_name": NAME, "label": "Dr. Jansen, internist", "with_code": "1", **fields}
    response = browser.post_form("/share-links", data, token_from="/share-links/new")
    assert response.status_code == 200, response.text
    url = URL.search(response.text).group(1)
    code = CODE.search(response.text)
    assert "<svg" in response.text  # the QR code
    link_id = re.search(r'href="/share-links/([0-9a-f]{32})"', response.text).group(1)
    return url, code.group(1) if code else None, link_id


def _path(url: str) -> str:
    return url[url.index("/s/"):]


def _stranger(app) -> TestClient:
    """Another browser, without an account or cookies."""
    return TestClient(app, base_url="http://localhost", raise_server_exceptions=False)


def _assert_private(response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in response.headers["x-robots-tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.text


def test_link_opened_with_code_counted_and_revoked(app, browser: Browser) -> None:
    _, owner = _owner(browser)
    url, code, link_id = _make_link(browser)
    assert url.startswith("http://localhost:8000/s/" + owner.id + ".") or "/s/" + owner.id + "." in url
    assert code is not None
    with browser.context.db.session() as session:
        row = session.scalar(select(ShareLink).where(ShareLink.user_id == owner.id))
    # Neither the secret nor the code is stored in plain text.
    secret = url.rsplit(".", 1)[1]
    assert row.token_hash != secret and secret.encode() not in row.details_encrypted
    assert code.encode() not in row.details_encrypted

    with _stranger(app) as doctor:
        first = doctor.get(_path(url))
        assert first.status_code == 200
        _assert_private(first)
        assert not any(text in first.text for text in MEDICAL)  # nothing before the code
        token = CSRF.search(first.text).group(1)
        wrong = doctor.post(_path(url), data={"code": "000000" if code != "000000" else "111111", "csrf_token": token})
        assert wrong.status_code == 401 and MEDICINE not in wrong.text
        right = doctor.post(_path(url), data={"code": code, "csrf_token": token}, follow_redirects=False)
        assert right.status_code == 303
        page = doctor.get(_path(url))
        assert page.status_code == 200
        _assert_private(page)
        text = page.text
        assert f"Gezondheidsgegevens van {NAME}" in text
        assert "Gedeeld door" in text and "9 apr 1961" in text
        assert MEDICINE in text and ALLERGY in text and RECENT_LAB in text
        # Not chosen: the stopped medicine, the problem, the lab result older than 90 days.
        assert STOPPED not in text and PROBLEM not in text and OLD_LAB not in text
        assert "/record/items/" not in text  # no links into the owner's pages

    detail = browser.client.get(f"/share-links/{link_id}")
    assert 'data-open-count="1"' in detail.text and 'data-link-state="active"' in detail.text
    assert "Verkeerde codes" in detail.text
    with browser.context.db.session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.user_id == owner.id,
                                                         AuditEntry.actor_id == link_id)).all()
    assert {a.action for a in audit} == {"share-open", "list"}
    assert len([a for a in audit if a.action == "list"]) == 3  # the three items shown
    listed = ShareLinks(browser.context.settings, browser.context.db, browser.context.accounts.keyring).list_for(owner)
    assert [len(link.opens) for link in listed] == [1] and listed[0].has_code  # the export takes these along

    revoked = browser.post_form(f"/share-links/{link_id}/revoke", {}, token_from=f"/share-links/{link_id}")
    assert revoked.status_code == 303
    assert 'data-link-state="revoked"' in browser.client.get(f"/share-links/{link_id}").text
    with _stranger(app) as doctor:
        gone = doctor.get(_path(url))
        assert gone.status_code == 410
        assert "Deze link werkt niet meer" in gone.text
        assert not any(text in gone.text for text in MEDICAL)
    listing = browser.client.get("/share-links")
    assert "Dr. Jansen, internist" in listing.text and "gestopt" in listing.text


def test_an_unlocked_session_loses_access_when_the_link_is_revoked(app, browser: Browser) -> None:
    _owner(browser)
    url, code, link_id = _make_link(browser)
    with _stranger(app) as doctor:
        token = CSRF.search(doctor.get(_path(url)).text).group(1)
        doctor.post(_path(url), data={"code": code, "csrf_token": token})
        assert MEDICINE in doctor.get(_path(url)).text
        browser.post_form(f"/share-links/{link_id}/revoke", {}, token_from=f"/share-links/{link_id}")
        again = doctor.get(_path(url))
        assert again.status_code == 410 and MEDICINE not in again.text


def test_content_is_read_from_the_record_when_opened(app, browser: Browser) -> None:
    account, _ = _owner(browser)
    url, _, _ = _make_link(browser, with_code="", cat_results="", cat_allergies="")
    extra = medication_bundle("m3", "Nieuw middel 5mg")
    with _stranger(app) as doctor:
        before = doctor.get(_path(url))
        assert before.status_code == 200 and MEDICINE in before.text  # no code: opens at once
        load_record(browser.context, account.email, extra, name="apotheek.json")
        after = doctor.get(_path(url))
        assert "Nieuw middel 5mg" in after.text


def test_single_items_and_another_users_items(app, browser: Browser) -> None:
    _owner(browser)
    items = browser.client.get("/api/v1/record/items", params={"category": "problems"}).json()["items"]
    problem_id = items[0]["id"]
    form = browser.client.get(f"/share-links/new?item={problem_id}")
    assert f'value="{problem_id}" checked' in form.text
    url, _, _ = _make_link(browser, with_code="", cat_medication="", cat_allergies="", cat_results="",
                           item=problem_id)
    with _stranger(app) as doctor:
        page = doctor.get(_path(url))
    assert PROBLEM in page.text and MEDICINE not in page.text
    # Someone else cannot share the first user's item by its id: the record is scoped.
    browser.logout()
    browser.register()
    response = browser.post_form("/share-links", {"item": problem_id, "hours": "24", "patient_name": "X"},
                                 token_from="/share-links/new")
    assert response.status_code == 200
    with _stranger(app) as doctor:
        other = doctor.get(_path(URL.search(response.text).group(1)))
    assert PROBLEM not in other.text
    assert "Gekozen gegevens" in other.text and "Niets gevonden." in other.text


def test_form_errors(browser: Browser) -> None:
    _owner(browser)
    nothing = browser.post_form("/share-links", {"hours": "24", "patient_name": NAME}, token_from="/share-links/new")
    assert nothing.status_code == 422 and "Kies ten minste één ding om te delen." in nothing.text
    bad = browser.post_form("/share-links", {"cat_medication": "current", "hours": "9999", "patient_name": ""},
                            token_from="/share-links/new")
    assert bad.status_code == 422
    assert "Kies hoe lang de link werkt." in bad.text and "Vul uw naam in" in bad.text
    odd = browser.post_form("/share-links", {"cat_medication": "forever", "hours": "24", "patient_name": NAME},
                            token_from="/share-links/new")
    assert odd.status_code == 422
    assert browser.client.get("/share-links").text.count("/share-links/") <= 1  # nothing was made


def test_unknown_and_malformed_tokens(app, browser: Browser) -> None:
    _, owner = _owner(browser)
    url, _, _ = _make_link(browser)
    secret = url.rsplit(".", 1)[1]
    with _stranger(app) as doctor:
        for path in (f"/s/{owner.id}.{'A' * 43}", f"/s/{'0' * 32}.{secret}", "/s/nonsense", f"/s/{secret}"):
            response = doctor.get(path)
            assert response.status_code == 404, path
            _assert_private(response)


def test_wrong_codes_pause_then_block_the_link(browser: Browser) -> None:
    account, owner = _owner(browser)
    service = ShareLinks(browser.context.settings, browser.context.db, browser.context.accounts.keyring)
    created = service.create(owner, actor_id=owner.id, selection=Selection({"medication": "current"}), hours=24,
                             label="", patient_name=NAME)
    wrong = "000000" if created.code != "000000" else "111111"
    now = utcnow()
    for attempt in range(1, CODE_PAUSE_AFTER):
        assert service.check_code(created.token, wrong, "10.0.0.1", now=now).outcome == "wrong", attempt
    paused = service.check_code(created.token, wrong, "10.0.0.1", now=now)
    assert paused.outcome == "locked" and paused.retry_at > now
    # While paused even the right code is not checked.
    assert service.check_code(created.token, created.code, "10.0.0.2", now=now).outcome == "locked"
    later = now + timedelta(minutes=browser.context.settings.lock_minutes + 1)
    assert service.check_code(created.token, created.code, "10.0.0.2", now=later).outcome == "ok"
    for _ in range(CODE_BLOCK_AFTER - CODE_PAUSE_AFTER - 1):
        assert service.check_code(created.token, wrong, "10.0.0.3", now=later).outcome == "wrong"
    assert service.check_code(created.token, wrong, "10.0.0.3", now=later).outcome == "gone"
    assert service.check_code(created.token, created.code, "10.0.0.3", now=later).outcome == "gone"
    assert service.view(created.token, unlocked=True).state == "gone"
    summary = service.get(owner, created.link_id)
    assert summary.state == "blocked" and summary.failed_codes == CODE_BLOCK_AFTER and summary.code is None


def test_expired_link_shows_nothing(browser: Browser) -> None:
    _, owner = _owner(browser)
    service = ShareLinks(browser.context.settings, browser.context.db, browser.context.accounts.keyring)
    created = service.create(owner, actor_id=owner.id, selection=Selection({"medication": "all"}), hours=1,
                             label="", patient_name=NAME, with_code=False, now=utcnow() - timedelta(hours=2))
    assert service.view(created.token, unlocked=False).state == "gone"
    assert service.get(owner, created.link_id).state == "expired"
    fresh = service.create(owner, actor_id=owner.id, selection=Selection({"medication": "all"}), hours=1,
                           label="", patient_name=NAME, with_code=False)
    view = service.view(fresh.token, unlocked=False)
    assert view.state == "ok" and {i["title"] for s in view.sections for i in s.items} == {MEDICINE, STOPPED}
    assert service.view(fresh.token, unlocked=False, now=utcnow() + timedelta(hours=1, seconds=1)).state == "gone"


@pytest.mark.parametrize("period,expected", [("90d", {RECENT_LAB}), ("365d", {RECENT_LAB}),
                                             ("all", {RECENT_LAB, OLD_LAB})])
def test_periods(browser: Browser, period: str, expected: set[str]) -> None:
    _, owner = _owner(browser)
    service = ShareLinks(browser.context.settings, browser.context.db, browser.context.accounts.keyring)
    created = service.create(owner, actor_id=owner.id, selection=Selection({"results": period}), hours=1,
                             label="", patient_name=NAME, with_code=False)
    view = service.view(created.token, unlocked=False)
    assert {i["title"] for s in view.sections for i in s.items} == expected
