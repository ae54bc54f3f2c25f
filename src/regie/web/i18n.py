"""Dutch first, English available: gettext catalogues read from .po files.

Message ids are English; ``locales/nl/LC_MESSAGES/messages.po`` holds the
Dutch. The .po files are compiled in memory at start-up, so no build step.
"""
from __future__ import annotations

import io
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_COOKIE = "regie_lang"
_LOCALES = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Marks a string for extraction; translated later, where it is shown."""
    return message


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    path = _LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return GNUTranslations(buffer)


def pick_language(cookie_value: str | None) -> str:
    return cookie_value if cookie_value in LANGUAGES else DEFAULT_LANGUAGE
