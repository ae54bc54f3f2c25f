"""Record pages kept by the web process (regie.web.kept_pages, docs/decisions/0011), on both
databases: a second visit reads the change counter instead of the record and is audited
like the first; any change to the record, the language or the session shows a fresh page."""
from __future__ import annotations

import orjson
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, select

from regie.fhir import FhirVersion
from regie.store.ingest import RecordService
from regie.store.models import WebSession
from regie.store.record_models import AuditEntry
from regie.web.page_cache import PageCache
from tests.store.record_helpers import condition
from tests.web.helpers import Browser, get_counting_statements


def _import(browser: Browser, email: str, *numbers: int) -> str:
    context = browser.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": condition(n, active=True)} for n in numbers]}
    outcome = service.import_bytes(service.keys(user), orjson.dumps(bundle), name="huisarts.json",
                                   source="Huisarts", fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error
    return user.id


def _listed(browser: Browser, user_id: str) -> int:
    with browser.context.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.user_id == user_id, AuditEntry.action == "list"))


def _answered(outcome: str) -> float:
    return REGISTRY.get_sample_value("regie_record_pages_total", {"outcome": outcome}) or 0.0


def _visit(app, client, path: str) -> tuple[str, list[str]]:
    return get_counting_statements(app, client, path)


def test_a_category_page_is_kept_until_the_record_changes(app, client, browser: Browser) -> None:
    account = browser.register()
    user_id = _import(browser, account.email, 1, 2)
    first, rendered = _visit(app, client, "/record/problems")
    assert "Aandoening 1" in first and "Aandoening 2" in first
    listed = _listed(browser, user_id)
    kept_before = _answered("kept")

    again, statements = _visit(app, client, "/record/problems")
    assert again == first
    assert _answered("kept") == kept_before + 1  # /metrics: regie_record_pages_total{outcome="kept"}
    # The session with its user and managed-record row, the change counter, the audit entries.
    assert len(statements) <= 4 and len(statements) < len(rendered), "\n".join(statements)
    assert not any("record_resources" in s for s in statements), "\n".join(statements)
    assert _listed(browser, user_id) == listed + 2  # the items shown, audited again

    _import(browser, account.email, 3)
    changed, _ = _visit(app, client, "/record/problems")
    assert "Aandoening 3" in changed


def test_the_timeline_is_kept_too_and_each_url_on_its_own(app, client, browser: Browser) -> None:
    account = browser.register()
    _import(browser, account.email, 1, 2)
    whole, _ = _visit(app, client, "/timeline")
    year, _ = _visit(app, client, "/timeline?period=2011")
    assert "Aandoening 1" in whole and "Aandoening 2" in whole
    assert "Aandoening 1" in year and "Aandoening 2" not in year  # c-1 is from 2011, c-2 from 2012
    kept, statements = _visit(app, client, "/timeline")
    assert kept == whole and not any("record_resources" in s for s in statements), "\n".join(statements)


def test_another_language_or_session_gets_its_own_page(app, client, browser: Browser) -> None:
    account = browser.register()
    _import(browser, account.email, 1)
    dutch, _ = _visit(app, client, "/record/problems")
    client.get("/language/en?next=/")
    english, _ = _visit(app, client, "/record/problems")
    assert 'lang="en"' in english and 'lang="nl"' in dutch
    browser.logout()
    assert len(app.state.context.record_pages) == 0  # logging out drops that session's pages
    browser.login(account)
    fresh, _ = _visit(app, client, "/record/problems")
    token = 'name="csrf_token" value="'
    assert fresh.split(token)[1][:20] != english.split(token)[1][:20]  # the new session's own form token


def test_with_keeping_off_every_visit_reads_the_record(app, client, browser: Browser) -> None:
    app.state.context.record_pages = PageCache(0, 0)
    account = browser.register()
    _import(browser, account.email, 1)
    _visit(app, client, "/record/problems")
    _, statements = _visit(app, client, "/record/problems")
    assert any("record_resources" in s for s in statements)
    assert not any("record_stamps" in s for s in statements)


def test_a_kept_page_is_never_shown_to_an_ended_session(app, client, browser: Browser) -> None:
    """Ended in another web process (its logout, the idle limit): the kept page stays in
    this process's memory until it ages out, but the session check comes first."""
    account = browser.register()
    _import(browser, account.email, 1)
    _visit(app, client, "/record/problems")
    assert len(app.state.context.record_pages) == 1
    with browser.context.db.session() as session:
        session.execute(delete(WebSession))
    answer = client.get("/record/problems", follow_redirects=False)
    assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")
    assert "Aandoening 1" not in answer.text


def test_a_kept_visit_is_logged_and_measured_as_its_route(app, client, browser: Browser) -> None:
    account = browser.register()
    _import(browser, account.email, 1)
    _visit(app, client, "/record/problems")
    route = {"method": "GET", "route": "/record/{category}", "status": "200"}
    before = REGISTRY.get_sample_value("regie_http_request_duration_seconds_count", route) or 0.0
    kept_before = _answered("kept")
    _visit(app, client, "/record/problems")
    assert _answered("kept") == kept_before + 1
    assert REGISTRY.get_sample_value("regie_http_request_duration_seconds_count", route) == before + 1


def test_the_start_page_is_kept_and_marks_what_is_new_for_the_whole_visit(app, client, browser: Browser) -> None:
    """"New since your last visit" is since the last visit before this session: coming back to
    the start page during a visit keeps it, and a kept start page is the same page."""
    client.cookies.set("regie_lang", "en")
    account = browser.register()
    user_id = _import(browser, account.email, 1)
    first, _ = _visit(app, client, "/")
    assert "This is your first visit." in first
    again, statements = _visit(app, client, "/")
    assert again == first and not any("record_resources" in s for s in statements), "\n".join(statements)
    with browser.context.db.session() as session:  # the kept visit is audited as one
        overviews = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.user_id == user_id, AuditEntry.action == "overview"))
    assert overviews == 2

    browser.logout()
    browser.login(account)
    _import(browser, account.email, 2)  # new since that visit
    later, _ = _visit(app, client, "/")
    assert "Aandoening 2" in later and "1 new or changed item from Huisarts" in later
    assert "This is your first visit." not in later and "Your last visit:" in later
    still, _ = _visit(app, client, "/")  # back again in the same visit: the news stays
    assert still == later
