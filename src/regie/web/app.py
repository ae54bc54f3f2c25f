"""The Regie web application: pages, the JSON API, static files."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from regie import __version__
from regie.config import Settings
from regie.store.migrate import require_current
from regie.web import health, metrics
from regie.web.api import auth as api_auth
from regie.web.api import collections as api_collections
from regie.web.api import owndata as api_owndata
from regie.web.api import record as api_record
from regie.web.api import sends as api_sends
from regie.web.asgi_middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from regie.web.context import AppContext
from regie.web.guards import AccessRefused, CsrfFailed, RedirectTo, request_guard
from regie.web.i18n import N_, translations
from regie.web.item_read import ItemReadMiddleware
from regie.web.kept_pages import KeptPageMiddleware
from regie.web.uploads import body_limits as upload_body_limits
from regie.web.pages import account, auth, enrol, home, password_reset, registration
from regie.web.pages import appointments as appointment_pages
from regie.web.pages import measurement_import, measurement_send
from regie.web.pages import notes as notes_pages
from regie.web.pages import owndata as owndata_pages
from regie.web.pages import collect as collect_pages
from regie.web.pages import emergency as emergency_pages
from regie.web.pages import leaving as leaving_pages
from regie.web.pages import sharelinks as sharelink_pages
from regie.web.pages import corrections as correction_pages
from regie.web.pages import questionnaires as questionnaire_pages
from regie.web.pages import delegation as delegation_pages
from regie.web.pages import providers as provider_pages
from regie.web.pages import portability as portability_pages
from regie.web.pages import record as record_pages
from regie.web.pages import share as share_pages
from regie.web.pages import viewer
from regie.web.problems import Problem, problem_response
from regie.web.request_log import RequestLogMiddleware, route_template
from regie.web.sessions import WebSessionMiddleware
from regie.web.templating import language_of, render

log = logging.getLogger("regie.web")
_STATIC = Path(__file__).parent / "static"

_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
    503: "unavailable",
}


def create_app(settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    settings = settings or Settings()
    context = AppContext.build(settings)
    if check_schema:
        require_current(context.db.engine)
    # Mutual TLS for collecting: half a setting or a missing file stops the start, not a collection.
    from regie.medmij.http import client_cert_of

    client_cert_of(settings)

    app = FastAPI(
        title="Regie API",
        version=__version__,
        description="The JSON API of Regie, a personal health environment (PGO). "
        "Authenticate with a session (POST /api/v1/auth/login) or an API token (Authorization: Bearer).",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from elsewhere; our CSP forbids that
        redoc_url=None,
        dependencies=[Depends(request_guard)],  # CSRF, then whose record (regie.access)
        lifespan=_lifespan,
    )
    app.state.context = context

    # The most requested routes first: FastAPI tries the routers in this order and each
    # router it passes costs a few microseconds (the record API was last: ~0.35 ms of CPU
    # per item read). No route shadows another (tests/web/test_route_order.py), so the order
    # changes nothing else; where paths overlap, the specific one still comes first.
    app.include_router(api_record.router)
    app.include_router(home.router)
    app.include_router(record_pages.router)
    app.include_router(viewer.router)  # after the upload page: /record/upload is not a category
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router)
    app.include_router(registration.router)
    app.include_router(password_reset.router)
    app.include_router(enrol.router)
    app.include_router(account.router)
    app.include_router(portability_pages.router)
    app.include_router(provider_pages.router)
    app.include_router(measurement_import.router)  # before /measurements/{id}
    app.include_router(measurement_send.router)
    app.include_router(share_pages.router)
    app.include_router(questionnaire_pages.router)
    app.include_router(correction_pages.router)
    app.include_router(owndata_pages.router)
    app.include_router(notes_pages.router)
    app.include_router(appointment_pages.router)
    app.include_router(notes_pages.api)
    app.include_router(collect_pages.router)
    app.include_router(delegation_pages.router)
    app.include_router(sharelink_pages.router)
    app.include_router(emergency_pages.router)
    app.include_router(leaving_pages.router)
    app.include_router(api_auth.router)
    app.include_router(api_collections.router)
    app.include_router(api_owndata.router)
    app.include_router(api_sends.router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    _install_error_handlers(app)

    # Outermost first on the way in: request log, size limit, headers, the one-step answer
    # to the most common item read (regie.web.item_read), the session.
    app.add_middleware(WebSessionMiddleware, context=context)
    app.add_middleware(KeptPageMiddleware, context=context, **viewer.kept_routes(home.start_route()))
    app.add_middleware(ItemReadMiddleware, context=context)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
        path_limits=upload_body_limits(settings.upload_max_bytes),
    )
    # Outermost: every response, even a refused body, is logged and measured.
    app.add_middleware(RequestLogMiddleware)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Background work tied to the app's life. On one machine (SQLite) the job worker runs
    here as a thread (list refreshes, clean-up); on PostgreSQL `regie worker` runs them
    (REGIE_JOBS_IN_WEB, docs/decisions/0004-jobs.md)."""
    context = app.state.context
    import anyio.to_thread

    # Few worker threads: see Settings.web_threads.
    anyio.to_thread.current_default_thread_limiter().total_tokens = context.settings.resolved_web_threads
    jobs = None
    if context.settings.run_jobs_in_web:
        from regie.jobs.tasks import JobContext
        from regie.jobs.worker import InProcessWorker

        jobs = InProcessWorker(JobContext(context.settings, context.db, context.accounts.keyring))
        jobs.start()
    # Collections left running by a process that stopped are reported as interrupted.
    from starlette.concurrency import run_in_threadpool

    from regie.web.collecting import collections_of, runner_of

    try:
        await run_in_threadpool(collections_of(app).sweep_interrupted)
    except Exception:
        # A database that is down at start-up must not keep the app (and /healthz) from
        # starting; the periodic sweep below tries again.
        log.exception("could not mark interrupted collections at start-up")
    # Then every collect_sweep_seconds: a process that crashed and came back at once (or
    # never) leaves its collections to be reported by the others.
    sweeper = asyncio.get_running_loop().create_task(runner_of(app).sweep_stale(), name="collect-sweep")
    # Last: what start-up made stays out of the collector's full walks (60-100 ms pauses
    # for every request in flight; regie.ops.gc_pauses).
    if context.settings.gc_freeze:
        from regie.ops.gc_pauses import freeze_startup_objects

        log.info("start-up objects kept out of collections", extra={"objects": freeze_startup_objects()})
    try:
        yield
    finally:
        sweeper.cancel()
        # Both at once: each has its own grace period, and one after the other they could
        # outlast the service manager's stop timeout (deploy/regie-web.service).
        stopping = [runner_of(app).shutdown()]
        if jobs is not None:
            stopping.append(run_in_threadpool(jobs.stop))
        await asyncio.gather(*stopping)


