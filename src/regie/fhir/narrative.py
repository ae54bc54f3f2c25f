"""Provider narratives (``text.div``) as sanitised HTML: the one allow-list, applied with nh3.

A narrative is hostile input from a care provider's server. Its layout (tables, lists) is often the
only readable form of a resource Regie cannot map, so it is kept as markup, but only the markup
below survives: no scripts, styles, event handlers, forms, frames or images, and links only to
``http``, ``https`` or ``mailto`` (never ``javascript:``, ``data:`` or a relative path into Regie).
Headings are reduced to their text so a narrative cannot break the page's heading order.

The same function runs at import (what is stored, encrypted, is already clean, so the API and the
export never carry script) and again at display (items stored before this existed, or imported
from another Regie's archive, and a tighter list applies to everything without re-importing).
"""
from __future__ import annotations

from typing import Any

import nh3

#: Elements kept; anything else is dropped, its text kept (except the content tags below).
TAGS: frozenset[str] = frozenset({
    "p", "br", "div", "span", "blockquote", "pre", "hr",
    "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    "ul", "ol", "li", "dl", "dt", "dd",
    "b", "strong", "i", "em", "u", "s", "sub", "sup", "small", "code", "a",
})
#: Elements dropped with everything inside them (their text is code or markup, not a message).
DROPPED_WITH_CONTENT: frozenset[str] = frozenset({"script", "style", "template", "noscript", "title",
                                                  "iframe", "object", "embed", "svg", "math"})
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})


def sanitise(markup: str) -> str:
    """``markup`` with everything outside the allow-list removed (may be empty)."""
    return nh3.clean(
        markup, tags=set(TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT), attributes=ATTRIBUTES,
        url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow", strip_comments=True,
        url_relative="deny",
    ).strip()


def narrative_html(res: dict[str, Any]) -> str | None:
    """The sanitised narrative of a resource, or None when it has none (or nothing survives)."""
    text = res.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    if not isinstance(div, str) or not div:
        return None
    clean = sanitise(div)
    return clean or None
