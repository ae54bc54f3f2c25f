"""Stored XSS: a record with script in its narrative (``text.div``), a name, a diagnosis, a note
and a diary entry is shown in Chromium on every page that shows those fields, and no script runs.

Proof: the payloads set ``window.__xss`` or open a dialog; the flag stays unset, no dialog opens,
no element with an event handler from the payload exists, and the payload text is visible as
text (it was shown, escaped, not dropped). Also no CSP violation is logged: the page fixture fails
on console errors, so the payload was never markup in the first place, not merely blocked by the CSP.
SQLite only: the escaping does not depend on the database (tests/security covers both).
"""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Page

from regie.fhir.version import FhirVersion
from regie.store.ingest import RecordService
from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page
from tests.browser.pages import register_with_totp as _register

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src="x" onerror="window.__xss=2;alert(2)">'
SVG = '<svg onload="window.__xss=3">'
BREAKOUT = '"><script>window.__xss=4</script><a href="javascript:window.__xss=5">klik</a>'
PAYLOAD = SCRIPT + IMG + SVG + BREAKOUT


def _bundle() -> bytes:
    # The narrative is shown as markup after nh3 (regie.fhir.narrative): its table must survive,
    # and none of script, event handler, javascript: link, svg, style or outside image may.
    narrative = ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Verslag ' + IMG.replace('">', '"/>')
                 + '</p><script>window.__xss=6</script><a href="javascript:window.__xss=7">x</a>'
                 '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=8"><script>window.__xss=9</script></svg>'
                 '<p style="background:url(javascript:window.__xss=10)" onmouseover="window.__xss=11">Opmaak</p>'
                 '<img src="https://kwaad.example/pixel.png"/>'
                 '<table><caption>Uitslagen</caption><tr><th>Bepaling</th><th>Waarde</th></tr>'
                 '<tr><td>Glucose</td><td>5,4</td></tr></table></div>')
    resources = [
        {"resourceType": "Patient", "id": "pat", "name": [{"family": "Jansen" + IMG, "given": [SCRIPT]}]},
        {"resourceType": "Condition", "id": "c1", "code": {"text": "Ziekte" + PAYLOAD},
         "subject": {"reference": "Patient/pat"}},
        # An unknown kind of resource: the viewer shows its narrative.
        {"resourceType": "Flag", "id": "f1", "status": "active", "code": {"text": "Vlag" + SVG},
         "subject": {"reference": "Patient/pat"}, "text": {"status": "generated", "div": narrative}},
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})


def _visit(page: Page, url: str, dialogs: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss === undefined"), (url, page.evaluate("window.__xss"))
    assert not dialogs, (url, dialogs)
    handlers = page.evaluate(
        "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
        ".some(a => a.name.startsWith('on') || a.value.trim().toLowerCase().startsWith('javascript:'))).length")
    assert handlers == 0, url


# Escaping does not depend on the database, and the browser half is the slow part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_script_from_stored_data_runs(page: Page, live_server: LiveServer, database_url: str,
                                        output_dir: Path) -> None:
    base = live_server.base_url
    email = "xss@voorbeeld.nl"
    _register(page, live_server, email)
    context = live_server.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    outcome = service.import_bytes(service.keys(user), _bundle(), name="kwaad.json", source="huisarts", channel="cli",
                                     fhir_version=FhirVersion.R4)
    assert outcome.ok, outcome.error

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(base + "/diary")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    headers = {"X-CSRF-Token": csrf}
    items = page.request.get(base + "/api/v1/record/items").json()
    items = items["items"] if isinstance(items, dict) else items
    assert len(items) >= 2
    for item in items:
        note = page.request.post(f"{base}/api/v1/record/items/{item['id']}/notes", data={"text": "Notitie" + PAYLOAD},
                                 headers=headers)
        assert note.status == 201, note.text()
    diary = page.request.post(base + "/api/v1/diary", data={"severity": 2, "symptoms": ["hoofdpijn" + IMG],
                                                            "text": "Dagboek" + PAYLOAD}, headers=headers)
    assert diary.status == 201, diary.text()

    urls = ["/", "/timeline", "/diary", "/search?q=Ziekte", "/emergency-card", "/record/problems", "/record/other",
            "/account", "/audit"]
    for item in items:
        urls += [f"/record/items/{item['id']}", f"/record/items/{item['id']}/notes"]
    for url in urls:
        _visit(page, base + url, dialogs)
    # The payloads were shown as text, not dropped: the escaping is what protected the page.
    page.goto(base + "/diary")
    assert "window.__xss" in page.locator("main").inner_text()
    flag = next(item for item in items if "Vlag" in orjson.dumps(item).decode())
    page.goto(f"{base}/record/items/{flag['id']}")
    assert "Verslag" in page.locator("main").inner_text()
    # The narrative is markup now: its table survived, with its cells ...
    narrative = page.locator("main .narrative-html")
    assert narrative.locator("table caption").inner_text() == "Uitslagen"
    assert narrative.locator("table td").all_inner_texts() == ["Glucose", "5,4"]
    # ... and nothing active or outside did: no script, svg, style, image, or link to javascript:.
    for selector in ("script", "svg", "img", "iframe", "object", "[style]", "[onload]", "[onerror]",
                     "[onmouseover]", "a[href^='javascript']"):
        assert narrative.locator(selector).count() == 0, selector
    assert narrative.locator("a").count() == 1 and narrative.locator("a").get_attribute("href") is None
    # The narrative's table scrolls inside its own region on a phone; axe finds nothing.
    check_page(page, output_dir, "narrative")
