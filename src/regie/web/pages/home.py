"""The landing page and the language switch."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from regie.web.blocking import run_blocking
from regie.web.guards import page_access_for, safe_next
from regie.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from regie.web.pages import viewer
from regie.web.pages._helpers import see_other
from regie.web.sessions import context_of, current_session, session_user
from regie.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    # The most visited page: on Regie's own worker threads (regie.web.blocking).
    return await run_blocking(context_of(request), _home, request)


def _home(request: Request) -> Response:
    row = current_session(request)
    if row is None or row.user_id is None or row.stage == "anonymous":
        return render(request, "home_anonymous.html")
    if row.stage == "enrol":
        return see_other("/setup")
    if row.stage == "second_factor":
        return see_other("/login/second-factor")
    user = session_user(request, row.user_id)  # loaded with the session
    if user is None:
        context = context_of(request)
        with context.db.session() as session:
            user = context.accounts.user(session, row.user_id)
    if user is None:
        return see_other("/login")
    return viewer.overview(request, page_access_for(request, user).owner)  # the record acted on (regie.access)


def start_route() -> BaseRoute:
    """The start page's route (its kept page is found before routing: regie.web.kept_pages)."""
    return next(route for route in router.routes if getattr(route, "endpoint", None) is home)


@router.get("/language/{language}")
def switch_language(request: Request, language: str, next: str = "/") -> Response:
    response = see_other(safe_next(next))
    if language in LANGUAGES:
        secure = "; Secure" if context_of(request).settings.https else ""
        response.headers.append(
            "set-cookie", f"{LANGUAGE_COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"
        )
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico whatever the page says; point them at the SVG.
    return see_other("/static/favicon-1.svg")
