"""Delegation pages: choose whose record, who has access, invite, accept, change, end,
children's records (WGBO) and a child's own login. Rules: docs/delegation.md."""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.access import Action
from regie.access.ages import AgeBand
from regie.accounts.errors import EmailTaken, ValidationFailed
from regie.accounts.service import normalise_email
from regie.delegation import DelegationError, Delegations
from regie.delegation.service import INVITE_DAYS
from regie.mail import MailError, mail_configured, send_mail
from regie.store.models import User
from regie.web import delegating
from regie.web.guards import (
    AccessContext,
    acting_for,
    choose_record,
    delegations_of,
    page_user,
    record_access,
)
from regie.web.mail_lane import send_in_mail_lane
from regie.web.pages._helpers import gettext_for, see_other, translated
from regie.web.present import CATEGORY_NAMES
from regie.web.sessions import context_of, current_session, start_session
from regie.web.templating import DISPLAY_ZONE, render

log = logging.getLogger("regie.delegation")
router = APIRouter(include_in_schema=False)
Actor = Annotated[User, Depends(page_user)]
Access = Annotated[AccessContext, Depends(record_access)]
FormText = Annotated[str, Form()]
CATEGORIES = list(CATEGORY_NAMES)


def _service(request: Request) -> Delegations:
    return delegations_of(request.app)


def _error(request: Request, code: str) -> str:
    return gettext_for(request)(delegating.ERRORS.get(code, delegating.ERRORS["unknown"]))


# -- choosing whose record ------------------------------------------------------------
@router.get("/helping")
def helping_page(request: Request, actor: Actor, ended: int = 0) -> Response:
    choices = _service(request).helping(actor)
    return render(request, "helping.html", actor=actor, choices=choices, current=acting_for(request) or actor.id,
                  ended=bool(ended))


@router.post("/helping")
def switch_record(request: Request, actor: Actor, owner: FormText = "") -> Response:
    service = _service(request)
    if not owner or owner == actor.id:
        choose_record(request, None)
        return see_other("/")
    grant = service.grant(actor, owner)
    if grant is None:
        choose_record(request, None)
        return see_other("/helping?ended=1")
    choose_record(request, owner)
    if Action.READ in grant.actions:
        return see_other("/")
    if Action.COLLECT in grant.actions:
        return see_other("/collect")
    if Action.ADD in grant.actions:
        return see_other("/measurements/new")
    return see_other("/delegations")


# -- who has access to this record --------------------------------------------------
@router.get("/delegations")
def delegations_page(request: Request, access: Access, done: str = "") -> Response:
    return _overview(request, access, done=done)


def _overview(request: Request, access: AccessContext, status: int = 200, *, done: str = "",
              problem: str | None = None, link: str | None = None) -> Response:
    service = _service(request)
    views = service.for_owner(access.owner)
    child = service.child_info(access.owner)
    gettext = gettext_for(request)
    if child is None:
        band_text = None
    elif access.for_other:
        band_text = gettext(delegating.BANDS[child.band])
    else:
        band_text = gettext(delegating.CHILD_BANDS.get(child.band, delegating.BANDS[child.band]))
    return render(request, "delegations.html", status, access=access, views=views, child=child,
                  band_text=band_text, may_manage=Action.MANAGE in access.grant.actions,
                  may_handover=Action.HANDOVER in access.grant.actions and child is not None
                  and child.band is not AgeBand.UNDER_12 and not child.claimed,
                  decides=(not access.for_other and child is not None and child.band is AgeBand.FROM_16),
                  states=delegating.STATES, kinds=delegating.KINDS, categories=CATEGORY_NAMES,
                  done=done, problem=problem, link=link)


# -- invite --------------------------------------------------------------------------
@router.get("/delegations/invite")
def invite_page(request: Request, access: Access, kind: str = "caregiver") -> Response:
    return _form(request, access, kind=_kind(request, access, kind))


