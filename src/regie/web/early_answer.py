"""Answering a common request before FastAPI's routing, through the same functions its
route uses (regie.web.item_read for the JSON item read, regie.web.kept_pages for kept
record pages; docs/benchmarks.md, Load).

The scope carries the route as FastAPI would set it while the answer is looked for, so
request logs and metrics name the same route. When there is no answer (None) or looking
fails, nothing was sent: the scope is as it came and the route answers (its error
handlers log a failure).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from regie.web.blocking import run_blocking
from regie.web.context import AppContext
from regie.web.sessions import session_token

log = logging.getLogger("regie.web")


async def answer_early(context: AppContext, scope: Scope, receive: Receive, send: Send, route: BaseRoute,
                       params: dict[str, str], find: Callable[[Request, str], Response | None], what: str) -> bool:
    """Run ``find(request, session token)`` on a worker thread and send its answer; False
    (nothing sent) without a session cookie, without an answer, or when it failed."""
    token = session_token(scope)
    if token is None:
        return False
    scope["route"], scope["path_params"] = route, params
    request = Request(scope, receive)
    try:
        answer = await run_blocking(context, find, request, token)
    except Exception as exc:  # the route runs it again and its error handlers answer (and log)
        # Only the kind of error: a database error's text holds its statement's parameters.
        log.debug("%s went on to the route after %s", what, type(exc).__name__)
        answer = None
    if answer is None:
        del scope["route"], scope["path_params"]
        return False
    await answer(scope, receive, send)
    return True
