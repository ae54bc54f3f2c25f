"""Taking the data along in Chromium: confirm with the app first, download the PDF summary and
the archive, the portability report, and importing the archive again; axe (WCAG 2.1 AA) at
desktop and phone width with screenshots. SQLite only (tests/web covers PostgreSQL)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from regie.store.ingest import RecordService
from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page, register_with_totp
from tests.fhir.fixtures import SKIP_REASON, available, fixture_files, load, standard_of

# Browser pages are checked on SQLite; tests/web covers PostgreSQL.
pytestmark = [pytest.mark.skipif(not available(), reason=SKIP_REASON),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _fill(live_server: LiveServer, email: str) -> None:
    context = live_server.context
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    service = RecordService(context.db, context.accounts.keyring)
    files = [(p.name, load(p)) for p in fixture_files() if standard_of(p) in ("BgZ-3-0", "SelfMeasurements-2-0")]
    assert all(o.ok for o in service.import_many(service.keys(user), files, channel="cli"))


def test_export_download_and_import(page: Page, live_server: LiveServer, output_dir: Path, database_url: str,
                                    tmp_path: Path) -> None:
    base = live_server.base_url
    clock, secret = register_with_totp(page, live_server, "daan@voorbeeld.nl")
    _fill(live_server, "daan@voorbeeld.nl")

    page.goto(base + "/account")
    page.get_by_role("link", name="Uw gegevens meenemen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw gegevens meenemen")
    check_page(page, output_dir, "export-confirm-first")
    page.locator("a[href='/account/confirm?next=/export']").click()
    page.locator("#code").fill(clock.code(secret))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(re.compile(r"/export$"))
    check_page(page, output_dir, "export-form")

    # The PDF summary for a visit, with the parts the patient chose.
    page.get_by_label("Een samenvatting voor uw arts (PDF)").check()
    page.get_by_label("Uitslagen").uncheck()
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Downloaden").click()
    pdf = pdf_download.value
    assert re.fullmatch(r"regie-pdf-\d{8}-\d{4}\.pdf", pdf.suggested_filename)
    assert Path(pdf.path()).read_bytes().startswith(b"%PDF")

    # Everything, as one zip file.
    page.get_by_label("Alles (een zip-bestand)").check()
    with page.expect_download() as zip_download:
        page.get_by_role("button", name="Downloaden").click()
    archive = tmp_path / zip_download.value.suggested_filename
    zip_download.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        assert "manifest.json" in zipped.namelist() and "index.html" in zipped.namelist()

    page.get_by_role("link", name="Bij welke zorgverleners en diensten u gegevens ophaalde").click()
    check_page(page, output_dir, "export-portability")
    page.goto(base + "/export/import")
    check_page(page, output_dir, "import-form")
    page.get_by_label("Zip-bestand").set_input_files(str(archive))
    page.get_by_role("button", name="Inlezen").click()
    expect(page.locator("[data-import-done]")).to_contain_text("ingelezen")
    expect(page.locator("[data-import-totals]")).to_contain_text("Was er al: ")
    page.get_by_text("Per bron").click()
    expect(page.locator("main table")).to_contain_text("medmij-bgz-patient")
    check_page(page, output_dir, "import-done")

    # A file that is not an archive: a clear message, nothing added.
    bad = tmp_path / "niet-echt.zip"
    bad.write_bytes(b"geen zip")
    page.regie_expected_statuses.add(422)
    page.get_by_label("Zip-bestand").set_input_files(str(bad))
    page.get_by_role("button", name="Inlezen").click()
    expect(page.locator("[data-import-refused]")).to_contain_text("niets uit toegevoegd")
    check_page(page, output_dir, "import-refused")
