"""Who is asking: the one place that decides, for pages and API alike.

Pages: a full session, else a redirect to the step the visitor is at.
API: a bearer token or a full session, else a 401 problem document.
CSRF: every state-changing request made with a session cookie carries the
session's token (form field ``csrf_token`` or header ``X-CSRF-Token``).
Records: :func:`record_access` (pages) and :func:`api_record_access` (API) decide whose
record a request acts on and whether the signed-in person may, through the one policy in
``regie.access`` (docs/delegation.md); :func:`page_owner` and :func:`api_owner` give the
record's owner for handlers written against ``page_user``/``api_user``.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from regie.access import PUBLIC, SELF, Grant, Need, allows, need_of
from regie.accounts import tokens
from regie.accounts.sessions import read_scratch, write_scratch
from regie.store import acting
from regie.store.models import User
from regie.store.types import utcnow
from regie.web.blocking import run_blocking
from regie.web.problems import Problem
from regie.web.sessions import context_of, current_session, save_session, session_user
from regie.web.uploads import form_options

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
    """Before every route (through :func:`request_guard`)."""
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
        form = await request.form(**form_options(request.url.path))  # upload limits: regie.web.uploads
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
    loaded = session_user(request, user_id)  # read with the session, this request
    if loaded is not None:
        return loaded
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


# -- whose record: the access policy on every request -----------------------------------
ACTING_KEY = "acting_for"


class AccessRefused(HTTPException):
    """The signed-in person may not do this on this record (a 403 page or problem)."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__(403)
        self.ended = ended  # the delegation is gone (revoked, expired): back to one's own record


@dataclass(frozen=True)
class AccessContext:
    actor: User
    owner: User
    grant: Grant
    label: str  # whose record, for the page ("" when it is the actor's own)

    @property
    def owner_id(self) -> str:
        return self.owner.id

    @property
    def for_other(self) -> bool:
        return self.owner.id != self.actor.id


def delegations_of(app):
    service = getattr(app.state, "delegations", None)
    if service is None:
        from regie.delegation import Delegations

        service = app.state.delegations = Delegations(app.state.context.accounts)
    return service


def acting_for(request: Request) -> str | None:
    """The record the session chose to act on (None: one's own). Tokens act on their own."""
    if getattr(request.state, "auth_channel", "session") == "token":
        return None
    web = current_session(request)
    return read_scratch(web).get(ACTING_KEY) if web is not None else None


def choose_record(request: Request, owner_id: str | None) -> None:
    web = current_session(request)
    if web is not None:
        write_scratch(web, **{ACTING_KEY: owner_id})
        save_session(request, web)


def prefetch_own_grant(connection, app, user: User, state: dict) -> None:
    """The policy's grant of ``user`` on their own record, computed while the session is
    loaded (same connection, same thread): :func:`_access` takes it instead of asking the
    database again. Only the own record: a delegate's grant is always read when used."""
    from regie.access.grants import own_grant

    service = delegations_of(app)
    managed = service.accounts.sessions.queries(connection.dialect).managed_record(connection, user.id)
    state["own_grant"] = own_grant(service.keyring, user, managed, service.today())


def _own_grant(request: Request, actor: User) -> Grant | None:
    grant = getattr(request.state, "own_grant", None)
    return grant if grant is not None and grant.owner_id == actor.id and grant.actor_id == actor.id else None


def _access(request: Request, actor: User) -> AccessContext:
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    need = need_of(method, getattr(route, "path", ""))
    chosen = acting_for(request)
    owner_id = chosen if chosen and isinstance(need, Need) else actor.id
    service = delegations_of(request.app)
    grant = (_own_grant(request, actor) if owner_id == actor.id else None) or service.grant(actor, owner_id)
    if grant is None and owner_id != actor.id:
        choose_record(request, None)  # revoked or expired: this session is back on its own record
        raise AccessRefused(ended=True)
    if grant is None or (owner_id != actor.id and not isinstance(need, Need)):
        raise AccessRefused()
    if isinstance(need, Need) and not allows(grant, need, dict(request.path_params)):
        raise AccessRefused()
    if owner_id == actor.id:
        return AccessContext(actor, actor, grant, "")
    context = context_of(request)
    with context.db.session() as session:
        owner = context.accounts.user(session, owner_id)
    if owner is None:
        raise AccessRefused(ended=True)
    return AccessContext(actor, owner, grant, service.owner_label(owner_id))


def _enter(request: Request, access: AccessContext) -> AccessContext:
    """Make the decision the request's: the page banner and the record store's scope."""
    request.state.access = access
    acting.current.set(
        acting.ActingScope(access.owner.id, access.actor.id, access.grant.categories) if access.for_other else None
    )
    return access


def _page_access(request: Request) -> AccessContext:
    return _access(request, page_user(request))


def _api_access(request: Request) -> AccessContext:
    return _access(request, api_user(request))


