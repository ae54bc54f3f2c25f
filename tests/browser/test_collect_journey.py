"""Issue 6, "Done when": in Chromium, as a new user would. Register (with an app code),
find the sandbox GP by a misspelt name, collect everything from it and from the
hospital (the sandbox's DigiD simulator and consent pages in the same browser, the
queue walking from one provider to the next), see the receipt and the data on the
overview; a second run says "nothing new" and adds no duplicates.

A live sandbox (lists with a generated directory of 2,000 providers and the signed
provider-details document, OAuth, FHIR) and a live Regie configured with its lists
URL and key, both with uvicorn in a thread on free loopback ports. Every Regie page on
the way is checked with axe (WCAG 2.1 AA) at desktop and 375 px and saved under
test-output/.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
from regie.sandbox.config import default_config
from regie.sandbox.directory import details_document, sandbox_directory
from regie.web.app import create_app
from tests.browser.pages import check_page
from tests.collect.harness import regie_settings
from tests.sandbox.live import free_port, serve
from tests.web.helpers import PASSWORD, TestClock, link_in_mail

DIRECTORY_SIZE = 2000


@dataclass
class LiveNetwork:
    """What regie_settings needs of a sandbox: its lists URL and trust anchor."""

    base_url: str
    key_path: Path
    config: object


@dataclass
class Live:
    regie_url: str
    context: object
    network: LiveNetwork


def _serve_regie(app, port: int, stack: ExitStack) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    stack.callback(stop)
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Regie did not start")
        time.sleep(0.02)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A live sandbox with a generated directory and a live Regie that uses it."""
    with ExitStack() as stack:
        sandbox_port = free_port()
        config, details = sandbox_directory(default_config(port=sandbox_port), DIRECTORY_SIZE)
        volgnummer = int(datetime.now().timestamp())
        sandbox_app = create_sandbox_app(
            config, tmp_path / "sandbox", fhir_app_factory=load_fhir_app_factory(),
            provider_details=lambda: details_document(details, volgnummer=volgnummer))
        stack.enter_context(serve(sandbox_app, sandbox_port))
        network = LiveNetwork(f"http://127.0.0.1:{sandbox_port}",
                              sandbox_app.state.publisher.trust_anchor_path, config)
        home = tmp_path / "home"
        home.mkdir()
        port = free_port()
        # localhost: the sandbox's OCL lists it as a client (and passkeys need a host name).
        settings = regie_settings(home, f"sqlite:///{tmp_path / 'regie.sqlite3'}", network,
                                  f"http://localhost:{port}")
        app = create_app(settings)
        _serve_regie(app, port, stack)
        yield Live(f"http://localhost:{port}", app.state.context, network)
        app.state.context.db.dispose()


def _register(page: Page, live: Live, output: Path, email: str) -> None:
    clock = TestClock()
    live.context.accounts.clock = clock
    page.goto(live.regie_url + "/")
    page.get_by_role("link", name="Account maken").click()
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_role("button", name="E-mail sturen").click()
    page.goto(live.regie_url + link_in_mail(live.context.settings.home, email, "/register/continue/"))
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()
    page.get_by_role("link", name="Een app gebruiken").click()
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    page.get_by_role("link", name="Ik heb mijn codes bewaard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")
    check_page(page, output, "01-empty-overview")


def _find(page: Page, query: str, provider: str) -> None:
    """Search on the provider page the browser is on."""
    expect(page).to_have_url(re.compile(r"/providers"))
    page.get_by_label("Naam, plaats of soort").fill(query)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator(f'li.provider[data-provider="{provider}"]')).to_be_visible()


def _consent(page: Page, person_name: str) -> None:
    """At the sandbox: DigiD (unless the sandbox's DigiD session is still fresh), then consent."""
    expect(page).to_have_url(re.compile(r"sandbox\.localhost"))
    if "/digid/" in page.url:
        page.get_by_label(re.compile(re.escape(person_name))).check()
        page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(r"/oauth/consent\?"))
    page.get_by_role("button", name="Ja, ik geef toestemming").click()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/collect/batch/"))


def _wait_done(page: Page, count: int) -> None:
    """The batch page polls and reloads itself when all collections have finished."""
    expect(page.locator('.collect-queue li[data-state="done"]')).to_have_count(count, timeout=30_000)


def _record_total(page: Page, live: Live) -> int:
    response = page.request.get(live.regie_url + "/api/v1/record/summary")
    assert response.ok, response.text()
    return response.json()["resources"]


