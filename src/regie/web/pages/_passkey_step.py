"""The passkey as second factor, for every page that asks for one (log-in, password reset,
confirming it is you again before a sensitive account change).

The browser first asks for options (a challenge kept in the session, single use), then
sends what the authenticator signed. Failures count towards the same throttle as wrong app
codes. Each page decides whose account is being confirmed and what happens on success.
"""
from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from regie.accounts.errors import InvalidSecondFactor, Throttled
from regie.web.pages._helpers import throttle_text
from regie.web.sessions import client_info, context_of, remember, take

_CHALLENGE = "passkey_challenge"


def passkey_options(request: Request, user_id: str) -> Response:
    """The WebAuthn options for the account's passkeys; the challenge is kept in the session."""
    context = context_of(request)
    with context.db.session() as session:
        user = context.accounts.user(session, user_id)
        assert user is not None
        ceremony = context.passkeys.authentication_options(session, user)
    remember(request, **{_CHALLENGE: ceremony.challenge})
    return Response(ceremony.options_json, media_type="application/json")


def passkey_verify(request: Request, user_id: str, credential: bytes,
                   on_success: Callable[[], Response]) -> Response:
    """Check the signed challenge (throttled like a code); on success, where to go next as
    ``{"redirect": ...}`` from the redirect ``on_success`` answers."""
    refused = passkey_refusal(request, user_id, credential)
    if refused is not None:
        return refused
    return JSONResponse({"redirect": on_success().headers["location"]})


def passkey_refusal(request: Request, user_id: str, credential: bytes) -> Response | None:
    """None when the signed challenge is right; otherwise the answer: 409 without a challenge,
    401 for a wrong passkey, 429 with the lock message while locked or when this failure
    locks. The one place that decides, so every page answers a lock the same way."""
    challenge = take(request, _CHALLENGE)
    if not challenge:
        return JSONResponse({"error": "no-challenge"}, status_code=409)
    context = context_of(request)
    client = client_info(request)
    try:
        context.accounts.require_second_factor_allowed(user_id, client)
        with context.db.session() as session:
            user = context.accounts.user(session, user_id)
            assert user is not None
            context.passkeys.authenticate(session, user, credential.decode("utf-8", "replace"), challenge)
    except Throttled as exc:
        return _throttled(request, exc)
    except InvalidSecondFactor:
        try:
            context.accounts.record_second_factor_failure(user_id, client, "passkey")
        except Throttled as exc:
            return _throttled(request, exc)
        return JSONResponse({"error": "invalid-passkey"}, status_code=401)
    return None


def _throttled(request: Request, exc: Throttled) -> Response:
    return JSONResponse({"error": "throttled", "message": throttle_text(request, exc)}, status_code=429)
