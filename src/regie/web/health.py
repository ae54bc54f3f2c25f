"""Liveness for load balancers and monitors: 200 when the database answers, else 503."""
from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.web.sessions import context_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    ok = await run_in_threadpool(context_of(request).db.ping)
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return Response(orjson.dumps(body), status_code=200 if ok else 503, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
