"""The DigiD simulator and the consent page in Chromium: the whole front channel from
the PGO's authorization request back to its redirect URI, every page checked with axe
(WCAG 2.1 AA) at desktop and 375 px."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.browser.pages import check_page
from tests.browser.sandbox.conftest import Sandbox

GP = "huisartsdevries"
HOSPITAL = "ziekenhuisrivierenland"


def authorize_url(sandbox: Sandbox, provider: str, services: tuple[str, ...], state: str) -> str:
    query = urlencode({
        "response_type": "code",
        "client_id": "localhost",
        "redirect_uri": sandbox.redirect_uri,
        "scope": " ".join(f"{provider}~{s}" for s in services),
        "state": state,
    })
    return f"{sandbox.base_url}/{provider}/oauth/authorize?{query}"


def test_digid_and_consent_back_to_the_pgo(page: Page, sandbox: Sandbox, output_dir: Path) -> None:
    page.goto(authorize_url(sandbox, GP, ("49", "51"), "staat-1"))
    expect(page).to_have_url(re.compile(r"/digid/login\?flow="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("DigiD")
    check_page(page, output_dir, "digid")

    person = sandbox.app.state.config.persons[2]
    page.get_by_label(re.compile(re.escape(person.name))).check()
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(rf"/{GP}/oauth/consent\?"))
    main = page.get_by_role("main")
    expect(main).to_contain_text(person.name)
    expect(main).to_contain_text("Regie (lokaal)")  # the PGO by its organisation name
    expect(main).to_contain_text("Huisartsgegevens")  # the services by their GNL names
    expect(main).to_contain_text("Documenten (PDF/A)")
    check_page(page, output_dir, "consent")

    page.get_by_role("button", name="Ja, ik geef toestemming").click()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/_pgo/callback\?"))
    expect(page.locator('[data-name="state"]')).to_have_text("staat-1")
    code = page.locator('[data-name="code"]').text_content()
    assert code and len(code) > 20

    # A second provider within 15 minutes: no second DigiD login, straight to consent.
    page.goto(authorize_url(sandbox, HOSPITAL, ("48",), "staat-2"))
    expect(page).to_have_url(re.compile(rf"/{HOSPITAL}/oauth/consent\?"))
    page.get_by_role("button", name="Nee, liever niet").click()
    expect(page.locator('[data-name="error"]')).to_have_text("access_denied")
    expect(page.locator('[data-name="state"]')).to_have_text("staat-2")

    page.goto(f"{sandbox.base_url}/{GP}/log")
    expect(page.get_by_role("table")).to_contain_text("Toestemming gegeven")
    check_page(page, output_dir, "access-log")


def test_error_pages_and_cancel(page: Page, sandbox: Sandbox, output_dir: Path) -> None:
    page.regie_expected_statuses.add(400)
    page.goto(f"{sandbox.base_url}/{GP}/oauth/authorize?response_type=code&client_id=onbekend.nl"
              "&redirect_uri=https://onbekend.nl/cb&scope=huisartsdevries~49&state=x")
    expect(page.get_by_role("alert")).to_be_visible()
    check_page(page, output_dir, "authorize-error")

    page.goto(authorize_url(sandbox, GP, ("49",), "staat-3"))
    page.get_by_role("button", name="Annuleren").click()
    expect(page.locator('[data-name="error"]')).to_have_text("access_denied")

    page.goto(sandbox.base_url + "/")
    check_page(page, output_dir, "overview")
