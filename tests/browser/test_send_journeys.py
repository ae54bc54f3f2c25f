"""Sending to care providers in Chromium, against a live sandbox: answering a
questionnaire (find it, accept it, fill it in with questions that appear as you answer,
check, confirm, DigiD and consent, sent), sending measurements, and asking the GP to
correct an item collected from them. Every page on the way is checked with axe (WCAG 2.1
AA) at desktop and 375 px and saved under test-output/."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
from regie.sandbox.config import default_config
from regie.sandbox.directory import details_document, sandbox_directory
from regie.web.app import create_app
from tests.browser.pages import check_page
from tests.browser.test_collect_journey import Live, LiveNetwork, _register, _serve_regie
from tests.collect.harness import regie_settings
from tests.sandbox.live import free_port, serve

ANCHOR = "praktijkhetanker@medmij"
GP = "huisartsdevries@medmij"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A live sandbox (only its own providers on the lists) and a live Regie that uses it."""
    with ExitStack() as stack:
        sandbox_port = free_port()
        config, details = sandbox_directory(default_config(port=sandbox_port), 0)
        sandbox_app = create_sandbox_app(config, tmp_path / "sandbox", fhir_app_factory=load_fhir_app_factory(),
                                         provider_details=lambda: details_document(details, volgnummer=1))
        stack.enter_context(serve(sandbox_app, sandbox_port))
        network = LiveNetwork(f"http://127.0.0.1:{sandbox_port}", sandbox_app.state.publisher.trust_anchor_path,
                              config)
        home = tmp_path / "home"
        home.mkdir()
        port = free_port()
        settings = regie_settings(home, f"sqlite:///{tmp_path / 'regie.sqlite3'}", network,
                                  f"http://localhost:{port}")
        app = create_app(settings)
        _serve_regie(app, port, stack)
        yield Live(f"http://localhost:{port}", app.state.context, network)
        app.state.context.db.dispose()


def _consent(page: Page, live: Live, back_to: str) -> None:
    """DigiD (unless the sandbox's DigiD session is still fresh) and consent at the sandbox."""
    expect(page).to_have_url(re.compile(r"sandbox\.localhost"))
    if "/digid/" in page.url:
        page.get_by_label(re.compile(re.escape(live.network.config.persons[0].name))).check()
        page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(r"/oauth/consent\?"))
    page.get_by_role("button", name="Ja, ik geef toestemming").click()
    expect(page).to_have_url(re.compile(r"^http://localhost:\d+" + back_to))


def _send_confirmed(page: Page, live: Live, output: Path, name: str) -> None:
    """On /send/{id}: the preview, yes, permission at the provider, the outcome."""
    expect(page.locator("[data-preview]")).to_be_attached()
    check_page(page, output, f"{name}-preview")
    page.locator("[data-send-go]").click()
    _consent(page, live, r"/send/[0-9a-f]{32}$")
    expect(page.locator('[data-send-outcome="sent"]')).to_be_visible()
    check_page(page, output, f"{name}-sent")


