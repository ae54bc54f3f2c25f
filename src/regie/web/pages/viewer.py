"""The record viewer: overview, category pages, one item, timeline, trends, documents, search, audit.

Server-rendered, no script. Every page that shows record data writes audit entries
(channel ``web``), like the JSON API does. URLs are stable and bookmarkable.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute

from regie.record import Category
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.record import BadCursor, RecordRepository, decode_cursor
from regie.store.record_queries import STATUS_CATEGORIES, Filters, RecordQueries, is_current, is_withdrawn
from regie.store.types import utcnow
from regie.web.blocking import run_blocking
from regie.web.chart import Point, Series, moment_of, render_chart
from regie.web.guards import page_owner
from regie.web.delegating import AUDIT_ACTIONS as DELEGATION_AUDIT_ACTIONS
from regie.web.i18n import N_, translations
from regie.web.kept_pages import KeptRoute, keep, serve_kept
from regie.web.present import CATEGORY_NAMES, GLOSSARY, Presenter, item_url
from regie.web.sessions import context_of, current_session
from regie.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
PAGE_SIZE = 50
MENU = tuple([c for c in CATEGORY_NAMES if c not in (Category.PATIENT, Category.CARE_PROVIDERS, Category.OTHER)] + [
    Category.PATIENT, Category.CARE_PROVIDERS, Category.OTHER])
MEASURED = ("results", "vital_signs", "pregnancy_and_birth")

AUDIT_ACTIONS = {
    "overview": N_("opened the overview"), "list": N_("saw this item in a list"), "read": N_("opened this item"),
    "read_source": N_("opened the original data"), "read_document": N_("opened or downloaded the document"),
    "summary": N_("asked for the counts"), "import": N_("added this item"), "update": N_("changed this item"),
    "search": N_("searched the record"), "share-open": N_("opened through a share link"),
}
AUDIT_ACTIONS.update(DELEGATION_AUDIT_ACTIONS)
AUDIT_CHANNELS = {
    "web": N_("on the website"), "api-session": N_("through the API (logged in)"),
    "api-token": N_("through the API with a token"), "cli": N_("with the command line on the server"),
}


def presenter(request: Request) -> Presenter:
    language = language_of(request)
    return Presenter(language, translations(language).gettext)


@contextmanager
def open_record(request: Request, user: User, *,
                reading: bool = True) -> Iterator[tuple[RecordRepository, RecordQueries]]:
    """The user's record for a page. Pages read and leave audit entries: each statement
    commits on its own (no BEGIN/COMMIT round trips). Pass ``reading=False`` for work that
    must be all or nothing (saving something)."""
    context = context_of(request)
    service = RecordService(context.db, context.accounts.keyring)
    with service.open(context.record_keys.keys(service, user), reading=reading) as repo:
        yield repo, RecordQueries(repo)


def _page(request: Request, template: str, **values: Any) -> Response:
    p = presenter(request)
    return render(request, template, 200, p=p, menu=MENU, glossary=GLOSSARY, **values)


def _period(value: str | None) -> tuple[str | None, str | None]:
    """``2024`` or ``2024-06`` → (since, before) sort-key bounds; anything else: no bounds."""
    if not value:
        return None, None
    try:
        if len(value) == 4:
            year = int(value)
            return f"{year:04d}", f"{year + 1:04d}"
        if len(value) == 7 and value[4] == "-":
            year, month = int(value[:4]), int(value[5:])
            if 1 <= month <= 12:
                nxt = f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"
                return f"{year:04d}-{month:02d}", nxt
    except ValueError:
        pass
    return None, None


def _htmx(request: Request) -> bool:
    """A request htmx made to update part of a page (it still gets the whole page)."""
    return request.headers.get("hx-request") == "true"


def _link(path: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


# -- overview -------------------------------------------------------------------------
def overview(request: Request, user: User) -> Response:
    collected = _last_collections(request, user)
    now_key = _minute()
    session = current_session(request)
    also = start_page_also(request, user, collected, now_key)

    def audit_visit(repo: RecordRepository, shown: tuple[str, ...]) -> None:
        repo.audit_entries(user.id, start_page_audit(shown), "web")

    with open_record(request, user) as (repo, q):
        found = serve_kept(request, repo, lambda shown: audit_visit(repo, shown), also=also)
        if found.answer is not None:
            return found.answer
        # The last visit before this session: what is new stays marked for the whole visit.
        last = q.last_visit(user.id, before=session.created_at if session is not None else None)
        sources = q.sources(since=last)
        counts = q.counts_of(sources)  # the same counts as q.category_counts(), no second read
        sections = q.overview(now_key) if counts else {}
        shown = tuple(i["id"] for section in sections.values() for i in section)
        audit_visit(repo, shown)
    response = _page(request, "home.html", user=user, last_visit=last, sources=sources, counts=counts,
                     sections=sections, item_url=item_url, total=sum(counts.values()), collected=collected)
    keep(request, found, response, shown)
    return response


def _minute() -> str:
    # To the minute: the upcoming appointments, and so a kept start page, change with it.
    return utcnow().strftime("%Y-%m-%dT%H:%M")


def start_page_also(request: Request, user: User, collected: list[dict] | None = None,
                    now_key: str | None = None) -> Hashable:
    """What the start page shows besides the record and the request, for its key
    (regie.web.kept_pages): the minute, the latest collections, the e-mail address shown."""
    if collected is None:
        collected = _last_collections(request, user)
    access = getattr(request.state, "access", None)
    actor = access.actor if access is not None else user
    return (now_key or _minute(), tuple((c["id"], c["state"], c["when"]) for c in collected), actor.email)


def start_page_audit(shown: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("overview", "overview"), *(("list", item_id) for item_id in shown)]


def _list_audit(shown: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("list", item_id) for item_id in shown]


def _last_collections(request: Request, user: User) -> list[dict]:
    """Per care provider the latest finished collection: when, and whether it went well."""
    from regie.web.collecting import collections_of
    from regie.web.pages.collect import describe_collections, provider_names

    latest = collections_of(request.app).latest_finished(user, limit=100)
    for row in latest:
        row["when"] = datetime.fromisoformat(row["finished_at"] or row["created_at"])
    return describe_collections(latest, provider_names(request.app)) if latest else []


# -- a category -------------------------------------------------------------------------
@router.get("/record/{category}")
async def category_page(
    request: Request, category: str, user: CurrentUser,
    source: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    show: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    # One of the most visited pages: on Regie's own worker threads (regie.web.blocking).
    return await run_blocking(context_of(request), _category_page, request, category, user,
                              source, period, status, show, cursor)


def _category_page(request: Request, category: str, user: User, source: str | None, period: str | None,
                   status: str | None, show: str | None, cursor: str | None) -> Response:
    if category not in {c.value for c in Category}:
        raise HTTPException(404)
    since, before = _period(period)
    has_status = category in STATUS_CATEGORIES
    if status not in ("current", "past", "all"):
        status = "current" if has_status and category != "appointments" else "all"
    if not has_status:
        status = "all"
    letters_only = category == "documents" and show != "all"
    filters = Filters(category=category, source_id=source or None, since=since, before=before,
                      status=None if status == "all" else status,
                      resource_types=("DocumentReference",) if letters_only else ())
    with open_record(request, user) as (repo, q):
        found = serve_kept(request, repo, lambda shown: repo.audit(user.id, "list", shown, "web"))
        if found.answer is not None:
            return found.answer
        try:
            items, next_cursor = q.items(filters, limit=PAGE_SIZE, cursor=cursor)
        except BadCursor:
            raise HTTPException(400) from None
        sources = q.source_list()
        years = q.period_counts(Filters(category=category), 4)
        shown = tuple(i["id"] for i in items)
        repo.audit(user.id, "list", shown, "web")
    params = {"source": source, "period": period, "status": status if has_status else None,
              "show": show}
    response = _page(request, "record_category.html", category=category, items=items, sources=sources,
                     years=years, has_status=has_status, status=status, source=source, period=period,
                     letters_only=letters_only, show=show, item_url=item_url,
                     next_url=_link(f"/record/{category}", **params, cursor=next_cursor) if next_cursor else None,
                     # Not in a "load more" answer (htmx): the list it is added to starts at the newest.
                     first_url=_link(f"/record/{category}", **params) if cursor and not _htmx(request) else None)
    keep(request, found, response, shown)
    return response


# -- one item ---------------------------------------------------------------------------------
@router.get("/record/items/{item_id}")
def item_page(request: Request, item_id: str, user: CurrentUser) -> Response:
    return _item(request, item_id[:64], user, "record_item.html")


def _item(request: Request, item_id: str, user: User, template: str) -> Response:
    with open_record(request, user) as (repo, q):
        item = repo.detail(item_id)
        if item is None:
            raise HTTPException(404)
        related = q.related(item_id)
        has_file = item["resource_type"] in ("DocumentReference", "Binary") and q.document_file(item_id) is not None
        repo.audit(user.id, "read", [item_id], "web")
    return _page(request, template, item=item, related=related, has_file=has_file, item_url=item_url,
                 withdrawn=is_withdrawn(item))


@router.get("/record/items/{item_id}/original")
def original_page(request: Request, item_id: str, user: CurrentUser) -> Response:
    item_id = item_id[:64]
    with open_record(request, user) as (repo, _):
        raw = repo.original(item_id)
        if raw is None:
            raise HTTPException(404)
        detail = repo.detail(item_id)
        repo.audit(user.id, "read_source", [item_id], "web")
    data = orjson.loads(raw)
    shortened = False
    for key in ("data", "content"):
        if data.get("resourceType") == "Binary" and isinstance(data.get(key), str) and len(data[key]) > 200:
            data[key] = data[key][:80] + "…"
            shortened = True
    pretty = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    return _page(request, "record_original.html", item=detail, pretty=pretty, shortened=shortened,
                 item_url=item_url)


# -- documents ---------------------------------------------------------------------------------
@router.get("/documents/{item_id}")
def document_page(request: Request, item_id: str, user: CurrentUser) -> Response:
    return _item(request, item_id[:64], user, "document.html")


def _file(request: Request, item_id: str, user: User, disposition: str) -> Response:
    with open_record(request, user) as (repo, q):
        found = q.document_file(item_id[:64])
        if found is None:
            raise HTTPException(404)
        repo.audit(user.id, "read_document", [item_id[:64]], "web")
    content_type, payload, title = found
    if content_type != "application/pdf" and disposition == "inline" and not content_type.startswith("image/"):
        disposition = "attachment"
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "text/plain": "txt"}.get(
        content_type, "bin")
    safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title)[:80].strip() or "document"
    ascii_name = safe.encode("ascii", "replace").decode().replace("?", "_")
    return Response(payload, media_type=content_type, headers={
        "Content-Disposition": f'{disposition}; filename="{ascii_name}.{extension}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "no-store",
    })


@router.get("/documents/{item_id}/file")
def document_file(request: Request, item_id: str, user: CurrentUser) -> Response:
    return _file(request, item_id, user, "inline")


@router.get("/documents/{item_id}/download")
def document_download(request: Request, item_id: str, user: CurrentUser) -> Response:
    return _file(request, item_id, user, "attachment")


# -- timeline -----------------------------------------------------------------------------------
@router.get("/timeline")
def timeline(
    request: Request, user: CurrentUser,
    period: Annotated[str | None, Query(max_length=7)] = None,
    category: Annotated[str | None, Query(max_length=30)] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    if category and category not in {c.value for c in Category}:
        category = None
    since, before = _period(period)
    year = period[:4] if since else None
    base = Filters(category=category, source_id=source or None)
    filters = Filters(category=category, source_id=source or None, since=since, before=before)
    with open_record(request, user) as (repo, q):
        found = serve_kept(request, repo, lambda shown: repo.audit(user.id, "list", shown, "web"))
        if found.answer is not None:
            return found.answer
        try:
            items, next_cursor = q.items(filters, limit=100, cursor=cursor)
        except BadCursor:
            raise HTTPException(400) from None
        years = q.period_counts(base, 4)
        months = q.period_counts(Filters(category=category, source_id=source or None,
                                         since=year, before=_period(year)[1]), 7) if year else []
        sources = q.source_list()
        shown = tuple(i["id"] for i in items)
        repo.audit(user.id, "list", shown, "web")
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for item in items:
        key = (item.get("sort_date") or "")[:7] or "-"
        groups.setdefault(key, []).append(item)
    # The month the previous page ended in: "load more" continues it without a second heading.
    continued = ((decode_cursor(cursor, 2)[0] or "")[:7] or "-") if cursor else None
    params = {"period": period, "category": category, "source": source}
    response = _page(request, "timeline.html", groups=groups, years=years, months=months, period=period,
                     year=year, category=category, source=source, sources=sources, item_url=item_url,
                     continued=continued, shown=len(items),
                     next_url=_link("/timeline", **params, cursor=next_cursor) if next_cursor else None)
    keep(request, found, response, shown)
    return response


# -- trends ---------------------------------------------------------------------------------------
def _number_of(value: dict[str, Any] | None) -> Decimal | None:
    if not value or value.get("type") != "quantity" or value.get("value") is None:
        return None
    try:
        return Decimal(value["value"])
    except InvalidOperation:
        return None


def _measure(item: dict[str, Any], code: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """(value, the item-level range or None) of ``code`` in this item: itself or a component."""
    if any(c.get("code") == code for c in item.get("codes", ())) and _number_of(item.get("value")) is not None:
        return item["value"], (item.get("reference_ranges") or [None])[0]
    for component in item.get("components", ()):
        if any(c.get("code") == code for c in component.get("codes", ())) and _number_of(component.get("value")) is not None:
            return component["value"], None
    return None


def _code_titles(items: list[dict[str, Any]], p: Presenter) -> dict[str, str]:
    titles: dict[str, str] = {}
    for item in items:
        code = p.trend_code(item)
        if code and code not in titles:
            titles[code] = item.get("title") or code
        for component in item.get("components", ()):
            if _number_of(component.get("value")) is None:
                continue
            for coding in component.get("codes", ()):
                if coding.get("system") == "http://loinc.org" and coding.get("code") and coding["code"] not in titles:
                    titles[coding["code"]] = component.get("title") or coding["code"]
    return titles


@router.get("/results/{code}")
def trend(request: Request, code: str, user: CurrentUser,
          compare: Annotated[list[str] | None, Query(max_length=40)] = None) -> Response:
    code = code[:40]
    p = presenter(request)
    with open_record(request, user) as (repo, q):
        wanted = [code] + [c for c in (compare or [])[:3] if c and c != code]
        items, kinds = q.trend(wanted)  # only the rows of these codes, and every code's title
        titles = _code_titles(kinds, p)
        rows: list[dict[str, Any]] = []
        series: list[Series] = []
        ranges: dict[str, str] = {}  # series name -> its normal range in words
        for wanted_code in wanted:
            by_kind: dict[tuple[str, bool], Series] = {}
            for item in reversed(items):
                found = _measure(item, wanted_code)
                if found is None:
                    continue
                value, ref = found
                moment = moment_of(item.get("sort_date") or "")
                if moment is None:
                    continue
                mine = p.self_measured(item)
                is_main = value is item.get("value")
                flag = p.flag({"value": value, "reference_ranges": [ref] if ref else [],
                               "interpretation": item.get("interpretation", []) if is_main else []})
                unit = p.unit(value)
                key = (unit, mine)
                name = titles.get(wanted_code, wanted_code)
                s = by_kind.get(key)
                if s is None:
                    label = p.gettext(N_("{test}, measured yourself")).format(test=name) if mine else name
                    s = by_kind[key] = Series(label, unit)
                if ref:
                    ranges.setdefault(s.name, p.range_text([ref]))
                    low, high = ref.get("low") or {}, ref.get("high") or {}
                    s.low = _number_of({"type": "quantity", **low}) if low else s.low
                    s.high = _number_of({"type": "quantity", **high}) if high else s.high
                s.points.append(Point(moment, _number_of(value), out_of_range=bool(flag and flag[1] != "normal"),
                                      self_measured=mine, label=f"{p.date(item.get('date'))}: {p.quantity(value)}"))
                rows.append({"item": item, "test": name, "value": value, "range": p.range_text([ref] if ref else []),
                             "flag": flag, "mine": mine, "code": wanted_code})
            series.extend(by_kind.values())
        repo.audit(user.id, "list", [r["item"]["id"] for r in rows], "web")
    if not rows:
        raise HTTPException(404)
    rows.sort(key=lambda r: r["item"].get("sort_date") or "", reverse=True)
    title = " + ".join(titles.get(c, c) for c in wanted if any(r["code"] == c for r in rows))
    units = sorted({s.unit for s in series})
    chart = render_chart(
        series, title=title,
        description=p.gettext(N_("Values over time. The band is the normal range. Points outside the range have a ring; squares are values you measured yourself. The table below has every value.")),
        band_label=p.gettext(N_("normal range")), self_label=p.gettext(N_("measured yourself")),
        out_label=p.gettext(N_("outside the normal range")))
    others = sorted(((c, t) for c, t in titles.items() if c != code), key=lambda x: x[1].casefold())
    explanation = p.term({"system": "http://loinc.org", "code": code})
    return _page(request, "results_trend.html", code=code, title=title, chart=chart, rows=rows, series=series, ranges=ranges,
                 units=units, others=others, compare=wanted[1:], explanation=explanation, item_url=item_url,
                 too_many_units=len(units) > 2)


# -- search --------------------------------------------------------------------------------------------
@router.get("/search")
def search(request: Request, user: CurrentUser,
           q: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    text = (q or "").strip()
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    total = 0
    more = False
    if len(text) >= 2:
        with open_record(request, user) as (repo, queries):
            items, next_cursor = queries.items(Filters(q=text), limit=200)
            repo.audit(user.id, "search", ["search"], "web")
            repo.audit(user.id, "list", [i["id"] for i in items], "web")
        more = next_cursor is not None
        total = len(items)
        for key in MENU:
            found = [i for i in items if i["category"] == key]
            if found:
                groups[key] = found
    return _page(request, "search.html", q=text, groups=groups, total=total, more=more,
                 too_short=0 < len(text) < 2, item_url=item_url)


# -- audit -------------------------------------------------------------------------------------------------
@router.get("/audit")
def audit(request: Request, user: CurrentUser,
          cursor: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    with open_record(request, user) as (repo, _):
        try:
            raw, next_cursor = repo.audit_page(cursor, 500)
        except BadCursor:
            raise HTTPException(400) from None
    # One page view writes one entry per item shown: show those as one line with a count.
    entries: list[dict[str, Any]] = []
    for entry in raw:
        entry["at"] = datetime.fromisoformat(entry["at"])
        entry["is_item"] = len(entry["target"]) == 32 and entry["action"] not in ("overview", "summary", "search")
        last = entries[-1] if entries else None
        if (last is not None and (last["actor_id"], last["action"], last["channel"]) ==
                (entry["actor_id"], entry["action"], entry["channel"])
                and abs((last["at"] - entry["at"]).total_seconds()) < 2):
            last["count"] += 1
            continue
        entries.append({**entry, "count": 1})
    from regie.web.guards import actor_names  # delegates are named (docs/delegation.md)

    return _page(request, "audit.html", entries=entries, user=user, actions=AUDIT_ACTIONS, channels=AUDIT_CHANNELS,
                 actors=actor_names(request, {e["actor_id"] for e in entries}),
                 next_url=_link("/audit", cursor=next_cursor) if next_cursor else None)


def kept_routes(start_route: BaseRoute) -> dict[str, KeptRoute]:
    """The pages regie.web.kept_pages.KeptPageMiddleware answers when kept: how a visit is
    audited and what else each depends on. ``start_route``: the start page's (regie.web.pages.home)."""
    endpoints = {route.endpoint: route for route in router.routes if hasattr(route, "endpoint")}
    return {"start": KeptRoute(start_route, start_page_audit, start_page_also),
            "category": KeptRoute(endpoints[category_page], _list_audit),
            "timeline": KeptRoute(endpoints[timeline], _list_audit)}


__all__ = ["kept_routes", "overview", "router", "is_current"]
