"""The health record over JSON: summary, paged items, one item, its original FHIR, the audit trail.

Responses are built with orjson and returned as bytes: FHIR and record items never
pass through FastAPI's encoder. Every read of record data writes an audit entry.
Another user's item id answers 404, exactly like an unknown id.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from regie.record import Category, FhirDate
from regie.store.models import User
from regie.store.record import BadCursor, RecordRepository
from regie.store.ingest import RecordService
from regie.web.guards import api_owner  # the record's owner (regie.access)
from regie.web.problems import Problem
from regie.web.sessions import context_of

router = APIRouter(prefix="/api/v1", tags=["record"])

_JSON = "application/json"
_FHIR_JSON = "application/fhir+json"
_NOT_FOUND = "There is no record item with this id."


def channel_of(request: Request) -> str:
    """Audit channel of an API request (set by ``api_user``)."""
    return "api-token" if getattr(request.state, "auth_channel", "") == "token" else "api-session"


@contextmanager
def record_of(request: Request, user: User) -> Iterator[RecordRepository]:
    context = context_of(request)
    service = RecordService(context.db, context.accounts.keyring)
    # Every route here reads, then writes one audit statement: autocommit (no BEGIN/COMMIT).
    with service.open(context.record_keys.keys(service, user), reading=True) as repo:
        yield repo


def _json(body: Any, media_type: str = _JSON) -> Response:
    return Response(content=orjson.dumps(body), media_type=media_type, headers={"Cache-Control": "no-store"})


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "validation-error", "Some fields are missing or wrong.",
                   errors=[{"field": field, "message": message, "code": "value_error"}])


def since_key(since: str | None) -> str | None:
    """The sort key for a ``since`` date; 422 when it is not a FHIR date."""
    if since is None:
        return None
    parsed = FhirDate.parse(since.strip())
    if parsed is None:
        raise _invalid("since", "Use a date such as 2024-01-31 (or 2024-01, 2024, or a date and time with a zone).")
    return parsed.sort_key


@router.get("/record/summary", responses={200: {"content": {_JSON: {}}}})
def summary(request: Request, user: Annotated[User, Depends(api_owner)]) -> Response:
    """Counts of distinct stored resources: total, per resource type, per category and per source."""
    with record_of(request, user) as repo:
        body = repo.summary()
        repo.audit(user.id, "summary", ["summary"], channel_of(request))
    return _json(body)


@router.get("/record/items", responses={200: {"content": {_JSON: {}}}, 422: {"description": "Bad parameter"}})
def items(
    request: Request,
    user: Annotated[User, Depends(api_owner)],
    category: Annotated[Category | None, Query(description="Only this category.")] = None,
    since: Annotated[str | None, Query(max_length=40, description="Only items dated on or after this date.")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text search in the items.")] = None,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Record items, newest first; the same thing from several sources is one item (see ``sources``)."""
    key = since_key(since)
    with record_of(request, user) as repo:
        try:
            page, next_cursor = repo.page(category=category.value if category else None, since=key, q=q,
                                          cursor=cursor, limit=limit)
        except BadCursor as exc:
            raise _invalid("cursor", str(exc)) from exc
        repo.audit(user.id, "list", [item["id"] for item in page], channel_of(request))
    return _json({"items": page, "next_cursor": next_cursor})


@router.get("/record/items/{item_id}", responses={200: {"content": {_JSON: {}}}, 404: {"description": "No such item"}})
def item(request: Request, item_id: str, user: Annotated[User, Depends(api_owner)]) -> Response:
    """One record item with its provenance, resolved links and the other members of its group."""
    body = read_item(request, user, item_id)
    if body is None:
        raise Problem(404, "not-found", _NOT_FOUND)
    return item_response(body)


def read_item(request: Request, user: User, item_id: str, connection: Connection | None = None) -> bytes | None:
    """The item as JSON bytes, its read written to the audit trail; None when the record
    holds no such item (nothing is audited then). Shared with :mod:`regie.web.item_read`,
    which passes the autocommit connection its session load used."""
    if connection is None:
        with context_of(request).db.autocommit_engine.connect() as own:
            return read_item(request, user, item_id, own)
    context = context_of(request)
    service = RecordService(context.db, context.accounts.keyring)
    # Driver-SQL reads and one audit statement: no ORM session (regie.store.db.ConnectionUnit).
    repo = service.open_on(context.record_keys.keys(service, user), connection)
    body = repo.detail(item_id[:64])
    if body is None:
        return None
    repo.audit(user.id, "read", [item_id], channel_of(request))
    return orjson.dumps(body)


def item_response(body: bytes) -> Response:
    return Response(content=body, media_type=_JSON, headers={"Cache-Control": "no-store"})


@router.get(
    "/record/items/{item_id}/source",
    responses={200: {"content": {_FHIR_JSON: {}}}, 404: {"description": "No such item"}},
)
def source(request: Request, item_id: str, user: Annotated[User, Depends(api_owner)]) -> Response:
    """The original FHIR resource (JSON; XML input was converted to JSON at import)."""
    with record_of(request, user) as repo:
        original = repo.original(item_id[:64])
        if original is None:
            raise Problem(404, "not-found", _NOT_FOUND)
        repo.audit(user.id, "read_source", [item_id], channel_of(request))
    return Response(content=original, media_type=_FHIR_JSON, headers={"Cache-Control": "no-store"})


@router.get("/audit", responses={200: {"content": {_JSON: {}}}})
def audit(
    request: Request,
    user: Annotated[User, Depends(api_owner)],
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Who read or wrote your record, when and through which channel (newest first)."""
    with record_of(request, user) as repo:
        try:
            entries, next_cursor = repo.audit_page(cursor, limit)
        except BadCursor as exc:
            raise _invalid("cursor", str(exc)) from exc
    return _json({"entries": entries, "next_cursor": next_cursor})
