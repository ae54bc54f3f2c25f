"""Password reset ("wachtwoord vergeten"): an address, a link from the e-mail, a new
password, then the second factor; only then does the new password count.

A mailbox alone never opens an account: the reset asks for the app code, a passkey or a
recovery code (throttled like a login). Afterwards every other session of the account ends.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from regie.accounts import activity, email_links
from regie.accounts.email_flows import EmailFlows, PendingLink
from regie.accounts.errors import InvalidSecondFactor, Throttled, ValidationFailed
from regie.accounts.sessions import read_scratch, write_scratch
from regie.web.pages._email_link_pages import ask_for_mail, flows, open_link, password_pair_errors, pending_link
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other, throttle_text, translated
from regie.web.pages._passkey_step import passkey_options, passkey_verify
from regie.web.sessions import (
    client_info,
    context_of,
    current_session,
    save_session,
    start_session,
)
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
_SCRATCH = "reset_link"


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "password_forgot.html", errors={}, email="", problem=None)


@router.post("/password/forgot")
async def forgot(request: Request, email: FormText = "") -> Response:
    return await ask_for_mail(request, "password_forgot.html", email, EmailFlows.request_reset,
                              gettext_for(request)(N_("It tells you how to make a new password.")))


@router.get("/password/link/{token}")
def open_reset_link(request: Request, token: str) -> Response:
    return open_link(request, email_links.RESET, token, _SCRATCH, "/password/forgot", "/password/reset")


def _pending(request: Request) -> PendingLink | None:
    return pending_link(request, email_links.RESET, _SCRATCH)


@router.get("/password/reset")
def new_password_page(request: Request) -> Response:
    if _pending(request) is None:
        return see_other("/password/forgot")
    return render(request, "password_reset.html", errors={})


@router.post("/password/reset")
def new_password(request: Request, password: FormText = "", password_repeat: FormText = "") -> Response:
    link = _pending(request)
    if link is None or link.user_id is None:
        return see_other("/password/forgot")
    errors = password_pair_errors(password, password_repeat)
    try:
        if errors:
            raise ValidationFailed(errors)
        flows(request).set_reset_password(link.id, password)
    except ValidationFailed as exc:
        return render(request, "password_reset.html", 422, errors=translated(request, exc.errors))
    except LookupError:
        return see_other("/password/forgot")
    context = context_of(request)
    with context.db.session() as session:
        needs_factor = context.accounts.has_second_factor(session, link.user_id)
    if not needs_factor:  # never finished setting up: the second factor comes right after
        return _finish(request, link, "enrol")
    row = current_session(request)
    assert row is not None
    write_scratch(row, reset_password_set=link.id)
    save_session(request, row)
    return see_other("/password/reset/confirm")


def _confirming(request: Request) -> PendingLink | None:
    """The reset waiting for its second factor (its new password chosen), or None."""
    link = _pending(request)
    row = current_session(request)
    if link is None or row is None or read_scratch(row).get("reset_password_set") != link.id:
        return None
    return link


def _confirm_page(request: Request, link: PendingLink, status: int = 200, errors=None, problem=None) -> Response:
    context = context_of(request)
    assert link.user_id is not None
    with context.db.session() as session:
        has_passkey = bool(context.passkeys.list_for(session, link.user_id))
    if problem is None and status == 200:
        current = context.accounts.second_factor_throttle(link.user_id, client_info(request))
        if current is not None and current.locked:
            problem = throttle_text(request, current)
    return render(request, "password_reset_confirm.html", status, has_passkey=has_passkey,
                  errors=errors or {}, problem=problem)


@router.get("/password/reset/confirm")
def confirm_page(request: Request) -> Response:
    link = _confirming(request)
    if link is None:
        return see_other("/password/forgot")
    return _confirm_page(request, link)


@router.post("/password/reset/confirm")
def confirm(request: Request, code: FormText = "") -> Response:
    link = _confirming(request)
    if link is None or link.user_id is None:
        return see_other("/password/forgot")
    if not code.strip():
        return _confirm_page(request, link, 422, errors=translated(request, {"code": "code-required"}))
    try:
        # An app code or a recovery code: told apart by their form, throttled apart.
        context_of(request).accounts.verify_second_factor(link.user_id, code, client_info(request))
    except Throttled as exc:
        return _confirm_page(request, link, 429, problem=throttle_text(request, exc))
    except InvalidSecondFactor:
        return _confirm_page(request, link, 401, errors=translated(request, {"code": "invalid-second-factor"}))
    return _finish(request, link, "full")


def _finish(request: Request, link: PendingLink, stage: str) -> Response:
    """The new password counts; every session of the account ends; this browser is logged in."""
    try:
        user_id = flows(request).finish_reset(link.id, client_info(request))
    except LookupError:
        return see_other("/password/forgot")
    start_session(request, user_id, stage)
    if stage == "enrol":
        return see_other("/setup")
    context = context_of(request)
    with context.db.session() as session:
        activity.record(session, user_id, "login", client_info(request))
    return see_other("/account?password_reset=1")


@router.post("/password/reset/passkey/options")
def passkey_options_for_reset(request: Request) -> Response:
    link = _confirming(request)
    if link is None or link.user_id is None:
        return JSONResponse({"error": "not-in-reset"}, status_code=409)
    return passkey_options(request, link.user_id)


@router.post("/password/reset/passkey/verify")
async def passkey_verify_for_reset(request: Request) -> Response:
    credential = await request.body()
    return await run_in_threadpool(_passkey_verify, request, credential)


def _passkey_verify(request: Request, credential: bytes) -> Response:
    link = _confirming(request)
    if link is None or link.user_id is None:
        return JSONResponse({"error": "not-in-reset"}, status_code=409)
    return passkey_verify(request, link.user_id, credential, lambda: _finish(request, link, "full"))
