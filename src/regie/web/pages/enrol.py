"""Setting up a second factor: the TOTP app or a passkey, then recovery codes.

Reachable right after registration (stage ``enrol``, nothing else is) and
later from the security page (a full session that confirmed itself again).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from regie.accounts import activity, totp
from regie.accounts.errors import InvalidSecondFactor, ValidationFailed
from regie.accounts.sessions import read_scratch, write_scratch
from regie.web.guards import stepped_up
from regie.web.pages._helpers import see_other, translated
from regie.web.sessions import client_info, context_of, current_session, remember, save_session, start_session, take
from regie.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


def _enrolling(request: Request) -> tuple[str, bool] | Response:
    """(user id, first factor?) or where to send the visitor instead."""
    row = current_session(request)
    if row is None or row.user_id is None or row.stage in ("anonymous", "second_factor"):
        return see_other("/login")
    if row.stage == "enrol":
        return row.user_id, True
    if not stepped_up(request):
        return see_other(f"/account/confirm?next={request.url.path}")
    return row.user_id, False


@router.get("/setup")
def setup(request: Request) -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return who
    return render(request, "setup.html")


def _totp_page(request: Request, user_id: str, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    context = context_of(request)
    row = current_session(request)
    assert row is not None
    pending = None
    factor_id = read_scratch(row).get("totp_factor")
    if factor_id:
        pending = context.accounts.pending_totp(user_id, factor_id)
    if pending is None:
        pending = context.accounts.begin_totp(user_id)
        write_scratch(row, totp_factor=pending.factor_id)
        save_session(request, row)
    return render(
        request,
        "setup_totp.html",
        status,
        qr=totp.qr_svg(pending.uri),
        secret=pending.secret,
        secret_grouped=totp.format_secret(pending.secret),
        errors=errors or {},
        problem=None,
    )


@router.get("/setup/totp")
def setup_totp_page(request: Request) -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return who
    return _totp_page(request, who[0])


@router.post("/setup/totp")
def setup_totp(request: Request, code: FormText = "") -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return who
    user_id, first = who
    context = context_of(request)
    row = current_session(request)
    assert row is not None
    factor_id = read_scratch(row).get("totp_factor")
    if not code.strip():
        return _totp_page(request, user_id, 422, translated(request, {"code": "code-required"}))
    try:
        if not factor_id:
            raise InvalidSecondFactor("no pending set-up")
        context.accounts.confirm_totp(user_id, factor_id, code, client_info(request))
    except ValidationFailed as exc:
        return _totp_page(request, user_id, 422, translated(request, exc.errors))
    except InvalidSecondFactor:
        write_scratch(row, totp_factor=None)
        save_session(request, row)
        return _totp_page(request, user_id, 422, translated(request, {"code": "session-expired"}))
    write_scratch(row, totp_factor=None)
    save_session(request, row)
    return _factor_added(request, user_id, first)


def _factor_added(request: Request, user_id: str, first: bool) -> Response:
    """After the first factor: a full session and the recovery codes; later: back to security."""
    if first:
        context = context_of(request)
        row = start_session(request, user_id, "full")
        write_scratch(row, recovery_codes_due=True, after_codes="/")
        save_session(request, row)
        with context.db.session() as session:
            activity.record(session, user_id, "login", client_info(request))
        return see_other("/setup/recovery-codes")
    return see_other("/account?added=1")


@router.get("/setup/passkey")
def setup_passkey_page(request: Request) -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return who
    return render(request, "setup_passkey.html")


@router.post("/setup/passkey/options")
def setup_passkey_options(request: Request) -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return JSONResponse({"error": "not-allowed"}, status_code=403)
    context = context_of(request)
    with context.db.session() as session:
        user = context.accounts.user(session, who[0])
        assert user is not None
        ceremony = context.passkeys.registration_options(session, user)
    remember(request, passkey_challenge=ceremony.challenge)
    return Response(ceremony.options_json, media_type="application/json")


@router.post("/setup/passkey/verify")
async def setup_passkey_verify(request: Request, name: str = "") -> Response:
    body = await request.body()
    return await run_in_threadpool(_setup_passkey_verify, request, body, name)


def _setup_passkey_verify(request: Request, body: bytes, name: str) -> Response:
    who = _enrolling(request)
    if isinstance(who, Response):
        return JSONResponse({"error": "not-allowed"}, status_code=403)
    user_id, first = who
    context = context_of(request)
    challenge = take(request, "passkey_challenge")
    if not challenge:
        return JSONResponse({"error": "no-challenge"}, status_code=409)
    try:
        with context.db.session() as session:
            user = context.accounts.user(session, user_id)
            assert user is not None
            context.passkeys.register(session, user, body.decode("utf-8", "replace"), challenge, name, client_info(request))
    except ValidationFailed:
        return JSONResponse({"error": "passkey-registration-failed"}, status_code=400)
    response = _factor_added(request, user_id, first)
    return JSONResponse({"redirect": response.headers["location"]})


@router.get("/setup/recovery-codes")
def recovery_codes(request: Request) -> Response:
    """Codes are made on the page that shows them, so they are never stored in plain text."""
    row = current_session(request)
    if row is None or row.stage != "full" or row.user_id is None:
        return see_other("/login")
    scratch = read_scratch(row)
    codes: list[str] = []
    if scratch.get("recovery_codes_due"):
        context = context_of(request)
        codes = context.accounts.renew_recovery_codes(
            row.user_id, client_info(request), first=scratch.get("after_codes") == "/"
        )
        write_scratch(row, recovery_codes_due=None)
        save_session(request, row)
    response = render(request, "recovery_codes.html", codes=codes, next=scratch.get("after_codes") or "/account")
    return response
