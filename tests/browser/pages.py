"""Page checks shared by the browser tests: axe WCAG 2.1 AA, phone width, screenshots."""
from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()


def check_page(page, output: Path, name: str) -> None:
    """Screenshot at desktop and phone width; axe must find nothing; no sideways scrolling on a phone."""
    page.screenshot(path=str(output / f"{name}.png"), full_page=True)
    results = _axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    desktop = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 740})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(output / f"{name}-phone.png"), full_page=True)
    phone_results = _axe.run(page, options=WCAG_21_AA)
    page.set_viewport_size(desktop)
    assert overflow <= 375, f"{name}: the page is {overflow}px wide on a 375px phone"
    assert phone_results.violations_count == 0, f"{name} (phone): {phone_results.generate_report()}"
