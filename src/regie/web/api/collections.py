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
from regie.web.collecting import collections_of, directory_of, explain
from regie.web.guards import api_user
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
async def start_collection(request: Request, user: Annotated[User, Depends(api_user)],
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
        cid = collections.create(user.id, endpoints, channel=channel_of(request), long_lived=body.long_lived)
        return cid, collections.authorize(user.id, cid, endpoints)

    cid, url = await run_in_threadpool(work)
    return _json({"id": cid, "authorization_url": url, "state": "pending"}, 201)


@router.get("/collections")
async def list_collections(request: Request, user: Annotated[User, Depends(api_user)]) -> Response:
    rows = await run_in_threadpool(collections_of(request.app).history, user.id)
    return _json({"collections": [explain(r) for r in rows]})


@router.get("/collections/{collection_id}")
async def get_collection(request: Request, collection_id: str, user: Annotated[User, Depends(api_user)]) -> Response:
    view = await run_in_threadpool(collections_of(request.app).get, user.id, collection_id)
    if view is None:
        raise Problem(404, "not-found", "There is no collection with this id.")
    return _json(explain(view))
