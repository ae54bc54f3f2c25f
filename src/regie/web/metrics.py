"""``/metrics`` for Prometheus, not for the public (docs/deploy.md).

Allowed: a loopback client whose request came without a proxy header (a scraper on the
same machine), or any client with ``Authorization: Bearer <REGIE_METRICS_TOKEN>``. Anything
else gets 404, as if there were nothing here. The reverse-proxy example also refuses the
path, so a proxy that does not send X-Forwarded-For still cannot expose it.
"""
from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.web.sessions import context_of

router = APIRouter(include_in_schema=False)
_PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")


def metrics_allowed(request: Request, token: str | None) -> bool:
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    context = context_of(request)
    token = context.settings.metrics_token.get_secret_value() if context.settings.metrics_token else None
    if not metrics_allowed(request, token):
        return Response(status_code=404)
    from regie.ops.metrics import CONTENT_TYPE, exposition

    body = await run_in_threadpool(exposition, context.settings, context.db)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
