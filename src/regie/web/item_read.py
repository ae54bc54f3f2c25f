"""The JSON API's most requested read, one record item, in one step (issue 9, docs/benchmarks.md).

``GET /api/v1/record/items/{item_id}`` for one's own record with a signed-in session is
most of the API's traffic. FastAPI spends more CPU on such a request (routing through the
included routers, solving the dependencies, a worker-thread hop for the session and one
for the handler) than the read itself. This ASGI layer sits just outside the session
middleware and answers that one common case itself, in a single worker-thread hop, through
the same functions the usual path uses:

- the session, its user and own grant: :func:`regie.web.sessions.load_session`, as the
  session middleware loads them (which then does not load them again);
- whose record and whether the person may: :func:`regie.web.guards.own_record_access`, the
  policy's own decision for a request it can decide from what the session load brought;
- the read and its audit entry: :func:`regie.web.api.record.read_item`, the route's own body,
  on the connection the session load used (one pool checkout, no ORM session);
- the answer: :func:`regie.web.api.record.item_response`, byte for byte the route's.

Everything else goes on to the app unchanged: another method, a query string, no session
cookie, an API token, a session acting for someone else, no such item (the route answers
the 404), a refusal, an error (the route and its error handlers answer; nothing was sent or
audited yet). The scope carries the route as FastAPI would set it, so request logs and
metrics name the same route.
"""
from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from regie.web.api import record as api_record
from regie.web.context import AppContext
from regie.web.early_answer import answer_early
from regie.web.guards import own_record_access
from regie.web.sessions import load_session


def item_route() -> BaseRoute:
    """The API route whose common case this layer answers (its path template and policy entry)."""
    return next(route for route in api_record.router.routes if getattr(route, "endpoint", None) is api_record.item)


class ItemReadMiddleware:
    def __init__(self, app: ASGIApp, *, context: AppContext) -> None:
        self.app = app
        self.context = context
        self.route = item_route()
        prefix, _, _ = self.route.path.partition("{item_id}")
        # Starlette's default path parameter: one or more characters, no slash.
        self.path = re.compile(re.escape(prefix) + r"([^/]+)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("query_string"):
            found = self.path.fullmatch(scope["path"])
        if found is None or not await self._answer(scope, receive, send, found.group(1)):
            await self.app(scope, receive, send)

    def _read(self, request: Request, token: str, item_id: str) -> bytes | None:
        """In the worker thread: the session, the decision, the read (None: the route decides),
        on one autocommit connection."""
        with self.context.db.autocommit_engine.connect() as connection:
            load_session(self.context, token, request.scope.setdefault("state", {}), request.scope.get("app"),
                         connection)
            access = own_record_access(request)
            return None if access is None else api_record.read_item(request, access.owner, item_id, connection)

    def _answer_for(self, request: Request, token: str, item_id: str) -> Response | None:
        body = self._read(request, token, item_id)
        return api_record.item_response(body) if body is not None else None

    async def _answer(self, scope: Scope, receive: Receive, send: Send, item_id: str) -> bool:
        """Answer the request; False (nothing sent) when the route should."""
        return await answer_early(self.context, scope, receive, send, self.route, {"item_id": item_id},
                                  lambda request, token: self._answer_for(request, token, item_id), "the item read")
