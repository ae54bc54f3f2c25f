"""The security page: ways to log in, recovery codes, password, API tokens, activity."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from regie.accounts import activity, tokens
from regie.accounts.errors import InvalidSecondFactor, Throttled, ValidationFailed
from regie.accounts.sessions import read_scratch, write_scratch
from regie.store.models import User
from regie.store.types import utcnow
from regie.web.i18n import N_
from regie.web.guards import page_user, safe_next, stepped_up
from regie.web.messages import message
from regie.web.pages._helpers import gettext_for, see_other, throttle_text, translated
from regie.web.pages._passkey_step import passkey_options, passkey_refusal
from regie.web.sessions import client_info, context_of, current_session, save_session, start_session
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
CurrentUser = Annotated[User, Depends(page_user)]

EVENT_TEXT = {
    "registered": N_("Account created"),
    "login": N_("Logged in"),
    "login-failed-password": N_("Wrong password"),
    "login-failed-second-factor": N_("Wrong code or passkey"),
    "account-locked": N_("Logging in blocked for a while"),
    "logout": N_("Logged out"),
    "password-changed": N_("Password changed"),
    "totp-added": N_("Authenticator app added"),
    "passkey-added": N_("Passkey added"),
    "second-factor-removed": N_("Way of logging in removed"),
    "recovery-code-used": N_("Recovery code used"),
    "recovery-codes-renewed": N_("New recovery codes made"),
    "token-created": N_("API token made"),
    "token-revoked": N_("API token removed"),
    "register-attempt": N_("Someone tried to make a new account with your e-mail address"),
    "password-reset-requested": N_("New password asked for by e-mail"),
    "password-reset": N_("New password set through the e-mail link; logged out everywhere else"),
}


# Details that are codes get words; others (token and passkey names) are shown as they are.
DETAIL_TEXT = {
    "totp": N_("app code"),
    "recovery": N_("recovery code"),
    "passkey": N_("passkey"),
    "password": N_("password"),
    "api": N_("through the API"),
}


def _activity_values(events) -> dict:
    return {
        "events": events,
        "event_text": lambda kind: EVENT_TEXT.get(kind, kind),
        "detail_text": lambda detail: DETAIL_TEXT.get(detail),
        "browser": activity.browser_summary,
    }


@router.get("/account")
def account(request: Request, user: CurrentUser, added: int = 0, problem: str = "", password_reset: int = 0) -> Response:
    context = context_of(request)
    gettext = gettext_for(request)
    with context.db.session() as session:
        totps = context.accounts.totp_factors(session, user.id)
        passkeys = context.passkeys.list_for(session, user.id)
        recovery_left = context.accounts.unused_recovery_codes(session, user.id)
        events = activity.recent(session, user.id, limit=8)
    return render(
        request,
        "account.html",
        user=user,
        totps=totps,
        passkeys=passkeys,
        recovery_left=recovery_left,
        notice=gettext("Your new way of logging in is ready.") if added else (
            gettext("Your new password is set. You are logged out on all other devices.") if password_reset else None),
        problem=gettext(message(problem)) if problem in ("last-factor",) else None,
        **_activity_values(events),
    )


@router.get("/account/activity")
def activity_page(request: Request, user: CurrentUser) -> Response:
    context = context_of(request)
    with context.db.session() as session:
        events = activity.recent(session, user.id, limit=200)
    return render(request, "activity.html", **_activity_values(events))


@router.get("/account/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "password.html", errors={})


@router.post("/account/password")
def change_password(
    request: Request,
    user: CurrentUser,
    current_password: FormText = "",
    new_password: FormText = "",
    new_password_repeat: FormText = "",
) -> Response:
    context = context_of(request)
    errors: dict[str, str] = {}
    if not current_password:
        errors["current_password"] = "password-required"
    if not new_password:
        errors["new_password"] = "password-required"
    elif new_password_repeat != new_password:
        errors["new_password_repeat"] = "passwords-differ"
    try:
        if errors:
            raise ValidationFailed(errors)
        context.accounts.change_password(user.id, current_password, new_password, client_info(request))
    except ValidationFailed as exc:
        return render(request, "password.html", 422, errors=translated(request, {**exc.errors, **errors}))
    # Everyone else who had this password is out; this browser gets a fresh session.
    with context.db.session() as session:
        context.accounts.sessions.destroy_all_for_user(session, user.id, keep=current_session(request))
    start_session(request, user.id, "full")
    return see_other("/account")


def _tokens_page(request: Request, user: User, status: int = 200, created=None, errors=None, problem=None) -> Response:
    context = context_of(request)
    with context.db.session() as session:
        listed = tokens.list_for(session, user.id)
    return render(
        request, "tokens.html", status, tokens=listed, created=created, errors=errors or {},
        problem=problem, stepped_up=stepped_up(request),
    )


@router.get("/account/tokens")
def tokens_page(request: Request, user: CurrentUser) -> Response:
    return _tokens_page(request, user)


@router.post("/account/tokens")
def create_token(request: Request, user: CurrentUser, name: FormText = "") -> Response:
    if not stepped_up(request):
        return see_other("/account/confirm?next=/account/tokens")
    context = context_of(request)
    try:
        with context.db.session() as session:
            issued = tokens.create(session, user.id, name, client_info(request))
    except ValidationFailed as exc:
        return _tokens_page(request, user, 422, errors=translated(request, exc.errors))
    return _tokens_page(request, user, created=issued)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, user: CurrentUser, token_id: str) -> Response:
    if not stepped_up(request):
        return see_other("/account/confirm?next=/account/tokens")
    context = context_of(request)
    with context.db.session() as session:
        tokens.revoke(session, user.id, token_id, client_info(request))
    return see_other("/account/tokens")


@router.post("/account/totp/{factor_id}/remove")
def remove_totp(request: Request, user: CurrentUser, factor_id: str) -> Response:
    return _remove_factor(request, user, lambda: context_of(request).accounts.remove_totp(user.id, factor_id, client_info(request)))


@router.post("/account/passkeys/{passkey_id}/remove")
def remove_passkey(request: Request, user: CurrentUser, passkey_id: str) -> Response:
    return _remove_factor(request, user, lambda: context_of(request).accounts.remove_passkey(user.id, passkey_id, client_info(request)))


def _remove_factor(request: Request, user: User, remove) -> Response:
    if not stepped_up(request):
        return see_other("/account/confirm?next=/account")
    try:
        remove()
    except ValidationFailed:
        return see_other("/account?problem=last-factor")
    return see_other("/account")


@router.post("/account/recovery-codes")
def renew_recovery_codes(request: Request, user: CurrentUser) -> Response:
    if not stepped_up(request):
        return see_other("/account/confirm?next=/account")
    row = current_session(request)
    assert row is not None
    write_scratch(row, recovery_codes_due=True, after_codes="/account")
    save_session(request, row)
    return see_other("/setup/recovery-codes")


# -- confirming it is you again (step-up) -----------------------------------------

def _confirm_page(request: Request, user: User, next: str, status: int = 200, errors=None, problem=None) -> Response:
    context = context_of(request)
    with context.db.session() as session:
        has_totp = bool(context.accounts.totp_factors(session, user.id))
        has_passkey = bool(context.passkeys.list_for(session, user.id))
    return render(
        request, "confirm.html", status, next=safe_next(next, "/account"), has_totp=has_totp,
        has_passkey=has_passkey, errors=errors or {}, problem=problem,
    )


@router.get("/account/confirm")
def confirm_page(request: Request, user: CurrentUser, next: str = "/account") -> Response:
    return _confirm_page(request, user, next)


@router.post("/account/confirm")
def confirm(request: Request, user: CurrentUser, code: FormText = "", next: FormText = "/account") -> Response:
    context = context_of(request)
    if not code.strip():
        return _confirm_page(request, user, next, 422, errors=translated(request, {"code": "code-required"}))
    try:
        context.accounts.verify_second_factor(user.id, code, client_info(request))
    except Throttled as exc:
        return _confirm_page(request, user, next, 429, problem=throttle_text(request, exc))
    except InvalidSecondFactor:
        return _confirm_page(request, user, next, 401, errors=translated(request, {"code": "invalid-second-factor"}))
    _mark_stepped_up(request)
    return see_other(safe_next(next, "/account"))


def _mark_stepped_up(request: Request) -> None:
    """Raised privileges get a new session token, like a login does."""
    context = context_of(request)
    old = current_session(request)
    assert old is not None and old.user_id is not None
    row = start_session(request, old.user_id, "full")
    row.step_up_until = utcnow() + timedelta(minutes=context.settings.step_up_minutes)
    save_session(request, row)


@router.post("/account/confirm/passkey/options")
def confirm_passkey_options(request: Request, user: CurrentUser) -> Response:
    return passkey_options(request, user.id)


@router.post("/account/confirm/passkey/verify")
async def confirm_passkey_verify(request: Request, user: CurrentUser, next: str = "/account") -> Response:
    body = await request.body()
    return await run_in_threadpool(_confirm_passkey_verify, request, user, body, next)


def _confirm_passkey_verify(request: Request, user: User, body: bytes, next: str) -> Response:
    # The log-in passkey step decides (throttle, failures, lock answer): a failure that locks
    # the account answers 429 with the lock message here as it does at log-in.
    refused = passkey_refusal(request, user.id, body)
    if refused is not None:
        return refused
    _mark_stepped_up(request)
    return JSONResponse({"redirect": safe_next(next, "/account")})