def _kind(request: Request, access: AccessContext, kind: str) -> str:
    # A second parent only for a child's record.
    return "parent" if kind == "parent" and _service(request).child_info(access.owner) is not None else "caregiver"


def _form(request: Request, access: AccessContext, status: int = 200, *, kind: str = "caregiver",
          view=None, values: dict | None = None, errors: dict | None = None) -> Response:
    values = values or {}
    if view is not None and not values:
        values = {"categories": set(CATEGORIES) if view.categories is None else set(view.categories),
                  "all": view.categories is None, "can_add": view.can_add, "can_collect": view.can_collect,
                  "until": view.valid_until.astimezone(DISPLAY_ZONE).date().isoformat() if view.valid_until else ""}
    return render(request, "delegation_form.html", status, access=access, kind=kind, view=view,
                  values=values, errors=errors or {}, categories=CATEGORY_NAMES)


def _until(value: str) -> datetime | None:
    """The end date is the last whole day of access: until midnight after it (Dutch time)."""
    if not value.strip():
        return None
    day = date.fromisoformat(value.strip())
    return datetime.combine(day, time(23, 59, 59), DISPLAY_ZONE)


def _scopes(form) -> tuple[set[str] | None, bool, bool]:
    categories = None if form.get("all") else {c for c in form.getlist("categories") if c in CATEGORY_NAMES}
    return categories, bool(form.get("can_add")), bool(form.get("can_collect"))


@router.post("/delegations/invite")
async def invite(request: Request, access: Access) -> Response:
    form = await request.form()
    kind = _kind(request, access, str(form.get("kind", "caregiver")))
    email = str(form.get("email", "")).strip()
    name = str(form.get("name", ""))
    categories, can_add, can_collect = _scopes(form)
    values = {"email": email, "name": name, "categories": categories or set(), "all": categories is None,
              "can_add": can_add, "can_collect": can_collect, "until": str(form.get("until", ""))}
    errors: dict[str, str] = {}
    if kind == "parent":
        categories, can_add, can_collect = None, True, True
    elif categories == set() and not can_add and not can_collect:
        errors["scope"] = _error(request, "nothing-chosen")
    try:
        until = None if kind == "parent" else _until(values["until"])
    except ValueError:
        errors["until"] = _error(request, "until-invalid")
        until = None
    if not email:
        errors["email"] = _error(request, "email-required")
    if errors:
        return _form(request, access, 422, kind=kind, values=values, errors=errors)
    service = _service(request)
    try:
        row_id, token = await run_in_threadpool(
            service.invite, access.owner, access.actor, email=email, name=name, kind=kind,
            categories=categories, can_add=can_add, can_collect=can_collect, valid_until=until)
    except ValidationFailed as exc:
        return _form(request, access, 422, kind=kind, values=values,
                     errors=translated(request, {"email": exc.errors.get("email", "email-invalid")}))
    except DelegationError as exc:
        field = "until" if exc.code.startswith("until") else "email"
        return _form(request, access, 422, kind=kind, values=values, errors={field: _error(request, exc.code)})
    link = _absolute(request, f"/invite/{token}")
    sent = await send_in_mail_lane(request, _mail_invite, request, email, access, link)
    if sent:
        return see_other("/delegations?done=invited")
    # No mail server (or it failed): the owner passes the link on; it is theirs to give.
    return _overview(request, access, done="invited", link=link,
                     problem=_error(request, "mail-failed") if mail_configured(context_of(request).settings) else None)


def _link_until() -> str:
    return (datetime.now(DISPLAY_ZONE) + timedelta(days=INVITE_DAYS)).strftime("%d-%m-%Y")


def _absolute(request: Request, path: str) -> str:
    return context_of(request).settings.public_url.rstrip("/") + path


def _mail_invite(request: Request, email: str, access: AccessContext, link: str) -> bool:
    settings = context_of(request).settings
    if not mail_configured(settings):
        return False
    gettext = gettext_for(request)
    body = gettext(delegating.INVITE_BODY).format(inviter=access.actor.email, until=_link_until(), link=link)
    try:
        send_mail(settings, email, gettext(delegating.INVITE_SUBJECT), body)
    except MailError:
        log.warning("invitation e-mail not sent")
        return False
    return True


