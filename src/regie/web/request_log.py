"""Request logging and request metrics as pure ASGI middleware.

One log record per request: method, the **route template** (``/record/items/{item_id}``,
never the path with its ids, never the query string), status, duration and a request id.
The id comes from the reverse proxy's ``X-Request-ID`` when it looks like one, else it is
made here; it is sent back in ``X-Request-ID`` and attached to every log record written
while the request runs (``regie.ops.logs.request_id_var``), so one request's lines can be
found together. The same route template labels the latency histogram on ``/metrics``.
"""
from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regie.ops.logs import request_id_var

log = logging.getLogger("regie.web.request")
_GOOD_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")


def route_template(scope: Scope) -> str:
    """The matched route's path template; ``unmatched`` for a 404 outside any route."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "unmatched"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope.get("headers", []) if name == b"x-request-id"), None)
        request_id = incoming.decode() if incoming and _GOOD_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            try:
                from regie.ops.metrics import observe_request

                observe_request(method, route, status, seconds)
            except Exception:  # metrics never break a request
                pass
            log.log(logging.WARNING if status >= 500 else logging.INFO, "request", extra={
                "method": method, "route": route, "status": status,
                "ms": round(seconds * 1000, 1),
            })
            request_id_var.reset(token)
