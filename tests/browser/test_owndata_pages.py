"""Entering measurements (with a refused and an unusual value) and a diary entry in Chromium;
axe (WCAG 2.1 AA) at desktop and phone width. SQLite only (tests/web covers both databases)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page
from tests.browser.pages import register_with_totp as _register

# Browser pages are checked on SQLite; tests/web covers PostgreSQL.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_measurements_and_diary(page: Page, live_server: LiveServer, output_dir: Path, database_url: str) -> None:
    base = live_server.base_url
    _register(page, live_server, "sanne@voorbeeld.nl")
    page.goto(base + "/measurements")
    check_page(page, output_dir, "measurements-empty")

    # Weight: 800 kg is refused with a message next to the field.
    page.get_by_role("link", name="Gewicht", exact=True).first.click()
    page.get_by_label("Gewicht").fill("800")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("#value-error")).to_contain_text("800 kg kan niet")
    expect(page.get_by_label("Gewicht")).to_have_attribute("aria-invalid", "true")
    check_page(page, output_dir, "weight-refused")
    page.get_by_label("Gewicht").fill("72,5")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("main")).to_contain_text("72,5 kg")

    # A target range for the weight: a band on the chart.
    page.goto(base + "/measurements/new?type=body_weight")
    page.get_by_label("Gewicht").fill("74")
    page.get_by_label("Datum en tijd").fill("2026-01-02T08:00")
    page.get_by_role("button", name="Bewaren").click()
    page.get_by_text("Uw streefwaarden").click()
    page.get_by_label("Laagste").fill("65")
    page.get_by_label("Hoogste").fill("73")
    page.get_by_role("button", name="Streefwaarden bewaren").click()
    expect(page.locator(".chart-box canvas")).to_be_visible()
    assert page.evaluate("Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets"
                         ".filter(d => d.band).length") == 1
    expect(page.locator(".badge-outside")).to_have_count(1)
    check_page(page, output_dir, "weight-with-target")

    # Blood pressure 250/40 asks for confirmation first.
    page.goto(base + "/measurements/new?type=blood_pressure")
    check_page(page, output_dir, "blood-pressure-form")
    page.get_by_label("Bovendruk (systolisch)").fill("250")
    page.get_by_label("Onderdruk (diastolisch)").fill("40")
    page.get_by_label("Arm").select_option("left")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("#systolic-warning")).to_contain_text("heel ongewoon")
    check_page(page, output_dir, "blood-pressure-confirm")
    page.get_by_label("Ja, deze waarde klopt").check()
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("main")).to_contain_text("250/40 mmHg")
    page.get_by_role("link", name=re.compile(r"\d\d-\d\d-\d{4}")).first.click()
    check_page(page, output_dir, "blood-pressure-detail")

    # Phone-sized quick entry of a heart rate.
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(base + "/measurements/new?type=heart_rate")
    page.get_by_label("Hartslag").fill("64")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator("main")).to_contain_text("64 /min")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A diary entry, then a second one for the chart.
    page.goto(base + "/diary")
    check_page(page, output_dir, "diary-empty")
    for when, symptoms, severity in (("2026-01-04T20:00", "hoofdpijn, misselijk", "6"), ("2026-01-05T20:00", "hoofdpijn", "3")):
        page.get_by_label("Klachten").fill(symptoms)
        page.get_by_label("Hoe erg was het?").select_option(severity)
        page.get_by_label("Datum en tijd").fill(when)
        page.get_by_label("Labels (mag leeg blijven)").fill("migraine")
        page.get_by_role("button", name="Bericht bewaren").click()
        expect(page.locator("[role=status]")).to_contain_text("bewaard")
    expect(page.locator(".chart-box canvas")).to_be_visible()
    expect(page.locator("tr[data-entry]")).to_have_count(2)
    check_page(page, output_dir, "diary")
    page.goto(base + "/measurements/send")
    page.get_by_label("Gewicht", exact=True).check()
    page.get_by_label("Uw naam").fill("Sanne de Vries")
    page.get_by_role("button", name="Laat zien wat er wordt verstuurd").click()
    expect(page.locator("main")).to_contain_text("72,5 kg")
    check_page(page, output_dir, "measurements-send")
    page.goto(base + "/measurements/import")
    check_page(page, output_dir, "measurements-import")
    page.goto(base + "/appointments")
    page.get_by_role("button", name="Agendalink maken").click()
    expect(page.locator("[data-feed-url]")).to_contain_text("/calendar/")
    check_page(page, output_dir, "appointments")
