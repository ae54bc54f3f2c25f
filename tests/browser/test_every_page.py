"""Every page a signed-in person can reach passes axe (WCAG 2.1 AA) at desktop and phone width."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page, register_password
from tests.web.helpers import TestClock


def test_security_pages_and_errors(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    clock = TestClock()
    live_server.context.accounts.clock = clock
    register_password(page, live_server, "anna@voorbeeld.nl")
    page.goto(live_server.base_url + "/setup/totp")
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill("12")
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.locator("#code-error")).to_be_visible()
    check_page(page, output_dir, "setup-totp-error")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(re.compile(r"/setup/recovery-codes$"))

    page.goto(live_server.base_url + "/account/password")
    page.get_by_label("Huidig wachtwoord").fill("verkeerd-wachtwoord-1")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("nog-een-lang-wachtwoord")
    page.get_by_label("Nieuw wachtwoord nog een keer").fill("nog-een-lang-wachtwoord")
    page.get_by_role("button", name="Wachtwoord veranderen").click()
    expect(page.locator("#current_password-error")).to_contain_text("klopt niet")
    check_page(page, output_dir, "password-error")

    page.goto(live_server.base_url + "/account/tokens")
    check_page(page, output_dir, "tokens-locked")
    page.get_by_role("link", name="Laat zien dat u het bent").click()
    check_page(page, output_dir, "confirm")
    page.get_by_label("Code uit uw authenticator-app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    page.get_by_label("Naam van de nieuwe sleutel").fill("Mijn bloeddruk-app")
    page.get_by_role("button", name="Sleutel maken").click()
    expect(page.locator("[data-new-token]")).to_contain_text("regie_pat_")
    check_page(page, output_dir, "token-created")

    page.goto(live_server.base_url + "/setup")
    check_page(page, output_dir, "setup-choice-signed-in")
    page.regie_expected_statuses.add(404)
    page.goto(live_server.base_url + "/bestaat-niet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pagina niet gevonden")
    check_page(page, output_dir, "not-found")