# -- one delegation: change, end, keep ----------------------------------------------
def _view(request: Request, access: AccessContext, delegation_id: str):
    view = next((v for v in _service(request).for_owner(access.owner) if v.id == delegation_id), None)
    if view is None:
        raise HTTPException(404)
    return view


@router.get("/delegations/{delegation_id}")
def delegation_page(request: Request, access: Access, delegation_id: str) -> Response:
    view = _view(request, access, delegation_id)
    return _form(request, access, kind=view.kind, view=view)


@router.post("/delegations/{delegation_id}")
async def change_delegation(request: Request, access: Access, delegation_id: str) -> Response:
    view = await run_in_threadpool(_view, request, access, delegation_id)
    form = await request.form()
    categories, can_add, can_collect = _scopes(form)
    values = {"categories": categories or set(), "all": categories is None, "can_add": can_add,
              "can_collect": can_collect, "until": str(form.get("until", ""))}
    if categories == set() and not can_add and not can_collect:
        return _form(request, access, 422, kind=view.kind, view=view, values=values,
                     errors={"scope": _error(request, "nothing-chosen")})
    try:
        until = _until(values["until"])
        await run_in_threadpool(_service(request).update, access.owner, access.actor, delegation_id,
                                categories=categories, can_add=can_add, can_collect=can_collect, valid_until=until)
    except ValueError:
        return _form(request, access, 422, kind=view.kind, view=view, values=values,
                     errors={"until": _error(request, "until-invalid")})
    except DelegationError as exc:
        return _form(request, access, 422, kind=view.kind, view=view, values=values,
                     errors={"until": _error(request, exc.code)})
    return see_other("/delegations?done=changed")


@router.post("/delegations/{delegation_id}/revoke")
def revoke(request: Request, access: Access, delegation_id: str) -> Response:
    try:
        _service(request).revoke(access.owner, access.actor, delegation_id)
    except DelegationError as exc:
        return _overview(request, access, 404, problem=_error(request, exc.code))
    return see_other("/delegations?done=revoked")


@router.post("/delegations/{delegation_id}/keep")
def keep(request: Request, access: Access, delegation_id: str, choice: FormText = "") -> Response:
    try:
        _service(request).keep_parent(access.owner, delegation_id, keep=choice == "keep")
    except DelegationError as exc:
        return _overview(request, access, 422, problem=_error(request, exc.code))
    return see_other("/delegations?done=" + ("kept" if choice == "keep" else "revoked"))


# -- accepting an invitation --------------------------------------------------------
@router.get("/invite/{token}")
def invitation_page(request: Request, token: str) -> Response:
    found = _service(request).invitation(token)
    web = current_session(request)
    signed_in = web is not None and web.stage == "full" and web.user_id is not None
    if found is None:
        return render(request, "invitation.html", 404, row=None, problem=_error(request, "invite-unknown"),
                      token=token, signed_in_here=signed_in, login=None)
    row, owner_label, invited = found
    return render(request, "invitation.html", row=row, owner_label=owner_label, invited=invited, token=token,
                  problem=None,
                  signed_in_here=signed_in, login=f"/login?next={quote('/invite/' + token)}",
                  categories=CATEGORY_NAMES, kinds=delegating.KINDS,
                  all_categories=row.categories.strip() == '["*"]', chosen=_chosen(row.categories))


def _chosen(value: str) -> list[str]:
    return [c for c in json.loads(value or "[]") if c in CATEGORY_NAMES]


@router.post("/invite/{token}")
def accept(request: Request, actor: Actor, token: str) -> Response:
    try:
        row = _service(request).accept(token, actor)
    except DelegationError as exc:
        return render(request, "invitation.html", 410, row=None, problem=_error(request, exc.code), token=token,
                      signed_in_here=True, login=None)
    choose_record(request, row.user_id)
    return see_other("/helping")


