"""The page check itself: it must fail on what it is there to find (an accessibility
violation at either width, sideways scrolling on a phone), or every browser test that
relies on it would pass for nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.pages import check_page

_GOOD = """<!doctype html><html lang="nl"><head><title>Goed</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Goed</h1><p>Een gewone pagina.</p></main></body></html>"""


def test_a_plain_page_passes(page: Page, output_dir: Path) -> None:
    page.set_content(_GOOD)
    check_page(page, output_dir, "good")


def test_a_violation_at_desktop_width_fails(page: Page, output_dir: Path) -> None:
    page.set_content(_GOOD.replace("<p>Een gewone pagina.</p>", '<img src="data:,">'))
    with pytest.raises(AssertionError, match="image-alt"):
        check_page(page, output_dir, "image-without-alt")


def test_a_violation_only_at_phone_width_fails(page: Page, output_dir: Path) -> None:
    # A button without a name that only a phone-width layout shows: the second axe run
    # (on the same document, with the script already injected) must see it.
    page.set_content(_GOOD.replace("</head>", "<style>button{display:none}"
                                   "@media (max-width:400px){button{display:block}}</style></head>")
                     .replace("<p>Een gewone pagina.</p>", "<button></button>"))
    with pytest.raises(AssertionError, match=r"(?s)\(phone\).*button-name"):
        check_page(page, output_dir, "button-only-on-phone")


def test_sideways_scrolling_on_a_phone_fails(page: Page, output_dir: Path) -> None:
    page.set_content(_GOOD.replace("<p>Een gewone pagina.</p>", '<div style="width:900px">breed</div>'))
    with pytest.raises(AssertionError, match="wide on a 375px phone"):
        check_page(page, output_dir, "too-wide")
