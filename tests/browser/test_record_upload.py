"""The upload page in Chromium: files dropped on the page (drag and drop, several at once)
are imported like chosen files, each with its own outcome; axe at desktop and phone width."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page, register_with_totp

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GOOD = orjson.dumps({"resourceType": "Observation", "id": "w1", "status": "final",
                     "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/nl-core-BodyWeight"]},
                     "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Gewicht"}]},
                     "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-05-01T10:00:00+02:00",
                     "valueQuantity": {"value": 72.5, "unit": "kg"}}).decode()
BAD = '{"resourceType": "Observation", "id": "w2", "status": "bijna"}'

# Drop two files on the zone, as a browser's drag and drop does (a DragEvent with a DataTransfer).
DROP = """([good, bad]) => {
  const data = new DataTransfer();
  data.items.add(new File([good], "gewicht.json", {type: "application/json"}));
  data.items.add(new File([bad], "kapot.json", {type: "application/json"}));
  const zone = document.querySelector("[data-drop-zone]");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
  return document.getElementById("files").files.length;
}"""


def test_dropped_files_are_imported_each_with_its_outcome(page: Page, live_server: LiveServer,
                                                          output_dir: Path, database_url: str) -> None:
    register_with_totp(page, live_server, "sanne@voorbeeld.nl")
    page.goto(live_server.base_url + "/record/upload")
    expect(page.locator("[data-drop-hint]")).to_be_visible()  # the script offers dropping
    check_page(page, output_dir, "upload")
    assert page.evaluate(DROP, [GOOD, BAD]) == 2
    page.get_by_role("button", name="Toevoegen aan mijn dossier").click()
    rows = page.locator("table.outcomes tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-outcome", "ok")
    expect(rows.nth(0)).to_contain_text("gewicht.json")
    expect(rows.nth(1)).to_have_attribute("data-outcome", "failed")
    expect(rows.nth(1)).to_contain_text("kapot.json")
    expect(rows.nth(1)).to_contain_text("Observation/w2")  # the resource and the reason are named
    expect(rows.nth(1)).to_contain_text("missing required field `code`")
    page.goto(live_server.base_url + "/record/vital_signs")
    expect(page.locator("main")).to_contain_text("72,5")


def test_the_outcomes_fit_a_phone(page: Page, live_server: LiveServer, output_dir: Path, database_url: str) -> None:
    register_with_totp(page, live_server, "sanne@voorbeeld.nl")
    page.goto(live_server.base_url + "/record/upload")
    assert page.evaluate(DROP, [GOOD, BAD]) == 2
    page.get_by_role("button", name="Toevoegen aan mijn dossier").click()
    expect(page.locator("table.outcomes tbody tr")).to_have_count(2)
    check_page(page, output_dir, "upload-outcomes")
