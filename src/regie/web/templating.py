"""Jinja2 pages, rendered with the visitor's language and CSRF token."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from regie import __version__
from regie.web.i18n import LANGUAGE_COOKIE, pick_language, translations
from regie.web.narrative import narrative_markup
from regie.web.sessions import current_session, ensure_session

_TEMPLATES = Path(__file__).parent / "templates"
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")

environment = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship with the code and change only with a new version (a restart): no stat()
    # of every template file on every page.
    auto_reload=False,
)
environment.filters["narrative"] = narrative_markup


def language_of(request: Request) -> str:
    return pick_language(request.cookies.get(LANGUAGE_COOKIE))


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    language = language_of(request)
    catalog = translations(language)
    session = current_session(request) or ensure_session(request)

    def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
        # Like Jinja's "newstyle" gettext: the count is filled in as %(num)d.
        return catalog.ngettext(singular, plural, count) % {"num": count, **values}

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment.astimezone(DISPLAY_ZONE), "d MMM yyyy HH:mm", locale=language)

    page = environment.get_template(template).render(
        request=request,
        _=catalog.gettext,
        gettext=catalog.gettext,
        ngettext=ngettext,
        lang=language,
        csrf_token=session.csrf_token,
        signed_in=session.stage == "full",
        when=when,
        version=__version__,
        **values,
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})
