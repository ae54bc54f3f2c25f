"""Asking a care provider to correct their file (dossierwijzigingsverzoek, service 909):
from any record item that came from a provider, "this is not right / this changed" →
a form → the usual send (preview of exactly what goes, confirmation, permission with one
``<provider>~909`` scope, receipt). The page says plainly that the provider's file is not
changed by this; the status is the send's (``/corrections`` lists them).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.share.correction import MAX_TEXT, MAX_TOPIC, check_correction_bundle, correction_bundle
from regie.share.texts import STATES, error_text
from regie.store.models import User
from regie.web.collecting import session_key
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sharing import provider_name, receivers, sends_of
from regie.web.sharing import start as start_send
from regie.web.templating import DISPLAY_ZONE, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
SERVICE = "909"
REASONS = {
    "wrong": N_("This is not right"),
    "changed": N_("This has changed"),
}
TOPIC_START = {"wrong": N_("Not right: {title}"), "changed": N_("Changed: {title}")}


def _item(request: Request, user: User, item_id: str, channel: str = "web") -> dict[str, Any] | None:
    from regie.web.pages.viewer import open_record

    with open_record(request, user) as (repo, _q):
        item = repo.detail(item_id[:64])
        if item is not None:
            repo.audit(user.id, "read", [item["id"]], channel)
    return item


def item_for_api(request: Request, user: User, item_id: str, channel: str) -> dict[str, Any] | None:
    return _item(request, user, item_id, channel)


def provider_display_of(item: dict[str, Any]) -> str:
    """The provider part of a collected item's source ("<provider> · <service>")."""
    source = str((item.get("provenance") or {}).get("source") or "")
    return source.split(" · ", 1)[0].strip() if " · " in source else ""


def candidates(app, item: dict[str, Any]) -> list[tuple[str, str]]:
    """The providers on the ZAL with this item's provider name that receive 909."""
    display = provider_display_of(item)
    return [(naam, label) for naam, label in receivers(app, SERVICE) if display and label == display]


def _form(request: Request, item: dict[str, Any], status: int = 200, values=None, errors=None) -> Response:
    gettext = gettext_for(request)
    return render(request, "correction.html", status, item=item, values=values or {"reason": "wrong"},
                  errors=errors or {}, providers=candidates(request.app, item),
                  provider_display=provider_display_of(item),
                  reasons=[(k, gettext(v)) for k, v in REASONS.items()],
                  topic_for={k: gettext(v).format(title=item.get("title") or "") for k, v in TOPIC_START.items()})


@router.get("/corrections/new")
async def new(request: Request, user: CurrentUser) -> Response:
    item = await run_in_threadpool(_item, request, user, request.query_params.get("item", ""))
    if item is None:
        raise HTTPException(404)
    reason = request.query_params.get("reason", "wrong")
    reason = reason if reason in REASONS else "wrong"
    gettext = gettext_for(request)
    values = {"reason": reason, "topic": gettext(TOPIC_START[reason]).format(title=item.get("title") or "")[:MAX_TOPIC]}
    return _form(request, item, values=values)


@router.post("/corrections/new")
async def create(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    item = await run_in_threadpool(_item, request, user, str(form.get("item", "")))
    if item is None:
        raise HTTPException(404)
    gettext = gettext_for(request)
    values = {"reason": str(form.get("reason", "wrong")), "topic": str(form.get("topic", "")).strip(),
              "text": str(form.get("text", "")).strip(), "name": str(form.get("name", "")).strip()[:200],
              "provider": str(form.get("provider", ""))[:200]}
    errors: dict[str, str] = {}
    providers = candidates(request.app, item)
    chosen = next(((n, label) for n, label in providers if n == values["provider"]),
                  providers[0] if len(providers) == 1 else None)
    if not providers:
        raise HTTPException(404)
    if chosen is None:
        errors["provider"] = gettext(N_("Choose a care provider."))
    if values["reason"] not in REASONS:
        values["reason"] = "wrong"
    if not values["topic"]:
        errors["topic"] = gettext(N_("Write in a few words what it is about."))
    elif len(values["topic"]) > MAX_TOPIC:
        errors["topic"] = gettext(N_("Use at most {n} characters.")).format(n=MAX_TOPIC)
    if not values["text"]:
        errors["text"] = gettext(N_("Write what is not right or what has changed."))
    elif len(values["text"]) > MAX_TEXT:
        errors["text"] = gettext(N_("Use at most {n} characters.")).format(n=MAX_TEXT)
    if not values["name"]:
        errors["name"] = gettext(N_("Fill in your name as your care provider knows it."))
    if errors:
        return _form(request, item, 422, values, errors)
    assert chosen is not None
    bundle = correction_bundle(topic=values["topic"], text=values["text"], patient_name=values["name"],
                               provider_display=chosen[1], sent=datetime.now(DISPLAY_ZONE))
    problems = check_correction_bundle(bundle)
    assert not problems, problems
    send_id = await run_in_threadpool(
        lambda: start_send(request.app, user.id, kind="correction", provider=chosen[0], service_id=SERVICE,
                           bundle=bundle, channel="web", session_id=session_key(request)))
    return see_other(f"/send/{send_id}")


@router.get("/corrections")
async def overview(request: Request, user: CurrentUser) -> Response:
    app = request.app
    rows = [r for r in await run_in_threadpool(sends_of(app).history, user.id) if r["kind"] == "correction"]
    for row in rows:
        row["provider_name"] = provider_name(app, row["provider"])
        row["message"] = error_text(row["error"])
    return render(request, "corrections.html", rows=rows, states=STATES,
                  local_time=lambda t: datetime.fromisoformat(t).astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M")
                  if t else "")


__all__ = ["router"]
