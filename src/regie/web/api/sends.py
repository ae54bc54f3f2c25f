"""Sending to care providers over JSON (MedMij delen).

1. ``POST /api/v1/sends`` builds the Bundle and answers it (the preview), nothing is sent:
   ``{"kind": "measurements", "provider": "huisartsdevries", "types": ["body_weight"],
   "from": "2026-01-01", "to": "2026-01-31", "name": "Jan Jansen"}`` or
   ``{"kind": "document", "provider": …, "title": …, "name": …, "type": "discharge_letter",
   "pdf": "<base64>"}`` or a correction request on a record item that came from a provider
   ``{"kind": "correction", "item": "<record item id>", "topic": …, "text": …, "name": …}``
   (``provider`` only when several providers of that name receive 909).
2. ``POST /api/v1/sends/{id}/confirm`` confirms it and answers the ``authorization_url``
   (one ``<provider>~<service>`` scope). After DigiD and consent the provider's redirect
   to ``/send/callback`` sends the Bundle once.
3. ``GET /api/v1/sends/{id}`` shows the outcome; ``GET /api/v1/sends`` lists the sends.
"""
from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.owndata import measurements as meas
from regie.owndata.send import check_bundle, measurements_bundle
from regie.share import documents as docs
from regie.share.texts import error_text
from regie.store.models import User
from regie.web.api.owndata import _data
from regie.web.guards import api_owner
from regie.web.i18n import translations
from regie.web.problems import Problem
from regie.web.sharing import authorization_url, check_receiver, sends_of, start
from regie.web.templating import DISPLAY_ZONE, language_of

router = APIRouter(prefix="/api/v1", tags=["sending"])
_JSON = "application/json"
ApiUser = Annotated[User, Depends(api_owner)]  # the record's owner (regie.access)
SERVICES = {"measurements": "904", "document": "51", "correction": "909"}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers={"Cache-Control": "no-store"})


def _invalid(field: str, message: str) -> Problem:
    return Problem(422, "validation-error", message, errors=[{"field": field, "message": message, "code": "invalid"}])


