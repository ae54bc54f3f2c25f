"""Health for load balancers and monitors.

``/healthz`` (liveness): 200 when the database answers, else 503; a process that answers
503 here needs the database back, not a restart.
``/readyz`` (readiness): 200 only when this process should get traffic: the database
answers, its schema is at this code's migration, the MedMij lists are known (held, or
not configured), and the job queue can be read. Each check is named in the body.
"""
from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from regie.web.blocking import run_blocking
from regie.web.sessions import context_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    context = context_of(request)
    ok = await run_blocking(context, context.db.ping)
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return _json(body, 200 if ok else 503)


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    context = context_of(request)
    checks = await run_blocking(context, readiness, context)
    ready = all(value in ("ok", "not-configured") for value in checks.values())
    return _json({"status": "ready" if ready else "not-ready", **checks}, 200 if ready else 503)


def readiness(context) -> dict[str, str]:
    from regie.jobs.queue import JobQueue
    from regie.medmij.lists_client import DETAILS, ListsClient
    from regie.store.migrate import SchemaState, schema_state

    if not context.db.ping():
        return {"database": "unreachable", "migrations": "unknown", "lists": "unknown", "jobs": "unknown"}
    checks = {"database": "ok"}
    try:
        state = schema_state(context.db.engine)
        checks["migrations"] = "ok" if state is SchemaState.CURRENT else state.value
    except Exception:
        checks["migrations"] = "unknown"
    try:
        client = ListsClient(context.settings, context.db)
        if not client.configured:
            checks["lists"] = "not-configured"
        else:
            missing = [s.kind for s in client.status()
                       if s.kind != DETAILS and s.url is not None and s.fetched_at is None]
            checks["lists"] = "ok" if not missing else "missing"
    except Exception:
        checks["lists"] = "unknown"
    checks["jobs"] = "ok" if JobQueue(context.db).ping() else "unreachable"
    return checks


def _json(body: dict, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
