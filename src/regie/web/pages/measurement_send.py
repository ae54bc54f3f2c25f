"""Choosing self-measurements to share, with a preview of exactly what would be sent.

The Bundle is built by :func:`regie.owndata.send.measurements_bundle` and checked with
the qualification checks. The user can download it, or pick a provider that receives
self-measurements (service 904): the Bundle is then stored as a send and the confirmation
page (``regie.web.pages.share``) shows it before the authorization with one
``<provider>~904`` scope.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.owndata import measurements as meas
from regie.owndata.send import check_bundle, measurements_bundle
from regie.store.models import User
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.collecting import session_key
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sharing import check_receiver, receivers
from regie.web.sharing import start as start_send
from regie.web.pages.owndata import own_data, shown_value
from regie.web.templating import DISPLAY_ZONE, language_of, render

router = APIRouter(include_in_schema=False)
SERVICE = "904"
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)


def _types(request: Request) -> list[tuple[str, str]]:
    gettext = gettext_for(request)
    return [(key, gettext(kind.label)) for key, kind in meas.TYPES.items()]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/measurements/send")
def send_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "measurement_send.html", types=_types(request), values={"types": []}, errors={},
                  chosen=None, receivers=receivers(request.app, SERVICE))


@router.post("/measurements/send")
async def send_preview(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    gettext = gettext_for(request)
    wanted = [t for t in form.getlist("types") if t in meas.TYPES]
    start, end = _day(str(form.get("from", ""))), _day(str(form.get("to", "")))
    name = str(form.get("name", "")).strip()[:200]
    values = {"types": wanted, "from": form.get("from", ""), "to": form.get("to", ""), "name": name,
              "provider": str(form.get("provider", ""))[:200]}
    errors = {}
    provider = None
    if form.get("do") == "send":
        provider = check_receiver(request.app, values["provider"], SERVICE)
        if provider is None:
            errors["provider"] = gettext(N_("Choose a care provider."))
    if not wanted:
        errors["types"] = gettext(N_("Choose at least one kind of measurement."))
    if not name:
        errors["name"] = gettext(N_("Fill in your name as your care provider knows it."))
    if form.get("from") and start is None:
        errors["from"] = gettext(N_("Use a date such as 2026-01-31."))
    if form.get("to") and end is None:
        errors["to"] = gettext(N_("Use a date such as 2026-01-31."))
    if errors:
        return render(request, "measurement_send.html", 422, types=_types(request), values=values, errors=errors,
                      chosen=None)
    stored = await run_in_threadpool(own_data(request, user).measurements, None)
    low = datetime.combine(start, time.min, DISPLAY_ZONE) if start else None
    high = datetime.combine(end, time.max, DISPLAY_ZONE) if end else None
    chosen = [s.measurement for s in stored if s.measurement and s.measurement.type in wanted
              and (low is None or s.measurement.time >= low) and (high is None or s.measurement.time <= high)]
    bundle = measurements_bundle(chosen, name) if chosen else None
    if bundle is not None:
        problems = check_bundle(bundle)
        assert not problems, problems
    body = orjson.dumps(bundle, option=orjson.OPT_INDENT_2) if bundle else b""
    if bundle is not None and form.get("do") == "download":
        return Response(body, media_type="application/fhir+json", headers={
            "Content-Disposition": 'attachment; filename="metingen.json"', "Cache-Control": "no-store"})
    if bundle is not None and provider is not None:
        send_id = await run_in_threadpool(
            lambda: start_send(request.app, user.id, kind="measurements", provider=provider, service_id=SERVICE,
                          bundle=bundle, channel="web", session_id=session_key(request)))
        return see_other(f"/send/{send_id}")
    lang = language_of(request)
    return render(request, "measurement_send.html", types=_types(request), values=values, errors={},
                  chosen=chosen, preview=body.decode(), receivers=receivers(request.app, SERVICE), value_of=lambda m: shown_value(m, lang),
                  when_local=lambda m: m.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M"))
