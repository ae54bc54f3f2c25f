"""Appointments: /appointments (upcoming and past), one .ics per appointment, and the
personal calendar feed (a secret URL the user can renew or stop)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.owndata import appointments as appt
from regie.store.ingest import RecordService
from regie.store.models import User
from regie.web.guards import page_owner
from regie.web.pages._helpers import see_other
from regie.web.sessions import context_of
from regie.web.templating import DISPLAY_ZONE, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
_ICS = "text/calendar; charset=utf-8"


def _appointments(request: Request, user: User, channel: str = "web") -> list[appt.Appointment]:
    context = context_of(request)
    service = RecordService(context.db, context.accounts.keyring)
    with service.open(service.keys(user)) as repo:
        found = appt.list_appointments(repo)
        repo.audit(user.id, "list", [a.item_id for a in found], channel if channel != "feed" else "web")
    return found


def _local(moment) -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M") if moment else ""


@router.get("/appointments")
async def appointments_page(request: Request, user: CurrentUser) -> Response:
    found = await run_in_threadpool(_appointments, request, user)
    context = context_of(request)
    with context.db.session() as session:
        feed_since = appt.has_feed(session, user.id)
    upcoming = [a for a in found if a.upcoming]
    past = list(reversed([a for a in found if not a.upcoming]))
    return render(request, "appointments.html", upcoming=upcoming, past=past, local=_local,
                  status_nl=appt.STATUS_NL, feed_since=feed_since, feed_url=None)


@router.get("/appointments/{item_id}.ics")
async def appointment_ics(request: Request, user: CurrentUser, item_id: str) -> Response:
    found = [a for a in await run_in_threadpool(_appointments, request, user) if a.item_id == item_id]
    if not found or found[0].start is None:
        raise HTTPException(404)
    return Response(appt.to_ics(found), media_type=_ICS, headers={
        "Content-Disposition": 'attachment; filename="afspraak.ics"', "Cache-Control": "no-store"})


@router.post("/appointments/feed")
async def new_feed(request: Request, user: CurrentUser) -> Response:
    context = context_of(request)
    with context.db.session() as session:
        token = appt.new_feed(session, user.id)
    found = await run_in_threadpool(_appointments, request, user)
    base = str(getattr(context.settings, "public_url", None) or request.base_url).rstrip("/")
    return render(request, "appointments.html", upcoming=[a for a in found if a.upcoming],
                  past=list(reversed([a for a in found if not a.upcoming])), local=_local,
                  status_nl=appt.STATUS_NL, feed_since=True, feed_url=f"{base}/calendar/{token}.ics")


@router.post("/appointments/feed/revoke")
def revoke_feed(request: Request, user: CurrentUser) -> Response:
    context = context_of(request)
    with context.db.session() as session:
        appt.revoke_feeds(session, user.id)
    return see_other("/appointments?stopped=1")


@router.get("/calendar/{token}.ics")
async def calendar_feed(request: Request, token: str) -> Response:
    """The personal feed: the token is the only key (no session), so it is checked by hash."""
    context = context_of(request)
    with context.db.session() as session:
        user_id = appt.feed_user(session, token)
        user = context.accounts.user(session, user_id) if user_id else None
    if user is None:
        raise HTTPException(404)
    found = await run_in_threadpool(_appointments, request, user, "feed")
    return Response(appt.to_ics(found, "Regie: afspraken"), media_type=_ICS,
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
