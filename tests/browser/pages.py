"""Shared by the browser tests: page checks (axe WCAG 2.1 AA, phone width, screenshots) and
registering an account the way a user does."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from axe_playwright_python.sync_playwright import Axe
from axe_playwright_python.base import AxeResults
from playwright.sync_api import Page, expect

from tests.web.helpers import PASSWORD, TestClock, link_in_mail

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

# resultTypes: axe still runs every rule, but details only the violations (the default of
# axe-playwright-python, lost when options are given). Without it every passing check of
# every element travels back to Python: a second of CPU per run on a long page.
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
_axe = Axe()


def _run_axe(page: Page) -> AxeResults:
    """axe-core on the page as it is now. The 570 kB script is injected once per document
    (the library injects it on every run; the phone-width run is on the same document)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe.axe_script)
    return AxeResults(page.evaluate("options => axe.run(document, options)", WCAG_21_AA))


def check_page(page, output: Path, name: str) -> None:
    """Screenshot at desktop and phone width; axe must find nothing; no sideways scrolling on a phone."""
    page.screenshot(path=str(output / f"{name}.png"), full_page=True)
    results = _run_axe(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    desktop = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 740})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(output / f"{name}-phone.png"), full_page=True)
    phone_results = _run_axe(page)
    page.set_viewport_size(desktop)
    assert overflow <= 375, f"{name}: the page is {overflow}px wide on a 375px phone"
    assert phone_results.violations_count == 0, f"{name} (phone): {phone_results.generate_report()}"


def register_password(page: Page, live_server: LiveServer, email: str) -> None:
    """The first steps of registering: the address, the link from the e-mail (read from the
    outbox), the password. The browser ends on the choice of a second factor."""
    page.goto(live_server.base_url + "/register")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="E-mail sturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")
    page.goto(live_server.base_url + link_in_mail(live_server.context.settings.home, email.lower(), "/register/continue/"))
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()
    expect(page).to_have_url(re.compile(r"/setup$"))


def register_with_totp(page: Page, live_server: LiveServer, email: str) -> tuple[TestClock, str]:
    """Register ``email`` in the browser and set up TOTP; the server's clock is a TestClock
    so codes are never refused as reused."""
    clock = TestClock()
    live_server.context.accounts.clock = clock
    register_password(page, live_server, email)
    page.goto(live_server.base_url + "/setup/totp")
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(re.compile(r"/setup/recovery-codes$"))
    return clock, secret
