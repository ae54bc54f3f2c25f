"""Who is asking: the one place that decides, for pages and API alike.

Pages: a full session, else a redirect to the step the visitor is at.
API: a bearer token or a full session, else a 401 problem document.
CSRF: every state-changing request made with a session cookie carries the
session's token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""
from __future__ import annotations

import hmac
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request

from regie.accounts import tokens
from regie.store.models import User
from regie.store.types import utcnow
from regie.web.problems import Problem
from regie.web.sessions import context_of, current_session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A cross-site form cannot send a JSON body, so JSON login needs no token (see docs/security.md).
CSRF_EXEMPT_JSON_PATHS = {"/api/v1/auth/login"}


class RedirectTo(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class CsrfFailed(Exception):
    pass


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def csrf_guard(request: Request) -> None:
    """App-wide dependency: runs before every route."""
    if request.method in SAFE_METHODS:
        return
    if _bearer(request) is not None and request.url.path.startswith("/api/"):
        return  # no cookie involved, nothing a foreign site could ride on
    content_type = request.headers.get("content-type", "")
    if request.url.path in CSRF_EXEMPT_JSON_PATHS and content_type.startswith("application/json"):
        return
    session = current_session(request)
    submitted = request.headers.get("x-csrf-token")
    if submitted is None and (
        content_type.startswith("application/x-www-form-urlencoded") or content_type.startswith("multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    if session is None or not submitted or not hmac.compare_digest(submitted, session.csrf_token):
        raise CsrfFailed()


def page_user(request: Request) -> User:
    """Dependency for pages that need a signed-in user."""
    session = current_session(request)
    if session is None or session.user_id is None or session.stage == "anonymous":
        raise RedirectTo(f"/login?next={quote(request.url.path)}")
    if session.stage == "enrol":
        raise RedirectTo("/setup")
    if session.stage == "second_factor":
        raise RedirectTo("/login/second-factor")
    user = _load_user(request, session.user_id)
    if user is None:
        raise RedirectTo("/login")
    return user


def api_user(request: Request) -> User:
    """Dependency for API operations: bearer token or a fully signed-in session."""
    context = context_of(request)
    token = _bearer(request)
    if token is not None:
        with context.db.session() as session:
            user = tokens.authenticate(session, token)
        if user is None:
            raise Problem(401, "unauthenticated", "The API token is unknown or revoked.")
        request.state.auth_channel = "token"
        return user
    web = current_session(request)
    if web is None or web.stage != "full" or web.user_id is None:
        raise Problem(401, "unauthenticated", "Log in or send an API token as 'Authorization: Bearer …'.")
    user = _load_user(request, web.user_id)
    if user is None:
        raise Problem(401, "unauthenticated")
    request.state.auth_channel = "session"
    return user


def stepped_up(request: Request, now: datetime | None = None) -> bool:
    """True when the second factor was given again within the last few minutes."""
    session = current_session(request)
    until = session.step_up_until if session is not None else None
    return until is not None and until > (now or utcnow())


def _load_user(request: Request, user_id: str) -> User | None:
    context = context_of(request)
    with context.db.session() as session:
        return context.accounts.user(session, user_id)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect to another site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ch in target for ch in "\r\n\t") or target.startswith("/\\"):
        return default
    return target
