"""Jinja2 pages, rendered with the visitor's language and CSRF token."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from regie import __version__
from regie.web.i18n import LANGUAGE_COOKIE, LANGUAGES, pick_language, translations
from regie.web.narrative import narrative_markup
from regie.web.sessions import current_session, ensure_session

_TEMPLATES = Path(__file__).parent / "templates"
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")


class TranslatedLiterals(Extension):
    """``_("a literal")`` in a template becomes its translation when the template is compiled.

    Used in one environment per language (``for_language``). The catalogues are read once
    and never change while the process runs, so the text is what the call would return on
    every render; a page makes 40 to 90 such calls, each through Jinja's call machinery.
    Only a bare ``_`` with one string literal is replaced: ``_(variable)``, ``ngettext`` and
    ``{% trans %}`` still translate at render time, and babel extracts from the source as before.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        gettext = translations(self.environment.literal_language).gettext  # type: ignore[attr-defined]
        previous = ""
        for token in stream:
            if (token.type == "name" and token.value == "_" and previous not in ("dot", "pipe")
                    and stream.current.type == "lparen"):
                lparen = next(stream)
                if stream.current.type == "string" and stream.look().type == "rparen":
                    literal = next(stream)
                    next(stream)  # the ")"
                    yield Token(token.lineno, "string", gettext(literal.value))
                    previous = "string"
                    continue
                yield token
                token = lparen
            yield token
            previous = token.type


#: Fragments that are the same for everyone (see ``same_for_everyone``), by their key.
_FRAGMENTS: dict[tuple[Any, ...], Markup] = {}
_MAX_FRAGMENTS = 512


def same_for_everyone(*key: Any, caller: Any) -> Markup:
    """``{% call same_for_everyone(lang, "name", ...) %}markup{% endcall %}``: the markup is
    rendered once per key and then reused by every request.

    Only for fragments that depend on nothing but the key: the language and fixed texts
    (a menu of the record's parts, the glossary), never on the person, their record or the
    request. The key holds everything the fragment reads.
    """
    try:
        found = _FRAGMENTS.get(key)
    except TypeError:  # a key that cannot be one (a list): rendered every time
        return Markup(caller())
    if found is None:
        found = Markup(caller())
        if len(_FRAGMENTS) < _MAX_FRAGMENTS:
            _FRAGMENTS[key] = found
    return found


def _environment(language: str | None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"] + ([TranslatedLiterals] if language else []),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code and change only with a new version (a restart): no stat()
        # of every template file on every page.
        auto_reload=False,
    )
    env.filters["narrative"] = narrative_markup
    env.globals["same_for_everyone"] = same_for_everyone
    env.extend(literal_language=language)
    return env


#: For templates rendered without a language (the upload refusal the middleware sends).
environment = _environment(None)
_BY_LANGUAGE = {language: _environment(language) for language in LANGUAGES}


def for_language(language: str) -> Environment:
    """The environment whose compiled templates carry ``language``'s texts."""
    return _BY_LANGUAGE[language]


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

    page = for_language(language).get_template(template).render(
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