def _choose_both(page: Page, live: Live, output: Path | None, keep: bool = False) -> None:
    """From the overview: the GP by a misspelt name (with "keep permission" when *keep*),
    then the hospital added to the same queue. Ends on the batch page with both waiting."""
    page.goto(live.regie_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")
    page.get_by_role("link", name="Gegevens ophalen", exact=True).click()
    expect(page).to_have_url(re.compile(r"/collect$"))
    page.get_by_role("link", name="Gegevens ophalen bij een zorgverlener").click()
    _find(page, "huisartsenpraktjk de fries", "huisartsdevries@medmij")
    first = page.locator("li.provider").first
    # The answering practice comes first, with its place; no namesakes in the directory.
    expect(first).to_have_attribute("data-provider", "huisartsdevries@medmij")
    expect(first).to_contain_text("Utrecht")
    expect(page.locator("li.provider", has_text="Huisartsenpraktijk De Vries")).to_have_count(1)
    if output:
        check_page(page, output, "02-search")
    if keep:
        page.get_by_label("Toestemming bewaren, zodat Regie later nieuwe gegevens kan ophalen").check()
    first.get_by_role("button", name="Alles ophalen bij Huisartsenpraktijk De Vries").click()
    expect(page).to_have_url(re.compile(r"/collect/batch/"))
    if output:
        check_page(page, output, "03-explanation")
    page.get_by_role("link", name="Nog een zorgverlener toevoegen").click()
    _find(page, "ziekenhuis rivirenland", "ziekenhuisrivierenland@medmij")
    hospital = page.locator('li.provider[data-provider="ziekenhuisrivierenland@medmij"]')
    expect(hospital).to_contain_text("Tiel")
    if output:
        check_page(page, output, "04-search-added")
    hospital.get_by_role("button", name="Alles ophalen bij Ziekenhuis Rivierenland").click()
    expect(page.locator(".collect-queue > li")).to_have_count(2)
    kept = page.locator(".collect-queue > li", has_text="U heeft gevraagd de toestemming hier te bewaren")
    expect(kept).to_have_count(1 if keep else 0)


def _walk_queue(page: Page, person_name: str, output: Path | None) -> None:
    """One click per provider, DigiD (once) and consent at the sandbox, back to the queue."""
    expect(page.get_by_role("heading", name="Volgende: Huisartsenpraktijk De Vries")).to_be_visible()
    page.get_by_role("link", name="Inloggen met DigiD bij Huisartsenpraktijk De Vries").click()
    _consent(page, person_name)
    expect(page.get_by_role("heading", name="Volgende: Ziekenhuis Rivierenland")).to_be_visible()
    if output:
        check_page(page, output, "05-queue-next")
    page.get_by_role("link", name="Inloggen met DigiD bij Ziekenhuis Rivierenland").click()
    _consent(page, person_name)  # the sandbox's DigiD session is still fresh: consent only
    _wait_done(page, 2)


def test_new_user_collects_from_gp_and_hospital(page: Page, live: Live, output_dir: Path) -> None:
    _register(page, live, output_dir, "nieuw@voorbeeld.nl")
    person = live.network.config.persons[0]

    _choose_both(page, live, output_dir)
    _walk_queue(page, person.name, output_dir)
    expect(page.locator(".collect-queue")).to_contain_text("nieuwe gegevens")
    check_page(page, output_dir, "06-queue-done")

    # The receipt of the hospital.
    page.locator('.collect-queue > li').nth(1).get_by_role("link", name="Bekijk het ontvangstbewijs").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ziekenhuis Rivierenland")
    expect(page.locator("strong[data-state]")).to_have_attribute("data-state", "done")
    expect(page.locator("[data-reference]")).to_have_text(re.compile(r"^RGE-"))
    expect(page.locator('[data-service-state="complete"]')).to_have_count(3)
    check_page(page, output_dir, "07-receipt")

    # The data on the overview.
    total = _record_total(page, live)
    assert total > 0
    page.goto(live.regie_url + "/")
    expect(page.get_by_text("Uw dossier is nog leeg")).to_have_count(0)
    expect(page.get_by_role("heading", name="Medicijnen die u nu gebruikt")).to_be_visible()
    check_page(page, output_dir, "08-overview")

    # A second run, keeping permission at the GP: nothing new, no duplicates.
    _choose_both(page, live, None, keep=True)
    _walk_queue(page, person.name, None)
    expect(page.locator(".collect-queue")).to_contain_text("Niets nieuws sinds de vorige keer", )
    expect(page.locator(".collect-queue > li", has_text="Niets nieuws sinds de vorige keer")).to_have_count(2)
    check_page(page, output_dir, "09-second-run")
    assert _record_total(page, live) == total
    page.goto(live.regie_url + "/collect")
    expect(page.locator("tr[data-collection]")).to_have_count(4)

    # The lasting permission: the patient chooses daily, no e-mail; then stops it.
    permissions = page.locator(".consent-list > li")
    expect(permissions).to_have_count(1)
    expect(permissions.first).to_contain_text("Huisartsenpraktijk De Vries")
    expect(permissions.first.get_by_label("Nieuwe gegevens ophalen")).to_have_value("7")
    check_page(page, output_dir, "10-history")
    permissions.first.get_by_label("Nieuwe gegevens ophalen").select_option(label="Elke dag")
    permissions.first.get_by_label("Stuur mij een e-mail als er nieuwe gegevens zijn").uncheck()
    page.get_by_role("button", name="Bewaren voor Huisartsenpraktijk De Vries").click()
    expect(page.get_by_role("status")).to_contain_text("Uw keuze is bewaard")
    expect(permissions.first.get_by_label("Nieuwe gegevens ophalen")).to_have_value("1")
    expect(permissions.first.get_by_label("Stuur mij een e-mail als er nieuwe gegevens zijn")).not_to_be_checked()
    check_page(page, output_dir, "11-permission-saved")
    page.get_by_role("button", name="Stop toestemming voor Huisartsenpraktijk De Vries").click()
    expect(page.get_by_role("status")).to_contain_text("De toestemming is gestopt")
    expect(page.locator(".consent-list > li")).to_have_count(0)
    check_page(page, output_dir, "12-permission-stopped")
