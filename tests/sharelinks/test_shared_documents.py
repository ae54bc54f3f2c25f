"""A document on a shared page opens for the recipient only while the link works, only
when the link shows it, and only after the code; each opening is audited. Both databases."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from regie.store.record_models import AuditEntry
from tests.sharelinks.record_data import LETTER, NAME, PDF, document_bundle, load_record
from tests.web.helpers import CSRF, Browser

URL = re.compile(r'id="share-url" type="text" value="([^"]+)"')
CODE = re.compile(r"data-share-code>(\d{6})<")


def _link(browser: Browser, **fields: str) -> tuple[str, str | None]:
    response = browser.post_form("/share-links", {"hours": "24", "patient_name": NAME, **fields},
                                 token_from="/share-links/new")
    assert response.status_code == 200, response.text
    url = URL.search(response.text).group(1)
    code = CODE.search(response.text)
    return url[url.index("/s/"):], code.group(1) if code else None


def test_documents_through_a_share_link(app, browser: Browser) -> None:
    account = browser.register()
    load_record(browser.context, account.email)
    load_record(browser.context, account.email, document_bundle(), name="ziekenhuis.json")
    items = browser.client.get("/api/v1/record/items", params={"limit": 50}).json()["items"]
    letter = next(i["id"] for i in items if i["resource_type"] == "DocumentReference")
    medicine = next(i["id"] for i in items if i["category"] == "medication")
    path, _ = _link(browser, cat_documents="all")
    medication_only, _ = _link(browser, cat_medication="all")
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as doctor:
        page = doctor.get(path)
        assert LETTER in page.text and f'href="{path}/documents/{letter}"' in page.text
        pdf = doctor.get(f"{path}/documents/{letter}")
        assert pdf.status_code == 200 and pdf.content == PDF
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline")
        assert pdf.headers["content-security-policy"] == "sandbox; default-src 'none'"
        assert pdf.headers["cache-control"] == "no-store" and pdf.headers["referrer-policy"] == "no-referrer"
        # Not shown by this link: refused, like an item of another category or a made-up id.
        assert doctor.get(f"{medication_only}/documents/{letter}").status_code == 404
        assert doctor.get(f"{path}/documents/{medicine}").status_code == 404
        assert doctor.get(f"{path}/documents/{'0' * 32}").status_code == 404
    with browser.context.db.session() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "read_document")).all()
    assert [(r.target, r.channel) for r in reads] == [(letter, "web")] and reads[0].actor_id != reads[0].user_id

    coded, code = _link(browser, cat_documents="all", with_code="1")
    listing = browser.client.get("/share-links").text
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as doctor:
        assert doctor.get(f"{coded}/documents/{letter}").status_code == 404  # not before the code
        token = CSRF.search(doctor.get(coded).text).group(1)
        doctor.post(coded, data={"code": code, "csrf_token": token})
        assert doctor.get(f"{coded}/documents/{letter}").content == PDF
        newest = re.search(r'href="/share-links/([0-9a-f]{32})"', listing).group(1)
        browser.post_form(f"/share-links/{newest}/revoke", {}, token_from=f"/share-links/{newest}")
        assert doctor.get(f"{coded}/documents/{letter}").status_code == 404  # revoked: gone at once
