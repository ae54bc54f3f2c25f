"""The PGO side of MedMij OAuth: the authorization request and the token endpoint.

Hand-built on httpx (see docs/decisions/0003-collect.md): every call needs MedMij's own
headers (a fresh ``MedMij-Request-ID`` per request, one ``X-Correlation-ID`` from the
authorization request to the token request), every URL passes the Whitelist and URL
policy first, redirects are never followed, and errors must map to specific receipt
lines. Authlib supplies the PKCE S256 computation.

Tokens never reach a log line or the database: :class:`TokenResponse` hides them from
``repr``.
"""
from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from regie.errors import RegieError

STATE_BYTES = 32
VERIFIER_BYTES = 48  # 64 characters, within RFC 7636's 43-128


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str = field(repr=False)
    verifier: str = field(repr=False)
    correlation_id: str


def scope_for(provider: str, service_ids: list[str] | tuple[str, ...]) -> str:
    """``<provider>~<id> <provider>~<id>``: all services of one provider, one consent."""
    naam = provider.removesuffix("@medmij")
    return " ".join(f"{naam}~{sid}" for sid in service_ids)


def authorization_request(
    authorization_endpoint: str, *, client_id: str, redirect_uri: str, provider: str,
    service_ids: list[str] | tuple[str, ...], long_lived: bool = False, state_prefix: str = "",
) -> AuthorizationRequest:
    # state_prefix: Regie's user id, so the callback's lookup names the user (docs/scale.md).
    state = state_prefix + secrets.token_urlsafe(STATE_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    correlation_id = new_request_id()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope_for(provider, service_ids),
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        "MedMij-Request-ID": new_request_id(),
        "X-Correlation-ID": correlation_id,
    }
    if long_lived:
        params["long_lived"] = "true"  # the sandbox's design; see docs/sandbox.md
    separator = "&" if "?" in authorization_endpoint else "?"
    return AuthorizationRequest(f"{authorization_endpoint}{separator}{urlencode(params)}",
                                state, verifier, correlation_id)


@dataclass(frozen=True)
class TokenResponse:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int | None
    scope: str | None


class TokenError(RegieError):
    """The token endpoint refused or failed. ``code``: the OAuth error (``invalid_grant``
    …) or ``http-<status>``, ``timeout``, ``connection``, ``bad-answer``."""

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from datetime import datetime, timezone

        moment = parsedate_to_datetime(value)
        return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


async def _token_call(
    http: httpx.AsyncClient, token_endpoint: str, form: dict[str, str], *, correlation_id: str,
    retry_after_max: float = 30.0,
) -> TokenResponse:
    """POST to the token endpoint. Retried once, and only when the server said it did not
    process the request (429 or 503 with a Retry-After within our limit): a code is single
    use, so a blind retry after a timeout could burn it."""
    for attempt in (1, 2):
        headers = {"MedMij-Request-ID": new_request_id(), "X-Correlation-ID": correlation_id,
                   "Accept": "application/json"}
        try:
            response = await http.post(token_endpoint, data=form, headers=headers)
        except httpx.TimeoutException as exc:
            raise TokenError("timeout", f"token endpoint timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise TokenError("connection", f"token endpoint: {type(exc).__name__}") from exc
        if response.status_code in (429, 503) and attempt == 1:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is not None and wait <= retry_after_max:
                await asyncio.sleep(wait)
                continue
        break
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and isinstance(body.get("access_token"), str):
        expires = body.get("expires_in")
        return TokenResponse(
            body["access_token"],
            body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None,
            int(expires) if isinstance(expires, int | float) else None,
            body.get("scope") if isinstance(body.get("scope"), str) else None,
        )
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = body["error"][:40]
        return_detail = f"token endpoint answered {response.status_code} {code}"
        raise TokenError(code, return_detail, status=response.status_code)
    if response.status_code == 200:
        raise TokenError("bad-answer", "token endpoint answered 200 without an access token", status=200)
    raise TokenError(f"http-{response.status_code}", f"token endpoint answered {response.status_code}",
                     status=response.status_code)


async def exchange_code(
    http: httpx.AsyncClient, token_endpoint: str, *, code: str, redirect_uri: str, client_id: str,
    verifier: str, correlation_id: str, retry_after_max: float = 30.0,
) -> TokenResponse:
    return await _token_call(http, token_endpoint, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client_id, "code_verifier": verifier,
    }, correlation_id=correlation_id, retry_after_max=retry_after_max)


async def refresh(
    http: httpx.AsyncClient, token_endpoint: str, *, refresh_token: str, client_id: str,
    correlation_id: str, retry_after_max: float = 30.0,
) -> TokenResponse:
    return await _token_call(http, token_endpoint, {
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
    }, correlation_id=correlation_id, retry_after_max=retry_after_max)