def test_answer_a_questionnaire_from_the_sandbox(page: Page, live: Live, output_dir: Path) -> None:
    _register(page, live, output_dir, "vragen@voorbeeld.nl")
    page.goto(live.regie_url + "/questionnaires")
    check_page(page, output_dir, "questionnaires-empty")
    page.locator(f'[data-fetch="{ANCHOR}"]').click()
    _consent(page, live, r"/questionnaires\?found=2$")
    expect(page.locator("[data-found]")).to_be_visible()
    check_page(page, output_dir, "questionnaires-found")
    page.get_by_role("link", name="Intake nieuwe patiënt").click()
    check_page(page, output_dir, "questionnaire-accept")
    page.get_by_role("button", name="Accepteren en invullen").click()
    expect(page.locator("form[data-questionnaire]")).to_be_visible()
    # A follow-up question appears as soon as the answer it depends on is given.
    follow_up = page.locator('[data-q-item="rookt-hoevaak"]')
    expect(follow_up).to_be_hidden()
    page.locator("#q-rookt-yes").check()
    expect(follow_up).to_be_visible()
    page.get_by_label("Elke dag").check()
    page.get_by_label("Hoeveel weegt u?").fill("72,5")
    page.get_by_label("Hoe lang bent u?").fill("181")
    page.get_by_label("Hoe laat staat u meestal op?").fill("07:15")
    page.locator("#q-sport-yes").check()
    page.get_by_label("Wandelen").check()
    page.get_by_label("Iets anders", exact=True).check()
    page.get_by_label("Welke andere sport?").fill("Schaken")
    check_page(page, output_dir, "questionnaire-form")
    # A required question left open: the server says which.
    page.get_by_role("button", name="Volgende: uw antwoorden controleren").click()
    expect(page.locator("#q-in-behandeling-error")).to_contain_text("Deze vraag moet u beantwoorden")
    check_page(page, output_dir, "questionnaire-missing")
    page.locator("#q-in-behandeling-no").check()
    page.get_by_role("button", name="Volgende: uw antwoorden controleren").click()
    expect(page).to_have_url(re.compile(r"/send/[0-9a-f]{32}$"))
    expect(page.locator("[data-answers]")).to_contain_text("Schaken")
    _send_confirmed(page, live, output_dir, "questionnaire")
    page.goto(live.regie_url + "/questionnaires")
    expect(page.locator('tr[data-task-state="sent"]')).to_have_count(1)
    check_page(page, output_dir, "questionnaires-after")


def test_send_measurements_and_ask_for_a_correction(page: Page, live: Live, output_dir: Path) -> None:
    _register(page, live, output_dir, "delen@voorbeeld.nl")
    page.goto(live.regie_url + "/measurements/new?type=body_weight")
    page.get_by_label("Gewicht").fill("72,5")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("main")).to_contain_text("72,5 kg")
    page.goto(live.regie_url + "/measurements/send")
    page.get_by_label("Gewicht", exact=True).check()
    page.get_by_label("Uw naam").fill("Sanne de Vries")
    page.get_by_role("button", name="Laat zien wat er wordt verstuurd").click()
    page.get_by_label("Naar welke zorgverlener?").select_option(GP)
    page.get_by_role("button", name="Verder: controleren en versturen").click()
    expect(page).to_have_url(re.compile(r"/send/[0-9a-f]{32}$"))
    _send_confirmed(page, live, output_dir, "measurements")

    # Collect the GP's data, then "this is not right" on a medicine.
    page.goto(live.regie_url + f"/providers?q=Huisartsenpraktijk+De+Vries")
    page.locator(f'li.provider[data-provider="{GP}"]').get_by_role("button").first.click()
    expect(page).to_have_url(re.compile(r"/collect/batch/"))
    page.get_by_role("link", name=re.compile("Inloggen met DigiD bij")).click()
    _consent(page, live, r"/collect/batch/.*")
    expect(page.locator('.collect-queue li[data-state="done"]')).to_have_count(1, timeout=30_000)
    page.goto(live.regie_url + "/record/medication")
    page.locator("main a[href^='/record/items/']").first.click()
    page.locator("[data-correction-link]").click()
    expect(page.locator("[data-not-changed]")).to_be_visible()
    check_page(page, output_dir, "correction-form")
    page.get_by_label("Dit is veranderd").check()
    page.get_by_label("Wat klopt er niet of wat is er veranderd?").fill("Ik ben op 1 maart gestopt met dit medicijn.")
    page.get_by_label("Uw naam").fill("Sanne de Vries")
    page.get_by_role("button", name="Verder: controleren en versturen").click()
    expect(page.locator("[data-correction]")).to_contain_text("Ik ben op 1 maart gestopt")
    _send_confirmed(page, live, output_dir, "correction")
    expect(page.locator("main")).to_contain_text("niet veranderd")
    page.goto(live.regie_url + "/corrections")
    expect(page.locator("tr[data-correction]")).to_have_count(1)
    check_page(page, output_dir, "corrections")
