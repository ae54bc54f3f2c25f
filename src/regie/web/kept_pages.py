"""Serving a record page from this process's kept pages (regie.web.page_cache), or
rendering and keeping it (docs/decisions/0011).

Used by the category pages and the timeline, which show only the record (items, sources,
counts) and the request, and by the start page, which also shows the latest collections,
the upcoming appointments (to the minute) and the e-mail address: those are part of its key.

A kept page of one's own record is found before FastAPI's routing
(:class:`KeptPageMiddleware`, beside regie.web.item_read, through the same session load and
access decision); a visit it cannot answer goes on to the route, which looks again only when
the middleware did not (:func:`serve_kept`), renders, and keeps the page (:func:`keep`).
The routes say what a visit audits and what else their page depends on
(regie.web.pages.viewer.kept_routes).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from regie.ops.metrics import observe_record_page
from regie.record import Category
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.store.record import RecordRepository
from regie.store.types import utcnow
from regie.web.context import AppContext
from regie.web.early_answer import answer_early
from regie.web.guards import own_record_access
from regie.web.page_cache import PageCache
from regie.web.sessions import context_of, current_session, load_session
from regie.web.templating import DISPLAY_ZONE, language_of

_LOOKED_UP = "kept_page_looked_up"  # request state: (key, stamp) of a lookup that found nothing


def kept_pages(request: Request) -> PageCache:
    return context_of(request).record_pages


def page_key(request: Request) -> Hashable | None:
    """Everything a record page shows besides the record; None: not a page to keep.

    The session first (its CSRF token is in the page; :meth:`PageCache.forget_session`),
    whose record and who looks at it with which rights (the whole grant: regie.web.guards)
    and name for the owner, the language, the day (what still applies can change with it),
    the URL with its query, and whether htmx asked."""
    session = current_session(request)
    access = getattr(request.state, "access", None)
    if session is None or access is None or session.stage != "full":
        return None
    return (session.id, access.owner.id, access.actor.id, access.label, access.grant,
            language_of(request), utcnow().astimezone(DISPLAY_ZONE).date(),
            request.url.path, request.url.query, request.headers.get("hx-request") == "true")


def kept_response(body: bytes) -> Response:
    # What templating.render answers: the same headers for a kept page as for a fresh one.
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True, slots=True)
class Lookup:
    answer: Response | None  # the kept page, audited; None: render it
    key: Hashable | None  # where to keep what is rendered (None: not kept)
    stamp: int


def look_up(request: Request, repo: RecordRepository, audit: Callable[[tuple[str, ...]], None],
            also: Hashable = ()) -> Lookup:
    """Find the kept page. Reads the record's stamp first: whatever the page then reads of
    the record is at least as new. A kept page's items are audited as a fresh one's would be
    (``audit``). ``also``: what else this page shows that is not in the record."""
    cache = kept_pages(request)
    key = page_key(request) if cache.enabled else None
    if key is None:
        return Lookup(None, None, 0)
    key = (*key, also) if also != () else key
    stamp = repo.stamp()
    kept = cache.get(key, stamp)
    if kept is None:
        observe_record_page("rendered")
        return Lookup(None, key, stamp)
    observe_record_page("kept")
    audit(kept.shown)
    return Lookup(kept_response(kept.body), key, stamp)


def serve_kept(request: Request, repo: RecordRepository, audit: Callable[[tuple[str, ...]], None],
               also: Hashable = ()) -> Lookup:
    """For the route: :func:`look_up`, unless the middleware already looked for this page and
    found nothing; then its key and stamp (read before anything of this request's page:
    still the right stamp to keep the page under)."""
    earlier = getattr(request.state, _LOOKED_UP, None)
    if earlier is not None:
        expected = page_key(request)
        if expected is not None and also != ():
            expected = (*expected, also)
        if earlier[0] == expected:
            return Lookup(None, earlier[0], earlier[1])
    return look_up(request, repo, audit, also)


def keep(request: Request, found: Lookup, response: Response, shown: tuple[str, ...]) -> None:
    """Keep a page just rendered (a 200 answer) where ``found`` says, for its stamp."""
    if found.key is not None and response.status_code == 200:
        kept_pages(request).put(found.key, found.stamp, bytes(response.body), shown)


@dataclass(frozen=True, slots=True)
class KeptRoute:
    """A route whose kept pages :class:`KeptPageMiddleware` answers: how a visit is audited
    (the entries for the items shown) and what else the page shows besides the record
    (:func:`look_up`'s ``also``, from the request and the record's owner)."""

    route: BaseRoute
    audit_entries: Callable[[tuple[str, ...]], list[tuple[str, str]]]
    also: Callable[[Request, User], Hashable] | None = None


class KeptPageMiddleware:
    """Answers a signed-in visit of one's own start page, category page or timeline from the
    kept pages, before FastAPI's routing and parameter checks (a kept page's URL rendered
    once, so its parameters were valid). Everything else goes on to the app unchanged:
    another method or path, no session, a session acting for someone else, a refusal, an
    error, or no kept page (the route then uses this lookup, :func:`serve_kept`). The scope
    carries the route as FastAPI would set it, so request logs and metrics name the same
    route."""

    def __init__(self, app: ASGIApp, *, context: AppContext, start: KeptRoute, category: KeptRoute,
                 timeline: KeptRoute) -> None:
        self.app = app
        self.context = context
        self.start, self.category, self.timeline = start, category, timeline
        self.categories = frozenset(c.value for c in Category)
        self.category_path = re.compile(r"/record/([^/]+)")

    def _kept_route(self, path: str) -> tuple[KeptRoute, dict[str, str]] | None:
        if path == "/":
            return self.start, {}
        if path == "/timeline":
            return self.timeline, {}
        found = self.category_path.fullmatch(path)
        if found and found.group(1) in self.categories:
            return self.category, {"category": found.group(1)}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and self.context.record_pages.enabled:
            found = self._kept_route(scope["path"])
        if found is None or not await self._answer(scope, receive, send, *found):
            await self.app(scope, receive, send)

    def _find(self, request: Request, token: str, kept: KeptRoute) -> Response | None:
        """In a worker thread, on one autocommit connection: the session, the decision, the
        lookup (None: the route answers)."""
        with self.context.db.autocommit_engine.connect() as connection:
            load_session(self.context, token, request.scope.setdefault("state", {}), request.scope.get("app"),
                         connection)
            access = own_record_access(request)
            if access is None:
                return None
            owner = access.owner
            also = kept.also(request, owner) if kept.also is not None else ()
            service = RecordService(self.context.db, self.context.accounts.keyring)
            repo = service.open_on(self.context.record_keys.keys(service, owner), connection)
            found = look_up(request, repo, lambda shown: repo.audit_entries(owner.id, kept.audit_entries(shown), "web"),
                            also)
            if found.answer is None and found.key is not None:
                request.scope["state"][_LOOKED_UP] = (found.key, found.stamp)
            return found.answer

    async def _answer(self, scope: Scope, receive: Receive, send: Send, kept: KeptRoute,
                      params: dict[str, str]) -> bool:
        return await answer_early(self.context, scope, receive, send, kept.route, params,
                                  lambda request, token: self._find(request, token, kept), "the kept page lookup")
