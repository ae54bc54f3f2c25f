"""Personal notes on any record item (page and API); only the owner sees them."""
from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.owndata import notes as notes_mod
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.web.api.record import channel_of
from regie.web.guards import api_owner, page_owner
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.problems import Problem
from regie.web.sessions import context_of
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["notes"])
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)


def _open(request: Request, user: User):
    context = context_of(request)
    service = RecordService(context.db, context.accounts.keyring)
    return service.open(service.keys(user))


def _back(detail: dict) -> str:
    source = detail.get("provenance", {}).get("source")
    if source == "self" and detail.get("category") == "vital_signs":
        return f"/measurements/{detail['id']}"
    if source == "self" and detail.get("category") == "diary":
        return f"/diary/{detail['id']}"
    return f"/record/items/{detail['id']}"


def _page(request: Request, user: User, item_id: str, *, error: str | None = None, text: str = "", status: int = 200):
    with _open(request, user) as repo:
        detail = repo.detail(item_id[:64])
        if detail is None:
            raise HTTPException(404)
        notes = notes_mod.notes_for(repo, detail["id"])
        repo.audit(user.id, "read_notes", [detail["id"]], "web")
    return render(request, "notes.html", status, item=detail, notes=notes, back=_back(detail),
                  errors={"text": error} if error else {}, text=text)


@router.get("/record/items/{item_id}/notes")
def notes_page(request: Request, user: CurrentUser, item_id: str) -> Response:
    return _page(request, user, item_id)


@router.post("/record/items/{item_id}/notes")
async def add_note(request: Request, user: CurrentUser, item_id: str) -> Response:
    form = await request.form()
    text = form.get("text")
    text = text.strip() if isinstance(text, str) else ""
    gettext = gettext_for(request)
    if not text:
        return _page(request, user, item_id, error=gettext(N_("Write a note first.")), status=422)
    if len(text) > notes_mod.MAX_LENGTH:
        return _page(request, user, item_id, error=gettext(N_("Use at most 5000 characters.")), text=text, status=422)
    with _open(request, user) as repo:
        if notes_mod.add_note(repo, item_id[:64], text) is None:
            raise HTTPException(404)
        repo.audit(user.id, "add_note", [item_id[:40]], "web")
    return see_other(f"/record/items/{item_id}/notes?saved=1")


@router.post("/record/items/{item_id}/notes/{note_id}/delete")
def delete_note(request: Request, user: CurrentUser, item_id: str, note_id: str) -> Response:
    with _open(request, user) as repo:
        if not notes_mod.delete_note(repo, item_id[:64], note_id[:64]):
            raise HTTPException(404)
        repo.audit(user.id, "delete_note", [item_id[:40]], "web")
    return see_other(f"/record/items/{item_id}/notes?deleted=1")


def _json(body, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@api.get("/record/items/{item_id}/notes")
def list_notes(request: Request, user: Annotated[User, Depends(api_owner)], item_id: str) -> Response:
    """Your notes on one record item, oldest first."""
    with _open(request, user) as repo:
        if repo.get(item_id[:64]) is None:
            raise Problem(404, "not-found", "There is no record item with this id.")
        notes = notes_mod.notes_for(repo, item_id[:64])
        repo.audit(user.id, "read_notes", [item_id[:40]], channel_of(request))
    return _json({"items": [{"id": n.id, "text": n.text, "created_at": n.created_at.isoformat()} for n in notes]})


@api.post("/record/items/{item_id}/notes", status_code=201)
async def post_note(request: Request, user: Annotated[User, Depends(api_owner)], item_id: str) -> Response:
    """Add a note: ``{"text": "asked the GP about this"}``."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Problem(400, "malformed-json", "The request body is not valid JSON.") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > notes_mod.MAX_LENGTH:
        raise Problem(422, "validation-error", "Some fields are missing or wrong.", errors=[
            {"field": "text", "message": "Send the note as text of 1 to 5000 characters.", "code": "invalid"}])
    with _open(request, user) as repo:
        note_id = notes_mod.add_note(repo, item_id[:64], text.strip())
        if note_id is None:
            raise Problem(404, "not-found", "There is no record item with this id.")
        repo.audit(user.id, "add_note", [item_id[:40]], channel_of(request))
    return _json({"id": note_id, "text": text.strip()}, 201)
