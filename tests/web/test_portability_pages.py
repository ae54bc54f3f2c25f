"""The export page: step-up first, then a streamed download (no-store, attachment, audited);
the portability report; importing an archive by upload, and a refused one."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from regie.store.ingest import RecordService
from tests.fhir.fixtures import SKIP_REASON, available, fixture_files, load, standard_of
from tests.web.helpers import Browser

pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


def _fill(browser: Browser, email: str) -> None:
    context = browser.context
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    service = RecordService(context.db, context.accounts.keyring)
    files = [(p.name, load(p)) for p in fixture_files() if standard_of(p) == "BgZ-3-0"]
    outcomes = service.import_many(service.keys(user), files, channel="cli")
    assert all(o.ok for o in outcomes)


def _step_up(browser: Browser, account) -> None:
    confirmed = browser.post_form("/account/confirm", {"code": browser.clock.code(account.totp_secret),
                                                       "next": "/export"}, token_from="/account/confirm")
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/export"


def _summary(browser: Browser) -> dict:
    response = browser.client.get("/api/v1/record/summary")
    assert response.status_code == 200
    return response.json()


def test_export_needs_step_up_then_streams_an_archive_that_imports(browser: Browser) -> None:
    account = browser.register()
    _fill(browser, account.email)
    page = browser.client.get("/export")
    assert page.status_code == 200 and "/account/confirm?next=/export" in page.text
    early = browser.post_form("/export/download", {"format": "archive"}, token_from="/export")
    assert early.status_code == 303 and early.headers["location"].startswith("/account/confirm")

    _step_up(browser, account)
    response = browser.post_form("/export/download", {"format": "archive"}, token_from="/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith('attachment; filename="regie-archive-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
    before = _summary(browser)
    assert manifest["summary"] == before
    audit = browser.client.get("/api/v1/audit").json()
    assert any(e["action"] == "export" and e["target"] == "archive" for e in audit["entries"])

    pdf = browser.post_form("/export/download", {"format": "pdf", "section": ["allergies", "medication"]},
                            token_from="/export")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Samenvatting voor uw arts" in text and "Bijengif" in text
    nothing = browser.post_form("/export/download", {"format": "pdf"}, token_from="/export")
    assert nothing.status_code == 422

    # Another account takes the archive along: same record, and twice is the same as once.
    browser.logout()
    other = browser.register()
    assert _summary(browser)["resources"] == 0
    for attempt in range(2):
        token = browser.csrf("/export/import")
        imported = browser.client.post("/export/import", data={"csrf_token": token},
                                       files={"archive": ("export.zip", response.content, "application/zip")})
        assert imported.status_code == 200, imported.text
        assert "data-import-done" in imported.text
        assert _summary(browser) == before
    assert other.email != account.email


def test_a_refused_archive_imports_nothing(browser: Browser) -> None:
    browser.register()
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as zipped:
        zipped.writestr("manifest.json", "{}")
        zipped.writestr("../outside.txt", "x")
    token = browser.csrf("/export/import")
    refused = browser.client.post("/export/import", data={"csrf_token": token},
                                  files={"archive": ("bad.zip", bad.getvalue(), "application/zip")})
    assert refused.status_code == 422
    assert "data-import-refused" in refused.text and "outside the archive" in refused.text
    assert "onveilige plek" in refused.text  # the reason in Dutch, the detail after it
    assert _summary(browser)["resources"] == 0
    empty = browser.client.post("/export/import", data={"csrf_token": token},
                                files={"archive": ("x.zip", b"not a zip", "application/zip")})
    assert empty.status_code == 422 and "not a zip archive" in empty.text


def test_portability_report_lists_collected_services(browser: Browser) -> None:
    from sqlalchemy import update

    from regie.collect.service import Collections, ProviderEndpoints, ServiceEndpoint
    from regie.store.collect_models import Collection
    from regie.store.types import utcnow

    account = browser.register()
    context = browser.context
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    endpoints = ProviderEndpoints("huisarts@medmij", "Huisarts", "https://a.example/auth", "https://a.example/token",
                                  (ServiceEndpoint("48", "BgZ", None),))
    done = collections.create(user.id, endpoints, channel="web")
    collections.create(user.id, endpoints, channel="web")  # asked again, never finished
    with context.db.session() as session:
        session.execute(update(Collection).where(Collection.id == done).values(state="done", finished_at=utcnow()))
    page = browser.client.get("/export/portability")
    assert page.status_code == 200
    assert 'data-provider="huisarts@medmij"' in page.text and "(48)" in page.text
    assert "nooit helemaal gelukt" not in page.text  # the finished one counts
