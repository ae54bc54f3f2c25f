"""Small helpers shared by the page modules."""
from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse

from regie.accounts.errors import Throttled
from regie.web.i18n import translations
from regie.web.messages import message
from regie.web.templating import DISPLAY_ZONE, language_of


def gettext_for(request: Request):
    return translations(language_of(request)).gettext


def translated(request: Request, codes: dict[str, str]) -> dict[str, str]:
    gettext = gettext_for(request)
    return {field: gettext(message(code)) for field, code in codes.items()}


def throttle_text(request: Request, exc: Throttled) -> str:
    gettext = gettext_for(request)
    if exc.locked:
        return gettext(message("locked")).format(time=_clock(exc.retry_at))
    return gettext(message("throttled"))


def _clock(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime("%H:%M")


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)
