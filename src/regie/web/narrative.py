"""A record item's provider narrative for a page: sanitised markup, or None for the plain text.

The template marks the result safe; that is sound only because it comes straight out of the
allow-list in regie.fhir.narrative, sanitised again here on every display (items stored before
the narrative was kept as markup have only ``narrative`` and are shown as escaped text).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from regie.fhir.narrative import sanitise


def narrative_markup(item: Mapping[str, Any] | Any) -> Markup | None:
    """The item's (a RecordItem or its dict) narrative as safe markup, or None when only plain
    text (or nothing) exists."""
    markup = item.get("narrative_html") if isinstance(item, Mapping) else getattr(item, "narrative_html", None)
    if not markup:
        return None
    clean = sanitise(markup)
    return Markup(clean) if clean else None  # noqa: S704 - the output of the nh3 allow-list
