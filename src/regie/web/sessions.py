"""Loads the server-side session for each request and writes its cookie.

Handlers change sessions only through the helpers below; the middleware then
sets or clears the cookie on the way out.
"""
from __future__ import annotations

from http.cookies import SimpleCookie

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regie.accounts.activity import ClientInfo
from regie.accounts.sessions import read_scratch, write_scratch
from regie.store.models import WebSession
from regie.store.types import utcnow
from regie.web.context import AppContext

SESSION_COOKIE = "regie_session"


class WebSessionMiddleware:
    def __init__(self, app: ASGIApp, *, context: AppContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        token = _cookie(scope, SESSION_COOKIE)
        state["web_session"] = await anyio.to_thread.run_sync(self._load, token) if token else None
        state["session_cookie"] = None  # ("set", token) or ("clear", "")
        secure = self.context.settings.https or scope.get("scheme") == "https"
        max_age = self.context.settings.session_absolute_hours * 3600

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get("session_cookie"):
                action, value = state["session_cookie"]
                cookie = f"{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"
                cookie += f"; Max-Age={max_age}" if action == "set" else "; Max-Age=0"
                if secure:
                    cookie += "; Secure"
                message["headers"] = list(message.get("headers", [])) + [(b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, token: str) -> WebSession | None:
        with self.context.db.session() as session:
            return self.context.accounts.sessions.load(session, token, utcnow())


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", []):
        if header == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            if name in jar:
                return jar[name].value
    return None


def context_of(request: Request) -> AppContext:
    return request.app.state.context


def client_info(request: Request) -> ClientInfo:
    host = request.client.host if request.client else ""
    return ClientInfo(ip=host, user_agent=request.headers.get("user-agent", ""))


def current_session(request: Request) -> WebSession | None:
    return getattr(request.state, "web_session", None)


def ensure_session(request: Request) -> WebSession:
    """The visitor's session, created (anonymous) when there is none yet."""
    existing = current_session(request)
    if existing is not None:
        return existing
    context = context_of(request)
    with context.db.session() as session:
        token, row = context.accounts.sessions.create(session, client_info(request), utcnow())
    request.state.web_session = row
    request.state.session_cookie = ("set", token)
    return row


def start_session(request: Request, user_id: str, stage: str) -> WebSession:
    """Log in (or move to another stage) with a new session token."""
    context = context_of(request)
    with context.db.session() as session:
        token, row = context.accounts.sessions.rotate(
            session, current_session(request), client_info(request), utcnow(), user_id=user_id, stage=stage
        )
    request.state.web_session = row
    request.state.session_cookie = ("set", token)
    return row


def end_session(request: Request) -> None:
    context = context_of(request)
    row = current_session(request)
    if row is not None:
        with context.db.session() as session:
            context.accounts.sessions.destroy(session, row)
    request.state.web_session = None
    request.state.session_cookie = ("clear", "")


def remember(request: Request, **values) -> None:
    """Keep short-lived ceremony values (a WebAuthn challenge) in the session."""
    row = current_session(request)
    assert row is not None
    write_scratch(row, **values)
    save_session(request, row)


def take(request: Request, key: str):
    """A value kept with :func:`remember`, forgotten as it is read: challenges are single use."""
    row = current_session(request)
    if row is None:
        return None
    value = read_scratch(row).get(key)
    if value is not None:
        write_scratch(row, **{key: None})
        save_session(request, row)
    return value


def save_session(request: Request, row: WebSession) -> None:
    """Persist changes to the session row (scratch data, step-up time)."""
    context = context_of(request)
    with context.db.session() as session:
        session.merge(row)
