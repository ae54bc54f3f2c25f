"""The record viewer in Chromium with the Nictiz fixtures loaded: every page type passes axe
(WCAG 2.1 AA) at desktop and phone width, shows the fixture values, and works by keyboard.

Runs on SQLite only: the pages are the same on PostgreSQL (tests/web/test_viewer.py covers
both databases) and the browser half is the slow part of the suite.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page
from tests.web.helpers import PASSWORD, TestClock
from tests.web.viewer_data import load_fixtures


def _register(page: Page, live_server: LiveServer, email: str) -> None:
    clock = TestClock()
    live_server.context.accounts.clock = clock
    page.goto(live_server.base_url + "/register")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()
    page.goto(live_server.base_url + "/setup/totp")
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    page.get_by_label("Typ de code van 6 cijfers uit de app").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(re.compile(r"/setup/recovery-codes$"))


def _tab_to(page: Page, text: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if text in (page.evaluate("document.activeElement && document.activeElement.textContent") or ""):
            return
    raise AssertionError(f"could not reach {text!r} with Tab")


def _datasets(page: Page) -> list[tuple[str, str, int]]:
    """(legend label, axis, number of points) of each dataset of the page's chart."""
    return [tuple(d) for d in page.evaluate(
        "Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets"
        ".map(d => [d.label, d.yAxisID, d.data.length])")]


def test_viewer_pages_with_fixtures(page: Page, live_server: LiveServer, output_dir: Path, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("browser pages are checked on SQLite; tests/web covers PostgreSQL")
    base = live_server.base_url
    _register(page, live_server, "lotte@voorbeeld.nl")
    page.goto(base + "/")
    check_page(page, output_dir, "overview-empty")
    load_fixtures(live_server.context, "lotte@voorbeeld.nl")

    page.goto(base + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw overzicht")
    expect(page.locator("main")).to_contain_text("Zestril tablet 10mg")
    check_page(page, output_dir, "overview")

    # Keyboard only: skip link, then reach an episode from the problems page and open it.
    page.goto(base + "/record/problems")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    _tab_to(page, "Hartkloppingen -paroxysmaal boezemfibrilleren")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/record/items/[0-9a-f]{32}$"))
    expect(page.locator(".badge-attention")).to_have_text("Attentiewaarde")
    check_page(page, output_dir, "item-episode")
    page.goto(base + "/record/problems")
    expect(page.locator("main")).to_contain_text("Endocarditis profylaxe ivm mitralis insufficientie")
    check_page(page, output_dir, "category-problems")

    page.goto(base + "/record/results")
    row = page.locator("tr", has_text="Hemoglobine A1c")
    expect(row).to_contain_text("60 mmol/mol")
    expect(row).to_contain_text("20 – 42 mmol/mol")
    expect(row).to_contain_text("hoog")
    check_page(page, output_dir, "category-results")
    row.get_by_role("link", name=re.compile("verloop")).click()
    expect(page.locator(".chart-box canvas")).to_be_visible()
    page.get_by_label("Vergelijk met een andere test").select_option(label="Glucose [mol/volume] in serum of plasma")
    page.get_by_role("button", name="Toon").click()
    expect(page.locator(".chart-box canvas")).to_be_visible()
    # Chart.js drew both tests, each range as a band, and the rings of the values outside it.
    assert _datasets(page) == [
        ("normale waarden (Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol)", "y", 2),
        ("Hemoglobine A1c/hemoglobine.totaal [stoffractie] in bloed d.m.v. IFCC-protocol (mmol/mol)", "y", 1),
        ("normale waarden (Glucose [mol/volume] in serum of plasma)", "y1", 2),
        ("Glucose [mol/volume] in serum of plasma (mmol/l)", "y1", 1),
        ("buiten de normale waarden", "y", 1), ("buiten de normale waarden", "y1", 1)]
    check_page(page, output_dir, "trend-compare")
    page.goto(base + "/results/14743-9")
    expect(page.locator("main")).to_contain_text("zelf gemeten")
    styles = page.evaluate("Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets"
                           ".map(d => d.pointStyle)")
    assert styles == ["circle", "rect"]  # care provider, measured yourself: one axis, two shapes
    check_page(page, output_dir, "trend-self-measured")

    page.goto(base + "/record/documents")
    check_page(page, output_dir, "category-documents")
    page.get_by_role("link", name="Anterior Cervical Discectomy Fusion - Discharge Summary").click()
    check_page(page, output_dir, "document")
    href = page.get_by_role("link", name=re.compile("Open het document")).get_attribute("href")
    pdf = page.context.request.get(base + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["content-security-policy"] == "sandbox; default-src 'none'"

    page.goto(base + "/record/immunizations")
    expect(page.locator("li.item", has_text="COVID-19 VACCIN PFIZER INJVLST 0,3ML").first).to_contain_text("15 jun 2023")
    check_page(page, output_dir, "category-immunizations")
    page.goto(base + "/record/journal")
    page.get_by_role("link", name="Evaluatie").first.click()
    expect(page.locator("main")).to_contain_text("E: de conclusie van de dokter")
    check_page(page, output_dir, "item-journal")
    page.get_by_role("link", name="Toon de oorspronkelijke gegevens (FHIR)").click()
    expect(page.locator("pre.original")).to_contain_text('"resourceType"')
    check_page(page, output_dir, "original")

    page.goto(base + "/timeline")
    page.get_by_role("link", name=re.compile(r"^2024")).click()
    page.get_by_role("link", name=re.compile(r"^maart 2024")).click()
    expect(page.get_by_role("heading", level=2).first).to_have_text("maart 2024")
    check_page(page, output_dir, "timeline")
    page.goto(base + "/search")
    page.get_by_label("Zoek een woord, een medicijn, een test of een code").fill("astma")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Problemen en episodes"))).to_be_visible()
    check_page(page, output_dir, "search")
    page.goto(base + "/audit")
    expect(page.locator("main")).to_contain_text("opende dit gegeven")
    check_page(page, output_dir, "audit")
