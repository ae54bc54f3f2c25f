"""The journeys a person makes, in Chromium: register, enrol, log in, lock-out, recovery, passkeys.

Every page on the way is checked with axe (WCAG 2.1 AA), at desktop and phone
width, and saved as a screenshot under test-output/ to look at.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page
from tests.web.helpers import PASSWORD, TestClock, link_in_mail


def register(page: Page, server: LiveServer, output: Path, email: str) -> None:
    page.goto(server.base_url + "/")
    check_page(page, output, "01-welcome")
    page.get_by_role("link", name="Account maken").click()
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="E-mail sturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")
    check_page(page, output, "02-mail-sent")
    page.goto(server.base_url + link_in_mail(server.context.settings.home, email, "/register/continue/"))
    page.get_by_label("Wachtwoord", exact=True).fill("kort")
    page.get_by_label("Wachtwoord nog een keer").fill("kort")
    page.get_by_role("button", name="Account maken").click()
    expect(page.locator("#password-error")).to_contain_text("minstens 12 tekens")
    check_page(page, output, "02-register-error")
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()
    expect(page).to_have_url(re.compile(r"/setup$"))
    check_page(page, output, "03-setup-choice")


def finish_with_recovery_codes(page: Page, output: Path) -> list[str]:
    expect(page).to_have_url(re.compile(r"/setup/recovery-codes$"))
    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    check_page(page, output, "05-recovery-codes")
    page.get_by_role("link", name="Ik heb mijn codes bewaard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")
    return codes


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("status")).to_contain_text("U bent uitgelogd")


def password_step(page: Page, email: str) -> None:
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende stap").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stap 2 van inloggen")


def test_totp_journey_with_lock_out_and_recovery_code(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    clock = TestClock()
    live_server.context.accounts.clock = clock
    email = "jan.jansen@voorbeeld.nl"
    register(page, live_server, output_dir, email)

    page.get_by_role("link", name="Een app gebruiken").click()
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    expect(page.locator(".qr svg")).to_be_visible()
    check_page(page, output_dir, "04-setup-totp")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    codes = finish_with_recovery_codes(page, output_dir)
    check_page(page, output_dir, "06-overview")

    log_out(page)
    check_page(page, output_dir, "07-logged-out")
    password_step(page, email)
    check_page(page, output_dir, "08-second-factor")
    page.get_by_label("Code uit uw authenticator-app").fill(clock.code(secret))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")

    # Lock-out after repeated wrong codes; even the right code is then refused.
    log_out(page)
    password_step(page, email)
    for _ in range(live_server.context.settings.second_factor_lock_failures):
        page.get_by_label("Code uit uw authenticator-app").fill("000000")
        page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert").first).to_contain_text("kunt u tot")
    check_page(page, output_dir, "09-locked")
    page.get_by_label("Code uit uw authenticator-app").fill(clock.code(secret))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert").first).to_contain_text("kunt u tot")

    # A recovery code still gets the owner in, once.
    page.get_by_role("link", name="Telefoon of passkey kwijt? Gebruik een herstelcode").click()
    check_page(page, output_dir, "10-recovery-login")
    page.get_by_label("Herstelcode").fill(codes[0])
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")

    page.get_by_role("link", name="Beveiliging", exact=True).click()
    expect(page.get_by_text("1 ongebruikte herstelcode")).to_have_count(0)
    expect(page.get_by_text("9 ongebruikte herstelcodes")).to_be_visible()
    check_page(page, output_dir, "11-security")
    page.get_by_role("link", name="Alle activiteit bekijken").click()
    table = page.locator("table.activity")
    for text in ("Inloggen een tijdje geblokkeerd", "Herstelcode gebruikt", "Verkeerde code of passkey", "Ingelogd"):
        expect(table).to_contain_text(text)
    expect(table).to_contain_text("Chrome")
    check_page(page, output_dir, "12-activity")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Security activity")
    check_page(page, output_dir, "13-activity-english")


def test_passkey_journey(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    email = "els.de.vries@voorbeeld.nl"
    register(page, live_server, output_dir, email)
    page.get_by_role("link", name="Een passkey gebruiken").click()
    check_page(page, output_dir, "04-setup-passkey")
    page.get_by_label("Naam voor deze passkey").fill("Mijn laptop")
    page.get_by_role("button", name="Passkey toevoegen").click()
    finish_with_recovery_codes(page, output_dir)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(credentials["credentials"]) == 1

    log_out(page)
    password_step(page, email)
    expect(page.get_by_label("Code uit uw authenticator-app")).to_have_count(0)  # no app set up
    check_page(page, output_dir, "08-second-factor-passkey")
    page.get_by_role("button", name="Passkey gebruiken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")
    page.get_by_role("link", name="Beveiliging", exact=True).click()
    expect(page.get_by_text("“Mijn laptop”")).to_be_visible()


def _late(route: Route) -> None:
    time.sleep(0.5)
    route.continue_()


def test_a_foreign_passkey_is_refused(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    """A passkey that was never registered for this account does not log in."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
               "isUserVerified": True, "automaticPresenceSimulation": True}
    first = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    email = "piet.pieters@voorbeeld.nl"
    register(page, live_server, output_dir, email)
    # The passkey script arrives late (a slow connection): a click made before it runs waits for
    # the button to be enabled, and is not lost. CI once lost this click without the delay.
    page.route("**/static/passkeys-*.js", _late)
    page.get_by_role("link", name="Een passkey gebruiken").click()
    page.get_by_role("button", name="Passkey toevoegen").click()
    finish_with_recovery_codes(page, output_dir)
    page.unroute("**/static/passkeys-*.js")
    log_out(page)
    # Swap the authenticator: its credential is unknown to Regie.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first["authenticatorId"]})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    password_step(page, email)
    page.get_by_role("button", name="Passkey gebruiken").click()
    expect(page.locator("[data-passkey-error]")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stap 2 van inloggen")


def test_step_up_with_a_passkey(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    """Before a sensitive change (API tokens), the person shows again that it is them, with
    their passkey; another device's passkey is refused with a message and changes nothing."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
               "isUserVerified": True, "automaticPresenceSimulation": True}
    own = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    register(page, live_server, output_dir, "step.up@voorbeeld.nl")
    page.get_by_role("link", name="Een passkey gebruiken").click()
    page.get_by_role("button", name="Passkey toevoegen").click()
    finish_with_recovery_codes(page, output_dir)

    page.goto(live_server.base_url + "/account/tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text("API-sleutels")
    page.get_by_role("link", name="Laat zien dat u het bent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laat zien dat u het bent")
    check_page(page, output_dir, "10-step-up-passkey")

    # Another device's passkey: refused, still on the confirm page. (The own passkey is kept
    # aside, private key included, to put back after.)
    kept = cdp.send("WebAuthn.getCredentials", {"authenticatorId": own["authenticatorId"]})["credentials"]
    assert len(kept) == 1
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": own["authenticatorId"]})
    other = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    page.get_by_role("button", name="Passkey gebruiken").click()
    expect(page.locator("[data-passkey-error]")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laat zien dat u het bent")
    check_page(page, output_dir, "11-step-up-refused")

    # The person's own passkey: back on the token page, now allowed to make a token.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": other["authenticatorId"]})
    restored = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    for credential in kept:
        cdp.send("WebAuthn.addCredential", {"authenticatorId": restored["authenticatorId"], "credential": credential})
    page.get_by_role("button", name="Passkey gebruiken").click()
    expect(page).to_have_url(re.compile(r"/account/tokens$"))
    expect(page.get_by_role("link", name="Laat zien dat u het bent")).to_have_count(0)
    expect(page.get_by_role("button", name="Sleutel maken")).to_be_visible()
    page.goto(live_server.base_url + "/account/tokens")
    check_page(page, output_dir, "12-step-up-done")