def _day(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(field, "Use a date such as 2026-01-31.") from None


def _explain(request: Request, view: dict[str, Any]) -> dict[str, Any]:
    message = error_text(view.get("error"))
    view["message"] = translations(language_of(request)).gettext(message) if message else None
    return view


@router.post("/sends", status_code=201, responses={201: {"content": {_JSON: {}}}, 422: {"description": "Invalid"}})
async def create_send(request: Request, user: ApiUser) -> Response:
    """Build what would be sent (the preview); nothing leaves Regie yet."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Problem(400, "malformed-json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _invalid("body", "Send one JSON object.")
    kind = body.get("kind")
    if kind not in SERVICES:
        raise _invalid("kind", f"Use one of: {', '.join(SERVICES)}.")
    service = SERVICES[kind]
    item: dict[str, Any] | None = None
    if kind == "correction":
        from regie.web.pages.corrections import candidates, item_for_api

        channel = "api-token" if getattr(request.state, "auth_channel", "") == "token" else "api-session"
        item = await run_in_threadpool(item_for_api, request, user, str(body.get("item") or ""), channel)
        if item is None:
            raise _invalid("item", "No record item with this id.")
        found = candidates(request.app, item)
        wanted = str(body.get("provider") or "")
        matches = [f for f in found if not wanted or f[0] == check_receiver(request.app, wanted, service)]
        if len(matches) != 1:
            raise _invalid("provider", "This item did not come from a care provider that receives correction "
                           "requests, or name the provider." if not found else "Name one of: "
                           + ", ".join(n for n, _ in found) + ".")
        provider, provider_display = matches[0]
    else:
        provider = check_receiver(request.app, str(body.get("provider") or ""), service)
        if provider is None:
            raise _invalid("provider", f"This care provider does not receive service {service}.")
    name = str(body.get("name") or "").strip()[:200]
    if not name:
        raise _invalid("name", "Give your name as your care provider knows it.")
    if kind == "measurements":
        types = body.get("types")
        if not isinstance(types, list) or not types or any(t not in meas.TYPES for t in types):
            raise _invalid("types", f"Use one or more of: {', '.join(meas.TYPES)}.")
        start_day, end_day = _day(body.get("from"), "from"), _day(body.get("to"), "to")
        low = datetime.combine(start_day, time.min, DISPLAY_ZONE) if start_day else None
        high = datetime.combine(end_day, time.max, DISPLAY_ZONE) if end_day else None
        stored = await run_in_threadpool(_data(request, user).measurements, None)
        chosen = [s.measurement for s in stored if s.measurement and s.measurement.type in types
                  and (low is None or s.measurement.time >= low) and (high is None or s.measurement.time <= high)]
        if not chosen:
            raise _invalid("types", "There are no measurements of these kinds in this period.")
        bundle = measurements_bundle(chosen, name)
        problems = check_bundle(bundle)
    elif kind == "correction":
        from regie.share.correction import MAX_TEXT, MAX_TOPIC, check_correction_bundle, correction_bundle

        topic, text = str(body.get("topic") or "").strip(), str(body.get("text") or "").strip()
        if not topic or len(topic) > MAX_TOPIC:
            raise _invalid("topic", f"Give a subject of at most {MAX_TOPIC} characters.")
        if not text or len(text) > MAX_TEXT:
            raise _invalid("text", f"Write what is not right or has changed, at most {MAX_TEXT} characters.")
        bundle = correction_bundle(topic=topic, text=text, patient_name=name, provider_display=provider_display,
                                   sent=datetime.now(DISPLAY_ZONE))
        problems = check_correction_bundle(bundle)
    else:
        title = str(body.get("title") or "").strip()[:200]
        if not title:
            raise _invalid("title", "Give the document a title.")
        doc_type = body.get("type") or "consult_note"
        if doc_type not in docs.DOCUMENT_TYPES:
            raise _invalid("type", f"Use one of: {', '.join(docs.DOCUMENT_TYPES)}.")
        try:
            pdf = base64.b64decode(str(body.get("pdf") or ""), validate=True)
            docs.check_pdf(pdf)
        except (binascii.Error, docs.NotAPdf):
            raise _invalid("pdf", "Send a PDF of at most 10 MB, base64-encoded.") from None
        bundle = docs.document_bundle(pdf, title=title, patient_name=name, doc_type=doc_type)
        problems = docs.check_document_bundle(bundle)
    assert not problems, problems
    send_id = await run_in_threadpool(lambda: start(request.app, user.id, kind=kind, provider=provider,
                                                    service_id=service, bundle=bundle, channel="api",
                                                    session_id=None))
    view = await run_in_threadpool(sends_of(request.app).get, user.id, send_id)
    return _json(_explain(request, view), 201)


@router.post("/sends/{send_id}/confirm", responses={200: {"content": {_JSON: {}}}, 404: {"description": "No such pending send"}})
async def confirm_send(request: Request, send_id: str, user: ApiUser) -> Response:
    """Confirm the previewed Bundle: the authorization URL to open in a browser."""
    url = await run_in_threadpool(authorization_url, request.app, user.id, send_id, None)
    if url is None:
        raise Problem(404, "not-found", "No pending send with this id.")
    return _json({"id": send_id, "authorization_url": url})


@router.get("/sends", responses={200: {"content": {_JSON: {}}}})
async def list_sends(request: Request, user: ApiUser) -> Response:
    rows = await run_in_threadpool(sends_of(request.app).history, user.id)
    return _json({"sends": [_explain(request, r) for r in rows]})


@router.get("/sends/{send_id}", responses={200: {"content": {_JSON: {}}}, 404: {"description": "No such send"}})
async def get_send(request: Request, send_id: str, user: ApiUser) -> Response:
    view = await run_in_threadpool(sends_of(request.app).get, user.id, send_id)
    if view is None:
        raise Problem(404, "not-found", "No send with this id.")
    return _json(_explain(request, view))
