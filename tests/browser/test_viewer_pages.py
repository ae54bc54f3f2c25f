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
from tests.browser.pages import check_page, register_with_totp
from tests.web.viewer_data import load_fixtures

# Browser pages are checked on SQLite; tests/web covers PostgreSQL.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


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
    base = live_server.base_url
    register_with_totp(page, live_server, "lotte@voorbeeld.nl")
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
    _updates_in_place(page, base)
    _works_without_javascript(page, base)


def _mark(page: Page) -> None:
    """A value on the window that a full page load would lose: proves an update in place."""
    page.evaluate("window.regieMark = 'kept'")


def _kept(page: Page) -> bool:
    return page.evaluate("window.regieMark") == "kept"


def _updates_in_place(page: Page, base: str) -> None:
    """htmx: filters, zoom, "older items" and search as you type update the list in place."""
    # "Older items" adds the next page's rows (100 a page) and moves focus to the first new one.
    page.goto(base + "/timeline")
    rows = page.locator("#timeline li.item")
    expect(rows).to_have_count(100)
    _mark(page)
    page.get_by_role("link", name="Oudere gegevens").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#list-status")).to_have_text("100 gegevens getoond. Er zijn er meer.")
    expect(rows.nth(100)).to_be_attached()
    assert _kept(page) and page.url == base + "/timeline"
    # Focus moves once htmx has settled the swap (its settle delay), a moment after the rows
    # are in the page: wait for it rather than look at once.
    page.wait_for_function("document.activeElement && document.activeElement.closest('li.item') === "
                           "document.querySelectorAll('#timeline li.item')[100]", timeout=5_000)
    # A month that goes on from the previous page gets no second heading.
    headings = page.locator("#timeline-groups h2").all_text_contents()
    assert len(headings) == len(set(headings)), headings

    # A filter: the list changes, the address follows (bookmarkable), the page stays.
    page.goto(base + "/record/problems")
    current = page.locator("#list li.item").count()  # what applies now comes first
    _mark(page)
    page.get_by_label("Toon").focus()
    page.get_by_label("Toon").select_option("all")
    expect(page.locator("#list-status")).to_have_text("24 gegevens getoond.")
    assert page.locator("#list li.item").count() == 24 > current
    expect(page).to_have_url(re.compile(r"/record/problems\?status=all&source=&period="))
    assert _kept(page)
    expect(page.get_by_label("Toon")).to_be_focused()

    # Timeline: zoom by keyboard, in place; focus stays on the year just chosen.
    page.goto(base + "/timeline")
    _mark(page)
    _tab_to(page, "2024", limit=120)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Maanden van 2024")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/timeline\?period=2024&"))
    assert _kept(page)
    expect(page.locator("a[aria-current=page]", has_text="2024")).to_be_focused()
    expect(page.locator("#t-period")).to_have_value("2024")  # the filters keep the zoom
    page.get_by_label("Deel van uw dossier").select_option("results")
    expect(page).to_have_url(re.compile(r"period=2024&category=results"))
    expect(page.locator("#list-status")).to_have_text("3 gegevens getoond.")
    expect(page.locator("#timeline li.item").first).to_contain_text("Uitslagen")
    assert _kept(page)

    # Search as you type: no Enter; the status line says how much was found.
    page.goto(base + "/search")
    _mark(page)
    page.get_by_label("Zoek een woord, een medicijn, een test of een code").press_sequentially("astma", delay=30)
    expect(page.get_by_role("heading", name=re.compile("Problemen en episodes"))).to_be_visible()
    expect(page.locator("#search-status")).to_contain_text("gevonden voor “astma”")
    expect(page).to_have_url(re.compile(r"/search\?q=astma$"))
    assert _kept(page)


def _works_without_javascript(page: Page, base: str) -> None:
    """The same pages with script switched off: plain links and forms, the table instead of the chart."""
    context = page.context.browser.new_context(storage_state=page.context.storage_state(),
                                                java_script_enabled=False, locale="nl-NL")
    plain = context.new_page()
    try:
        plain.goto(base + "/timeline")
        plain.get_by_role("link", name="Oudere gegevens").click()
        expect(plain).to_have_url(re.compile(r"/timeline\?cursor="))
        expect(plain.locator("#timeline li.item").first).to_be_visible()
        plain.goto(base + "/search")
        plain.get_by_label("Zoek een woord, een medicijn, een test of een code").fill("astma")
        plain.get_by_role("button", name="Zoeken", exact=True).click()
        expect(plain.get_by_role("heading", name=re.compile("Problemen en episodes"))).to_be_visible()
        plain.goto(base + "/results/59261-8")
        expect(plain.locator(".chart-box")).to_be_hidden()
        expect(plain.locator("table.results")).to_contain_text("60 mmol/mol")
    finally:
        context.close()
