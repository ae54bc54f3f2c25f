"""The archive's human-readable index (index.html): in Dutch and in English, one page.

The texts are the app's message ids (Dutch in the web catalogue); the page is rendered
once per language and the two halves are put one after the other.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from regie.web.i18n import translations
from regie.web.present import CATEGORY_NAMES

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)


def render_index(*, now: datetime, summary: dict[str, Any], sources: list[dict[str, Any]],
                 counts: dict[str, Any], providers: list[Any], sections: list[Any],
                 members: dict[str, Any]) -> str:
    halves = []
    for language in ("nl", "en"):
        gettext = translations(language)
        _ENV.install_gettext_translations(gettext, newstyle=False)  # type: ignore[attr-defined]
        halves.append(_ENV.get_template("archive_index.html").render(
            lang=language, now=now, summary=summary, sources=sources, counts=counts, providers=providers,
            sections=sections, members=members,
            category=lambda key: gettext.gettext(CATEGORY_NAMES.get(key, key)),
        ))
    return _ENV.get_template("archive_page.html").render(halves=halves, now=now)