# -- children ------------------------------------------------------------------------
@router.get("/children/new")
def child_page(request: Request, actor: Actor) -> Response:
    return render(request, "child_new.html", values={}, errors={})


@router.post("/children/new")
def create_child(request: Request, actor: Actor, name: FormText = "", birth_date: FormText = "") -> Response:
    values = {"name": name, "birth_date": birth_date}
    try:
        born = date.fromisoformat(birth_date.strip())
    except ValueError:
        return render(request, "child_new.html", 422, values=values,
                      errors={"birth_date": _error(request, "child-birth-invalid")})
    try:
        child = _service(request).create_child(actor, name, born)
    except DelegationError as exc:
        field = "name" if exc.code == "child-name" else "birth_date"
        return render(request, "child_new.html", 422, values=values, errors={field: _error(request, exc.code)})
    choose_record(request, child.id)
    return see_other("/delegations?done=child")


@router.post("/children/login")
async def invite_child_login(request: Request, access: Access, email: FormText = "") -> Response:
    try:
        address = normalise_email(email)
    except ValidationFailed as exc:
        return await run_in_threadpool(_overview, request, access, 422,
                                       problem=translated(request, exc.errors).get("email"))
    try:
        token = await run_in_threadpool(_service(request).invite_child_login, access.owner, access.actor)
    except DelegationError as exc:
        return await run_in_threadpool(_overview, request, access, 422, problem=_error(request, exc.code))
    link = _absolute(request, f"/claim/{token}")
    if not mail_configured(context_of(request).settings):
        return await run_in_threadpool(_overview, request, access, done="child-invited", link=link)
    if await send_in_mail_lane(request, _mail_child_login, request, address, link):
        return see_other("/delegations?done=child-invited")
    return await run_in_threadpool(_overview, request, access, done="child-invited", link=link,
                                   problem=_error(request, "mail-failed"))


def _mail_child_login(request: Request, address: str, link: str) -> bool:
    gettext = gettext_for(request)
    try:
        send_mail(context_of(request).settings, address, gettext(delegating.CLAIM_SUBJECT),
                  gettext(delegating.CLAIM_BODY).format(until=_link_until(), link=link))
    except MailError:
        log.warning("child login e-mail not sent")
        return False
    return True


@router.get("/claim/{token}")
def claim_page(request: Request, token: str) -> Response:
    target = _service(request).claim_target(token)
    if target is None:
        return render(request, "claim.html", 404, name=None, problem=_error(request, "invite-unknown"),
                      token=token, errors={}, email="")
    return render(request, "claim.html", name=target[1], problem=None, token=token, errors={}, email="")


@router.post("/claim/{token}")
def claim(request: Request, token: str, email: FormText = "", password: FormText = "",
          password_repeat: FormText = "") -> Response:
    service = _service(request)
    target = service.claim_target(token)
    if target is None:
        return render(request, "claim.html", 404, name=None, problem=_error(request, "invite-unknown"),
                      token=token, errors={}, email=email)
    errors: dict[str, str] = {}
    if not password:
        errors["password"] = "password-required"
    elif password_repeat != password:
        errors["password_repeat"] = "passwords-differ"
    try:
        if errors:
            raise ValidationFailed(errors)
        child = service.claim(token, email, password)
    except ValidationFailed as exc:
        return render(request, "claim.html", 422, name=target[1], problem=None, token=token,
                      errors=translated(request, {**exc.errors, **errors}), email=email)
    except EmailTaken:
        return render(request, "claim.html", 422, name=target[1], problem=None, token=token,
                      errors=translated(request, {"email": "email-taken"}), email=email)
    except DelegationError as exc:
        return render(request, "claim.html", 410, name=None, problem=_error(request, exc.code), token=token,
                      errors={}, email=email)
    start_session(request, child.id, "enrol")  # the child's own second factor comes next
    return see_other("/setup")
