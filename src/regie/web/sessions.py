"""Loads the server-side session for each request and writes its cookie.

Handlers change sessions only through the helpers below; the middleware then
sets or clears the cookie on the way out.

One thread hop and one database connection (autocommit) per request load the session, its user and,
for a signed-in session, the access policy's grant on the user's own record
(:func:`regie.web.guards.prefetch_own_grant`): a request for one's own record then
decides its access without going to the database (or a worker thread) again. The one-step
item read (:mod:`regie.web.item_read`) loads it the same way in its own hop; the middleware
then finds it loaded (``LOADED_FOR``) and does not load it again.
"""
from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regie.accounts.activity import ClientInfo
from regie.accounts.sessions import read_scratch, write_scratch
from regie.store.models import WebSession
from regie.store.types import utcnow
from regie.web.blocking import run_blocking
from regie.web.context import AppContext

SESSION_COOKIE = "regie_session"
# Health checks and static files never use the session: no database work for them.
_SESSIONLESS = ("/healthz", "/readyz", "/static/")
# Which token the request's state holds the session of (loaded once per request).
LOADED_FOR = "web_session_loaded_for"


class WebSessionMiddleware:
    def __init__(self, app: ASGIApp, *, context: AppContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        token = None if scope.get("path", "").startswith(_SESSIONLESS) else _cookie(scope, SESSION_COOKIE)
        if token and state.get(LOADED_FOR) == token:
            token = None  # loaded already, on the way in (regie.web.item_read)
        else:
            state["web_session"] = None
        if token:
            try:
                await run_blocking(self.context, load_session, self.context, token, state, scope.get("app"))
            except OperationalError as exc:
                # The database went away before any route ran (outside the app's error
                # handlers): the same friendly 503 "try again" a route gives, not a bare 500.
                from regie.web.app import database_unavailable

                await database_unavailable(Request(scope), exc)(scope, receive, send)
                return
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


def load_session(context: AppContext, token: str, state: dict, app, connection: Connection | None = None) -> None:
    """The session of ``token`` with its user and own grant, into the request's ``state``.
    ``connection``: an autocommit connection the caller goes on using (the item read)."""
    from regie.web.guards import prefetch_own_grant  # guards imports this module

    if connection is None:
        # Autocommit: reads, and at most one single-statement write (the last-seen stamp, or
        # deleting an expired session); no BEGIN/COMMIT round trips.
        with context.db.autocommit_engine.connect() as own:
            load_session(context, token, state, app, own)
        return
    row, user = context.accounts.sessions.load_for_request(connection, token, utcnow())
    state["web_session"] = row
    if row is not None and user is not None and row.user_id == user.id:
        state["session_user"] = user
        if row.stage == "full" and app is not None:
            prefetch_own_grant(connection, app, user, state)
    state[LOADED_FOR] = token


def session_token(scope: Scope) -> str | None:
    """The session cookie's token (None: no session cookie)."""
    return _cookie(scope, SESSION_COOKIE)


def _cookie(scope: Scope, name: str) -> str | None:
    """The value of one cookie. Our tokens are URL-safe base64, so a plain split suffices
    (http.cookies.SimpleCookie parses every cookie of the header with regular expressions)."""
    prefix = name + "="
    for header, value in scope.get("headers", []):
        if header == b"cookie":
            for part in value.decode("latin-1").split(";"):
                part = part.strip()
                if part.startswith(prefix):
                    found = part[len(prefix):].strip('"')
                    return found or None
    return None


def context_of(request: Request) -> AppContext:
    return request.app.state.context


def client_info(request: Request) -> ClientInfo:
    host = request.client.host if request.client else ""
    return ClientInfo(ip=host, user_agent=request.headers.get("user-agent", ""))


def current_session(request: Request) -> WebSession | None:
    return getattr(request.state, "web_session", None)


def session_user(request: Request, user_id: str):
    """The session's user as loaded with the session this request (None: not loaded)."""
    user = getattr(request.state, "session_user", None)
    return user if user is not None and user.id == user_id else None


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
        context.record_pages.forget_session(row.id)
    request.state.web_session = None
    request.state.session_user = None
    request.state.own_grant = None
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
