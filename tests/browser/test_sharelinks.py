"""Share links, the emergency card and deleting an account in Chromium: axe (WCAG 2.1 AA)
at desktop and 375 px, screenshots in test-output/. SQLite only (tests/sharelinks and
tests/leaving cover both databases)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page, register_with_totp
from tests.sharelinks.record_data import ALLERGY, MEDICINE, NAME, PROBLEM, STOPPED, load_record
from tests.web.helpers import PASSWORD


# Browser pages are checked on SQLite; tests/sharelinks covers PostgreSQL.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_share_link_opened_without_account_then_revoked(page: Page, chromium: Browser, live_server: LiveServer,
                                                         output_dir: Path) -> None:
    base = live_server.base_url
    register_with_totp(page, live_server, "anna@voorbeeld.nl")
    load_record(live_server.context, "anna@voorbeeld.nl")
    page.goto(base + "/")
    page.get_by_role("link", name="Delen met een dokter").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delen met een dokter")
    check_page(page, output_dir, "sharelinks-empty")

    page.get_by_role("link", name="Nieuwe link maken").click()
    page.locator("#cat_medication").select_option(label="Alleen wat nu geldt")
    page.locator("#cat_allergies").select_option(label="Alles")
    page.get_by_text("Problemen en episodes", exact=True).click()  # open the single items
    page.get_by_label(PROBLEM).check()
    page.get_by_label("Hoe lang mag de link werken?").select_option(label="3 dagen")
    expect(page.get_by_label("Uw naam, zoals de dokter hem ziet")).to_have_value(NAME)
    page.get_by_label("Voor wie is de link? (alleen u ziet dit)").fill("Dokter Jansen, internist")
    expect(page.get_by_label("Beveilig de link met een code")).to_be_checked()
    check_page(page, output_dir, "sharelink-new")
    page.get_by_role("button", name="Link maken").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Uw deellink is klaar")
    expect(page.locator(".qr svg")).to_be_visible()
    url = page.get_by_label("De link").input_value()
    code = page.locator("[data-share-code]").inner_text().strip()
    assert url.startswith(base + "/s/") and re.fullmatch(r"\d{6}", code)
    check_page(page, output_dir, "sharelink-created")
    detail = page.get_by_role("link", name="Bekijk deze link en wie hem opende").get_attribute("href")

    # The doctor: another browser, no account, no cookies.
    doctor_context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    doctor = doctor_context.new_page()
    errors: list[str] = []
    doctor.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 410" not in m.text
              and "status of 401" not in m.text else None)
    doctor.goto(url)
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Gezondheidsgegevens gedeeld met u")
    expect(doctor.locator("main")).not_to_contain_text(NAME)
    check_page(doctor, output_dir, "shared-code")
    doctor.get_by_label("Code van 6 cijfers").fill("000000" if code != "000000" else "111111")
    doctor.get_by_role("button", name="Toon de gegevens").click()
    expect(doctor.locator("#code-error")).to_contain_text("Deze code klopt niet")
    doctor.get_by_label("Code van 6 cijfers").fill(code)
    doctor.get_by_role("button", name="Toon de gegevens").click()
    expect(doctor.get_by_role("heading", level=1)).to_have_text(f"Gezondheidsgegevens van {NAME}")
    main = doctor.locator("main")
    for text in (MEDICINE, ALLERGY, PROBLEM, "Gedeeld door", "Deze link werkt tot"):
        expect(main).to_contain_text(text)
    expect(main).not_to_contain_text(STOPPED)
    check_page(doctor, output_dir, "shared-page")

    # The patient sees the opening, then stops the link.
    page.goto(base + detail)
    expect(page.locator("[data-open-count]")).to_have_text("De link is 1 keer geopend.")
    check_page(page, output_dir, "sharelink-detail")
    page.get_by_role("button", name="Stop deze link").click()
    expect(page.get_by_role("status")).to_contain_text("De link is gestopt")
    expect(page.locator("[data-link-state]")).to_have_text("gestopt")
    check_page(page, output_dir, "sharelink-revoked")

    doctor.reload()
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet meer")
    expect(doctor.locator("main")).not_to_contain_text(MEDICINE)
    check_page(doctor, output_dir, "shared-gone")
    doctor_context.close()
    assert not errors, errors

    page.goto(base + "/share-links")
    expect(page.locator("tbody tr")).to_contain_text("Dokter Jansen, internist")
    check_page(page, output_dir, "sharelinks-list")


def test_emergency_card(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    base = live_server.base_url
    register_with_totp(page, live_server, "joost@voorbeeld.nl")
    load_record(live_server.context, "joost@voorbeeld.nl")
    page.goto(base + "/emergency-card")
    check_page(page, output_dir, "emergency-empty")
    page.get_by_role("link", name="Maak uw noodkaart").click()
    expect(page.get_by_label(MEDICINE)).to_be_checked()
    expect(page.get_by_label(ALLERGY)).to_be_checked()
    page.get_by_label(PROBLEM).check()
    page.locator("#extra_allergies").fill("Latex")
    page.get_by_label("Naam", exact=True).fill("Joost Zeldenrijk")
    page.get_by_label("Wie is dit voor u?").fill("zoon")
    page.get_by_label("Telefoonnummer").fill("06 98765432")
    page.get_by_label("Goed om te weten (niet verplicht)").fill("Ik draag een insulinepomp.")
    check_page(page, output_dir, "emergency-edit")
    page.get_by_role("button", name="Kaart opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Uw noodkaart is opgeslagen.")
    card = page.locator("section.emergency")
    for text in (MEDICINE, ALLERGY, PROBLEM, "Latex", "Joost Zeldenrijk", "06 98765432"):
        expect(card).to_contain_text(text)
    check_page(page, output_dir, "emergency-card")
    page.get_by_role("link", name="Kaart afdrukken").click()
    expect(page.locator(".wallet-front")).to_contain_text(NAME)
    check_page(page, output_dir, "emergency-print")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Afdrukken")).to_be_hidden()
    expect(page.locator("[data-acting]")).to_be_hidden()
    width = page.locator(".wallet-front").bounding_box()["width"]
    assert 300 < width < 340, width  # 85.6 mm at 96 dpi is about 323 px
    page.screenshot(path=str(output_dir / "emergency-print-media.png"), full_page=True)
    page.emulate_media(media="screen")


def test_account_deletion(page: Page, live_server: LiveServer, output_dir: Path) -> None:
    base = live_server.base_url
    clock, secret = register_with_totp(page, live_server, "vertrek@voorbeeld.nl")
    load_record(live_server.context, "vertrek@voorbeeld.nl")
    page.goto(base + "/account")
    page.get_by_role("link", name="Uw account verwijderen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw account verwijderen")
    expect(page.get_by_role("link", name="Download al uw gegevens")).to_have_attribute("href", "/export")
    check_page(page, output_dir, "delete-start")
    page.get_by_role("link", name="Laat zien dat u het bent").click()
    page.get_by_label("Code uit uw authenticator-app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(re.compile(r"/account/delete$"))
    page.regie_expected_statuses.add(422)
    page.get_by_role("button", name="Verwijder mijn account en al mijn gegevens").click()
    expect(page.locator("#understood-error")).to_be_visible()
    check_page(page, output_dir, "delete-form-errors")
    page.get_by_label("Uw wachtwoord").fill(PASSWORD)
    page.get_by_label("Ik begrijp dat al mijn gegevens gewist worden").check()
    page.get_by_role("button", name="Verwijder mijn account en al mijn gegevens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw account is verwijderd")
    check_page(page, output_dir, "deleted")
    page.goto(base + "/record/medication")
    expect(page).to_have_url(re.compile(r"/login"))
    with live_server.context.db.session() as session:
        assert live_server.context.accounts.by_email(session, "vertrek@voorbeeld.nl") is None
