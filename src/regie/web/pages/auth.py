"""Log in (password, then second factor or recovery code), log out.

Registration is in regie.web.pages.registration, the password reset in
regie.web.pages.password_reset.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from regie.accounts import activity
from regie.accounts.errors import InvalidCredentials, InvalidSecondFactor, Throttled
from regie.accounts.sessions import read_scratch, write_scratch
from regie.web.guards import safe_next
from regie.web.pages._helpers import gettext_for, see_other, throttle_text, translated
from regie.web.pages._passkey_step import passkey_options, passkey_verify
from regie.web.messages import message
from regie.web.sessions import (
    client_info,
    context_of,
    current_session,
    end_session,
    save_session,
    start_session,
)
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


@router.get("/login")
def login_page(request: Request, next: str = "/", logged_out: int = 0, expired: int = 0) -> Response:
    gettext = gettext_for(request)
    notice = None
    if logged_out:
        notice = gettext("You are logged out.")
    elif expired:
        notice = gettext("You were logged out because you were away for a while. Log in again.")
    return render(request, "login.html", errors={}, email="", next=safe_next(next), notice=notice, problem=None)


@router.post("/login")
def login(request: Request, email: FormText = "", password: FormText = "", next: FormText = "/") -> Response:
    context = context_of(request)
    target = safe_next(next)
    gettext = gettext_for(request)

    def again(status: int, problem: str | None = None, errors: dict[str, str] | None = None) -> Response:
        return render(request, "login.html", status, errors=errors or {}, email=email, next=target, notice=None, problem=problem)

    missing = {k: v for k, v in {"email": "email-required" if not email.strip() else "", "password": "password-required" if not password else ""}.items() if v}
    if missing:
        return again(422, errors=translated(request, missing))
    try:
        user = context.accounts.check_password(email, password, client_info(request))
    except Throttled as exc:
        return again(429, throttle_text(request, exc))
    except InvalidCredentials:
        return again(401, gettext(message("invalid-credentials")))
    with context.db.session() as session:
        enrolled = context.accounts.has_second_factor(session, user.id)
    row = start_session(request, user.id, "second_factor" if enrolled else "enrol")
    write_scratch(row, next=target)
    save_session(request, row)
    return see_other("/login/second-factor" if enrolled else "/setup")


def _pending_user_id(request: Request) -> str | None:
    row = current_session(request)
    if row is None or row.stage != "second_factor" or row.user_id is None:
        return None
    return row.user_id


def _second_factor_page(request: Request, template: str, status: int = 200, problem: str | None = None, errors=None) -> Response:
    context = context_of(request)
    user_id = _pending_user_id(request)
    assert user_id is not None
    with context.db.session() as session:
        has_totp = bool(context.accounts.totp_factors(session, user_id))
        has_passkey = bool(context.passkeys.list_for(session, user_id))
    if problem is None and status == 200:
        kind = "recovery" if template == "recovery_login.html" else "totp"
        current = context.accounts.second_factor_throttle(user_id, client_info(request), kind)
        if current is not None and current.locked:
            problem = throttle_text(request, current)
    return render(request, template, status, has_totp=has_totp, has_passkey=has_passkey, problem=problem, errors=errors or {})


@router.get("/login/second-factor")
def second_factor_page(request: Request) -> Response:
    if _pending_user_id(request) is None:
        return see_other("/login")
    return _second_factor_page(request, "second_factor.html")


@router.post("/login/second-factor")
def second_factor(request: Request, code: FormText = "") -> Response:
    return _check_code(request, code, "second_factor.html")


@router.get("/login/recovery")
def recovery_page(request: Request) -> Response:
    if _pending_user_id(request) is None:
        return see_other("/login")
    return _second_factor_page(request, "recovery_login.html")


@router.post("/login/recovery")
def recovery_login(request: Request, code: FormText = "") -> Response:
    return _check_code(request, code, "recovery_login.html")


def _check_code(request: Request, code: str, template: str) -> Response:
    kind = "recovery" if template == "recovery_login.html" else "totp"
    context = context_of(request)
    user_id = _pending_user_id(request)
    if user_id is None:
        return see_other("/login")
    if not code.strip():
        return _second_factor_page(request, template, 422, errors=translated(request, {"code": "code-required"}))
    try:
        context.accounts.verify_second_factor(user_id, code, client_info(request), kind)
    except Throttled as exc:
        return _second_factor_page(request, template, 429, problem=throttle_text(request, exc))
    except InvalidSecondFactor:
        wrong = "recovery-code-wrong" if kind == "recovery" else "invalid-second-factor"
        return _second_factor_page(request, template, 401, errors=translated(request, {"code": wrong}))
    return finish_login(request, user_id)


def finish_login(request: Request, user_id: str) -> Response:
    """The second factor was right: a new, full session, then on to where the user was going."""
    context = context_of(request)
    old = current_session(request)
    target = safe_next(read_scratch(old).get("next") if old else None)
    start_session(request, user_id, "full")
    with context.db.session() as session:
        activity.record(session, user_id, "login", client_info(request))
    return see_other(target)


@router.post("/login/passkey/options")
def passkey_login_options(request: Request) -> Response:
    user_id = _pending_user_id(request)
    if user_id is None:
        return JSONResponse({"error": "not-in-login"}, status_code=409)
    return passkey_options(request, user_id)


@router.post("/login/passkey/verify")
async def passkey_login_verify(request: Request) -> Response:
    credential = await request.body()
    return await run_in_threadpool(_passkey_login_verify, request, credential)


def _passkey_login_verify(request: Request, credential: bytes) -> Response:
    user_id = _pending_user_id(request)
    if user_id is None:
        return JSONResponse({"error": "not-in-login"}, status_code=409)
    return passkey_verify(request, user_id, credential, lambda: finish_login(request, user_id))


@router.post("/logout")
def logout(request: Request) -> Response:
    context = context_of(request)
    row = current_session(request)
    if row is not None and row.user_id and row.stage == "full":
        with context.db.session() as session:
            activity.record(session, row.user_id, "logout", client_info(request))
    end_session(request)
    return see_other("/login?logged_out=1")

