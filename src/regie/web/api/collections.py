"""Collections over JSON: start one (the answer holds the authorization URL to open),
follow it, read its receipt. See docs/collect.md and docs/api.md."""
from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.collect.service import CollectError, provider_endpoints
from regie.store.models import User
from regie.web.api.record import channel_of
from regie.web.collecting import collections_of, directory_of, explain, request_language
from regie.web.guards import api_owner  # the record's owner (regie.access)
from regie.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["collections"])


class NewCollection(BaseModel):
    provider: str = Field(min_length=3, max_length=120, description="Zorgaanbiedernaam, with or without @medmij")
    services: list[Annotated[str, Field(min_length=1, max_length=20)]] | None = Field(
        default=None, max_length=50, description="GegevensdienstIds; leave out for every service")
    long_lived: bool = Field(default=False, description="ask for long-lived consent (a refresh token)")


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.post("/collections", status_code=201)
async def start_collection(request: Request, user: Annotated[User, Depends(api_owner)],
                           body: Annotated[NewCollection, Body()]) -> Response:
    app = request.app
    collections = collections_of(app)

    def work() -> tuple[str, str]:
        try:
            endpoints = provider_endpoints(directory_of(app), body.provider, body.services)
        except CollectError as exc:
            field = "provider" if exc.code == "unknown-provider" else "services"
            raise Problem(422, "validation-error", "Some fields are missing or wrong.",
                          errors=[{"field": field, "message": str(exc), "code": exc.code}]) from exc
        cid = collections.create(user.id, endpoints, channel=channel_of(request), long_lived=body.long_lived,
                                 language=request_language(request))
        return cid, collections.authorize(user.id, cid, endpoints)

    cid, url = await run_in_threadpool(work)
    return _json({"id": cid, "authorization_url": url, "state": "pending"}, 201)


@router.get("/collections")
async def list_collections(request: Request, user: Annotated[User, Depends(api_owner)]) -> Response:
    rows = await run_in_threadpool(collections_of(request.app).history, user.id)
    return _json({"collections": [explain(r) for r in rows]})


@router.get("/collections/{collection_id}")
async def get_collection(request: Request, collection_id: str, user: Annotated[User, Depends(api_owner)]) -> Response:
    view = await run_in_threadpool(collections_of(request.app).get, user.id, collection_id)
    if view is None:
        raise Problem(404, "not-found", "There is no collection with this id.")
    return _json(explain(view))


# --- long-lived consents (docs/collect.md, "Staying up to date") ----------------------
class ConsentChoice(BaseModel):
    schedule_days: int = Field(description="re-collect every this many days: 1, 7, 14 or 30; 0 = never")
    email_new_data: bool = Field(default=True, description="e-mail the patient that there is new data")


def _consent_json(c: dict[str, Any]) -> dict[str, Any]:
    def moment(value):
        return value.isoformat() if value is not None else None

    return {"id": c["id"], "provider": c["provider"], "scope": c["scope"].split(),
            "schedule_days": c["schedule_days"], "email_new_data": c["email_new_data"],
            "next_run_at": moment(c["next_run_at"]), "last_run_at": moment(c["last_run_at"]),
            "created_at": moment(c["created_at"])}


@router.get("/consents")
async def list_consents(request: Request, user: Annotated[User, Depends(api_owner)]) -> Response:
    """Lasting permissions (refresh tokens are never shown)."""
    rows = await run_in_threadpool(collections_of(request.app).consents, user.id)
    return _json({"consents": [_consent_json(c) for c in rows]})


@router.put("/consents/{consent_id}")
async def choose_schedule(request: Request, consent_id: str, user: Annotated[User, Depends(api_owner)],
                          body: Annotated[ConsentChoice, Body()]) -> Response:
    from regie.store.collect_models import SCHEDULE_DAYS

    if body.schedule_days not in SCHEDULE_DAYS:
        raise Problem(422, "validation-error", "Some fields are missing or wrong.", errors=[{
            "field": "schedule_days", "message": f"one of {list(SCHEDULE_DAYS)} (never more than daily)",
            "code": "schedule"}])
    collections = collections_of(request.app)
    done = await run_in_threadpool(collections.set_schedule, user.id, consent_id, body.schedule_days,
                                   body.email_new_data, language=request_language(request))
    if not done:
        raise Problem(404, "not-found", "There is no lasting permission with this id.")
    rows = await run_in_threadpool(collections.consents, user.id)
    return _json(_consent_json(next(c for c in rows if c["id"] == consent_id)))


@router.delete("/consents/{consent_id}", status_code=204)
async def stop_consent(request: Request, consent_id: str, user: Annotated[User, Depends(api_owner)]) -> Response:
    done = await run_in_threadpool(collections_of(request.app).revoke_consent, user.id, consent_id)
    if not done:
        raise Problem(404, "not-found", "There is no lasting permission with this id.")
    return Response(status_code=204)
