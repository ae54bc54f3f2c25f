"""Forgot the password: the e-mail, the link, a new password, then the second factor (app
code or passkey) before it counts. Every page checked with axe at desktop and phone width."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page, register_password, register_with_totp
from tests.web.helpers import PASSWORD

NEW_PASSWORD = "groene-kikker-springt-hoog-7"


def _ask_for_reset(page: Page, live_server: LiveServer, output: Path, email: str) -> None:
    page.goto(live_server.base_url + "/login")
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    check_page(page, output, "reset-01-forgot")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="E-mail sturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")
    check_page(page, output, "reset-02-mail-sent")


def _choose_new_password(page: Page, output: Path) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Kies een nieuw wachtwoord")
    check_page(page, output, "reset-03-new-password")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nog een keer").fill("iets-anders-dan-dat")
    page.get_by_role("button", name="Volgende stap").click()
    expect(page.locator("#password_repeat-error")).to_contain_text("niet hetzelfde")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nieuw wachtwoord nog een keer").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Volgende stap").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laat zien dat u het bent")


def _log_in(page: Page, live_server: LiveServer, email: str, password: str) -> None:
    page.goto(live_server.base_url + "/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Volgende stap").click()


def test_reset_with_the_app_code(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    # Development mode: the page that sends the e-mail shows its link (no mail server here).
    live_server.context.settings.dev_mail_links = True
    page.regie_expected_statuses.add(410)
    email = "karin.bos@voorbeeld.nl"
    clock, secret = register_with_totp(page, live_server, email)
    page.get_by_role("link", name="Ik heb mijn codes bewaard").click()
    page.get_by_role("button", name="Uitloggen").click()

    _ask_for_reset(page, live_server, output_dir, email)
    link = page.locator("[data-dev-mail-link]")
    expect(link).to_have_count(1)
    href = link.get_attribute("href")
    link.click()
    expect(page).to_have_url(re.compile(r"/password/reset$"))  # the token left the address bar
    _choose_new_password(page, output_dir)
    check_page(page, output_dir, "reset-04-confirm")
    page.get_by_label("Code uit uw app, of een herstelcode").fill("000000")
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.locator("#code-error")).to_be_visible()
    check_page(page, output_dir, "reset-05-wrong-code")
    page.get_by_label("Code uit uw app, of een herstelcode").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw nieuwe wachtwoord is klaar")
    check_page(page, output_dir, "reset-06-done")
    page.get_by_role("link", name="Alle activiteit bekijken").click()
    expect(page.locator("table.activity")).to_contain_text("Nieuw wachtwoord gekozen via de link in de e-mail")
    page.get_by_role("button", name="Uitloggen").click()

    page.goto(href)  # a link works once
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet")
    expect(page.get_by_text("U heeft deze link al gebruikt")).to_be_visible()
    check_page(page, output_dir, "reset-07-link-used")

    _log_in(page, live_server, email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("klopt niet")
    _log_in(page, live_server, email, NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stap 2 van inloggen")


def test_reset_with_a_passkey(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    live_server.context.settings.dev_mail_links = True
    email = "ahmed.el.amrani@voorbeeld.nl"
    register_password(page, live_server, email)
    page.get_by_role("link", name="Een passkey gebruiken").click()
    page.get_by_role("button", name="Passkey toevoegen").click()
    page.get_by_role("link", name="Ik heb mijn codes bewaard").click()
    page.get_by_role("button", name="Uitloggen").click()

    _ask_for_reset(page, live_server, output_dir, email)
    page.locator("[data-dev-mail-link]").click()
    _choose_new_password(page, output_dir)
    check_page(page, output_dir, "reset-04-confirm-passkey")
    page.get_by_role("button", name="Passkey gebruiken").click()
    expect(page.get_by_role("status")).to_contain_text("Uw nieuwe wachtwoord is klaar")