def _decided_without_database(request: Request) -> bool:
    """Whether :func:`_access` can run on the event loop: the session's user and own grant
    were loaded with the session and the request is about the user's own record (or is
    refused before any lookup). Otherwise it reads the database, in a worker thread."""
    if _bearer(request) is not None:
        return False
    web = current_session(request)
    if web is None or web.user_id is None or web.stage != "full":
        return True  # a redirect to the log-in step, or a 401: no lookup
    user = session_user(request, web.user_id)
    if user is None or _own_grant(request, user) is None:
        return False
    chosen = read_scratch(web).get(ACTING_KEY)
    return not chosen or chosen == web.user_id


def own_record_access(request: Request) -> AccessContext | None:
    """:func:`api_record_access`'s decision when it needs nothing beyond what the session
    load brought (a full session, its user and own grant, no other record chosen): entered
    for the request the same way. None in every other case (a token, a delegation, a refusal):
    the route's own dependencies then decide, as always (used by :mod:`regie.web.item_read`)."""
    if _bearer(request) is not None:
        return None
    web = current_session(request)
    if web is None or web.stage != "full" or web.user_id is None or not _decided_without_database(request):
        return None
    try:
        return _enter(request, _api_access(request))
    except (AccessRefused, Problem):
        return None


async def record_access(request: Request) -> AccessContext:
    """Dependency for pages acting on a record (async: the store's scope must reach the handler)."""
    if _decided_without_database(request):
        return _enter(request, _page_access(request))
    return _enter(request, await run_blocking(context_of(request), _page_access, request))


async def api_record_access(request: Request) -> AccessContext:
    try:
        if _decided_without_database(request):
            return _enter(request, _api_access(request))
        return _enter(request, await run_blocking(context_of(request), _api_access, request))
    except AccessRefused as exc:
        detail = ("Your access to this record has ended." if exc.ended
                  else "You may not do this on this record.")
        raise Problem(403, "forbidden", detail) from exc


async def page_owner(request: Request) -> User:
    """Like :func:`page_user`, but the owner of the record the request acts on."""
    return (await record_access(request)).owner


async def api_owner(request: Request) -> User:
    return (await api_record_access(request)).owner


POLICY_DEPENDENCIES = {"record_access", "api_record_access", "page_owner", "api_owner"}
_policy_aware: dict[int, bool] = {}


def uses_policy(route) -> bool:
    """Whether a route takes its record from the policy (a dependency above, at any depth)."""
    key = id(route)
    if getattr(route, "path", "") == "/":
        return True  # the start page (also for visitors) calls page_access_for itself
    if key not in _policy_aware:
        def walk(dependant) -> bool:
            return any(getattr(d.call, "__name__", "") in POLICY_DEPENDENCIES and
                       getattr(d.call, "__module__", "") == __name__ or walk(d) for d in dependant.dependencies)
        _policy_aware[key] = walk(route.dependant) if hasattr(route, "dependant") else False
    return _policy_aware[key]


async def access_guard(request: Request) -> None:
    """Before every route, after :func:`csrf_guard` (through :func:`request_guard`): while a
    session acts on someone else's record, a route may only run when the policy covers it. Routes that take their record
    from the policy decide themselves (with the action they need); a route without a policy
    entry, or one still reading the signed-in user only, is refused: it would otherwise show
    the helper's own record under someone else's name, or worse, act in the wrong record."""
    if _bearer(request) is not None:
        return  # tokens act on their own record only
    web = current_session(request)
    if web is None or web.stage != "full" or web.user_id is None:
        return
    chosen = read_scratch(web).get(ACTING_KEY)
    if not chosen or chosen == web.user_id:
        return
    request.state.acting_other = True  # for the banner of pages about one's own account
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    need = need_of(method, getattr(route, "path", ""))
    if need in (SELF, PUBLIC) or (isinstance(need, Need) and uses_policy(route)):
        return
    raise AccessRefused()


async def request_guard(request: Request) -> None:
    """The app-wide dependency: :func:`csrf_guard`, then :func:`access_guard`. One dependency,
    not two: FastAPI's work per dependency (cache keys, parameter solving) is a measurable
    share of a short request (docs/benchmarks.md, Load)."""
    await csrf_guard(request)
    await access_guard(request)


def page_access_for(request: Request, actor: User) -> AccessContext:
    """For handlers that found the signed-in user themselves (the start page)."""
    return _enter(request, _access(request, actor))


def actor_names(request: Request, actor_ids: set[str]) -> dict[str, str]:
    """Names for the audit log ("who looked at my data"): everyone but the signed-in person."""
    access = getattr(request.state, "access", None)
    me = access.actor.id if access is not None else None
    service = delegations_of(request.app)
    return {actor_id: service.owner_label(actor_id) for actor_id in actor_ids if actor_id != me}