def create_app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` (several worker processes)."""
    return create_app(Settings())


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _html_error(request: Request, status: int, title: str, text: str, back: str = "/") -> Response:
    gettext = translations(language_of(request)).gettext
    return render(request, "error.html", status, title=gettext(title), text=gettext(text), back=back)


def database_unavailable(request: Request, exc: OperationalError) -> Response:
    """503 "try again" (a problem document on the API, a page elsewhere) with Retry-After.
    Also used by the session middleware, which reads the database before any route runs."""
    log.warning("database unavailable", extra={"error": type(exc.orig).__name__,
                                               "route": route_template(request.scope)})
    headers = {"Retry-After": "5"}
    if _is_api(request):
        return problem_response(503, "unavailable", "The database is briefly unavailable. Try again in a moment.",
                                headers=headers)
    return _unavailable_page(request, headers)


def _unavailable_page(request: Request, headers: dict[str, str]) -> Response:
    """A page that needs no database: the usual pages render through the visitor's session
    (for the CSRF token), and an anonymous visitor's session would be created in the very
    database that is away."""
    from html import escape

    language = language_of(request)
    gettext = translations(language).gettext
    title = escape(gettext(N_("Something went wrong")))
    text = escape(gettext(N_("Something went wrong on our side. Try again later.")))
    back = escape(gettext(N_("Back to your overview")))
    page = (f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{title} · Regie</title><link rel="stylesheet" href="/static/regie-2.css"></head>'
            f'<body><main id="main"><h1>{title}</h1><p>{text}</p><p><a href="/">{back}</a></p></main></body></html>')
    return HTMLResponse(page, status_code=503, headers={**headers, "Cache-Control": "no-store"})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        headers = dict(exc.headers)
        if exc.status == 429 and "retry_at" in exc.extra:
            from datetime import datetime, timezone

            retry = datetime.fromisoformat(exc.extra["retry_at"]) - datetime.now(timezone.utc)
            headers["Retry-After"] = str(max(1, int(retry.total_seconds()) + 1))
        return problem_response(exc.status, exc.slug, exc.detail, headers=headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return problem_response(400, "malformed-json", "The request body is not valid JSON.")
        fields = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())[1:]) or "body",
                "message": error.get("msg", ""),
                "code": error.get("type", ""),
            }
            for error in errors
        ]
        if not _is_api(request):
            return _html_error(request, 422, N_("Something is wrong with what you sent"), N_("Go back and check the form."))
        return problem_response(422, "validation-error", "Some fields are missing or wrong.", errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        slug = _STATUS_SLUGS.get(exc.status_code, "bad-request" if exc.status_code < 500 else "server-error")
        if _is_api(request):
            return problem_response(exc.status_code, slug, headers=getattr(exc, "headers", None))
        if exc.status_code == 404:
            return _html_error(request, 404, N_("Page not found"), N_("This page does not exist (any more)."))
        return _html_error(request, exc.status_code, N_("Something went wrong"), N_("Try again, or go back to the start."))

    @app.exception_handler(AccessRefused)
    async def on_refused(request: Request, exc: AccessRefused) -> Response:
        # The access policy said no (regie.access): say so plainly, and where to go.
        if _is_api(request):
            return problem_response(403, "forbidden", "You may not do this on this record.")
        if exc.ended:
            return _html_error(request, 403, N_("Your access has ended"), N_(
                "You no longer have access to that record. You are back in your own record."), back="/helping")
        return _html_error(request, 403, N_("You may not do this"), N_(
            "You do not have permission for this in this record. Ask the owner of the record."), back="/helping")

    @app.exception_handler(RedirectTo)
    async def on_redirect(request: Request, exc: RedirectTo) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(CsrfFailed)
    async def on_csrf(request: Request, exc: CsrfFailed) -> Response:
        if _is_api(request):
            return problem_response(403, "csrf-failed", "Send the session's CSRF token in the X-CSRF-Token header.")
        return _html_error(
            request, 403, N_("This page has expired"),
            N_("For your safety, forms work only for a limited time. Go back, reload the page and try again."),
        )

    @app.exception_handler(OperationalError)
    async def on_database_unavailable(request: Request, exc: OperationalError) -> Response:
        # The database went away (restart, lost connection) or refused a write (disk full):
        # fail fast with "try again"; the pool replaces dead connections (regie.store.db) after.
        return database_unavailable(request, exc)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        # The details go to the server log only; the visitor never sees a stack trace.
        log.exception("unhandled error", extra={"method": request.method, "route": route_template(request.scope)})
        if _is_api(request):
            return problem_response(500, "server-error", "Something went wrong on our side.")
        return _html_error(request, 500, N_("Something went wrong"), N_("Something went wrong on our side. Try again later."))
