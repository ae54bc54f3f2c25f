"""The one-step item read (regie.web.item_read): it answers the common case exactly as the
route would, and leaves every other case to the route."""
from __future__ import annotations

import logging

from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from regie.accounts import tokens
from regie.accounts.activity import ClientInfo
from regie.web.api import record as api_record
from regie.web.item_read import ItemReadMiddleware
from tests.web.helpers import Browser
from tests.web.test_record_api import PROBLEM, _seed

ITEM_ROUTE = "/api/v1/record/items/{item_id}"


class _RouteCalls:
    """Counts the requests the layer passes on to the app (FastAPI's routing)."""

    def __init__(self, app) -> None:
        layer = app.middleware_stack
        while not isinstance(layer, ItemReadMiddleware):
            layer = layer.app
        self.inner, self.paths = layer.app, []

        async def counting(scope, receive, send) -> None:
            self.paths.append(scope["path"])
            await self.inner(scope, receive, send)

        layer.app = counting


def _first_item(browser: Browser) -> str:
    return browser.client.get("/api/v1/record/items", params={"category": "vital_signs"}).json()["items"][0]["id"]


def _reads(browser: Browser) -> list[tuple[str, str, str]]:
    entries = browser.client.get("/api/v1/audit", params={"limit": 200}).json()["entries"]
    return [(e["action"], e["target"], e["channel"]) for e in entries if e["action"] == "read"]


def test_answers_an_own_item_read_byte_for_byte_as_the_route(browser: Browser, app) -> None:
    account = browser.register()
    _seed(browser, account.email, count=2)
    item_id = _first_item(browser)
    calls = _RouteCalls(app)
    fast = browser.client.get(f"/api/v1/record/items/{item_id}")
    assert calls.paths == []  # answered without FastAPI's routing
    # A query string always goes on to the route (which ignores this one): the reference answer.
    routed = browser.client.get(f"/api/v1/record/items/{item_id}", params={"via": "route"})
    assert calls.paths == [f"/api/v1/record/items/{item_id}"]
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content and fast.json()["id"] == item_id
    for header in ("content-type", "content-length", "cache-control", "content-security-policy", "x-frame-options"):
        assert fast.headers[header] == routed.headers[header], header
    assert "x-request-id" in fast.headers
    # Each read left its audit entry, the same one.
    assert _reads(browser) == [("read", item_id, "api-session")] * 2


def test_leaves_every_other_case_to_the_route(browser: Browser, app) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    item_id = _first_item(browser)
    calls = _RouteCalls(app)
    client = browser.client
    missing = client.get("/api/v1/record/items/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert client.head(f"/api/v1/record/items/{item_id}").status_code == 405
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, account.email)
        issued = tokens.create(session, user.id, "script", ClientInfo())
    client.cookies.clear()
    with_token = client.get(f"/api/v1/record/items/{item_id}", headers={"Authorization": f"Bearer {issued.token}"})
    assert with_token.status_code == 200 and with_token.json()["id"] == item_id
    unauthenticated = client.get(f"/api/v1/record/items/{item_id}")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["content-type"] == PROBLEM
    assert len(calls.paths) == 4  # all four answered by the route
    # Only the token's read is audited (a 404 and a refusal read nothing).
    reads = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {issued.token}"}).json()["entries"]
    assert [(e["action"], e["channel"]) for e in reads if e["action"] == "read"] == [("read", "api-token")]


def test_an_error_goes_to_the_route_and_its_handlers(browser: Browser, app, monkeypatch) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    item_id = _first_item(browser)
    calls = _RouteCalls(app)

    def database_gone(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(api_record, "read_item", database_gone)
    answer = browser.client.get(f"/api/v1/record/items/{item_id}")
    assert calls.paths == [f"/api/v1/record/items/{item_id}"]
    assert answer.status_code == 503  # the app's "try again" answer, not a bare 500


def test_its_requests_are_logged_and_measured_under_the_route(browser: Browser, app, caplog) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    item_id = _first_item(browser)
    labels = {"method": "GET", "route": ITEM_ROUTE, "status": "200"}
    before = REGISTRY.get_sample_value("regie_http_request_duration_seconds_count", labels) or 0
    with caplog.at_level(logging.INFO, logger="regie.web.request"):
        assert browser.client.get(f"/api/v1/record/items/{item_id}").status_code == 200
    routes = [getattr(r, "route", None) for r in caplog.records if r.name == "regie.web.request"]
    assert routes == [ITEM_ROUTE]
    assert item_id not in caplog.text
    assert REGISTRY.get_sample_value("regie_http_request_duration_seconds_count", labels) == before + 1


def test_the_session_is_loaded_once_whichever_answers(browser: Browser, app) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    item_id = _first_item(browser)
    loads: list[str] = []

    def listen(conn, cursor, sql, params, ctx, many) -> None:
        if sql.lstrip().startswith("SELECT web_sessions."):
            loads.append(sql)

    for engine in browser.context.db.engines:
        event.listen(engine, "before_cursor_execute", listen)
    try:
        for path, status in ((f"/api/v1/record/items/{item_id}", 200),  # this layer
                             ("/api/v1/record/items/0123456789abcdef0123456789abcdef", 404),  # the route
                             (f"/api/v1/record/items/{item_id}?via=route", 200)):  # the route, not tried here
            loads.clear()
            assert browser.client.get(path).status_code == status, path
            assert len(loads) == 1, path
    finally:
        for engine in browser.context.db.engines:
            event.remove(engine, "before_cursor_execute", listen)
