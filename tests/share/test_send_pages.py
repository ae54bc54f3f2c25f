"""The pages: preview, choose a provider, check exactly what will be sent, confirm, consent
at the sandbox, back on /send/callback in the same browser session, the outcome."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.collect.harness import GP, consent
from tests.share.test_send_live import _pdf
from tests.web.helpers import Browser

SEND_ID = re.compile(r"^/send/([0-9a-f]{32})$")


def _browser(regie) -> Browser:
    browser = Browser(regie.client, regie.app.state.context)
    browser.register()
    return browser


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_measurements_preview_confirm_send(regie):
    b = _browser(regie)
    token = b.csrf("/measurements/send")
    added = regie.client.post("/api/v1/measurements", headers={"X-CSRF-Token": token}, json={
        "type": "body_weight", "value": 72.5, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    assert added.status_code == 201, added.text
    form = {"types": "body_weight", "from": "", "to": "", "name": "Jan Jansen"}
    preview = b.post_form("/measurements/send", {**form, "do": "preview"})
    assert preview.status_code == 200 and 'value="huisartsdevries@medmij"' in preview.text
    assert 'name="do" value="send"' in preview.text
    chosen = b.post_form("/measurements/send", {**form, "do": "send", "provider": GP})
    assert chosen.status_code == 303, chosen.text
    send_path = chosen.headers["location"]
    assert SEND_ID.match(send_path)
    check = regie.client.get(send_path)
    assert "data-preview" in check.text and "data-send-go" in check.text and "zib-BodyWeight" in check.text
    go = regie.client.get(f"{send_path}/go", follow_redirects=False)
    assert go.status_code == 303
    url = go.headers["location"]
    assert parse_qs(urlsplit(url).query)["scope"] == [f"{GP}~904"]
    back = consent(url)
    # Another browser cannot use this state: it is bound to the session that started it.
    with TestClient(regie.app, base_url="http://localhost:8000") as other:
        refused = other.get(_path(back), follow_redirects=False)
        assert refused.status_code == 400 and "data-send-problem" in refused.text
    done = regie.client.get(_path(back), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == send_path
    outcome = regie.client.get(send_path)
    assert 'data-send-outcome="sent"' in outcome.text
    assert "heeft de gegevens ontvangen" in outcome.text
    history = regie.client.get("/send")
    assert send_path.rsplit("/", 1)[1] in history.text and "Verstuurd" in history.text
    # An unknown provider is refused on the form.
    wrong = b.post_form("/measurements/send", {**form, "do": "send", "provider": "ziekenhuisrivierenland"})
    assert wrong.status_code == 422


def test_document_upload_preview_send(regie):
    b = _browser(regie)
    page = regie.client.get("/send/document")
    assert page.status_code == 200 and 'value="huisartsdevries@medmij"' in page.text
    token = b.csrf("/send/document")
    bad = regie.client.post("/send/document", data={"csrf_token": token, "provider": GP, "title": "Brief",
                                                     "name": "Jan"},
                            files={"file": ("brief.txt", b"hello", "text/plain")}, follow_redirects=False)
    assert bad.status_code == 422
    token = b.csrf("/send/document")
    made = regie.client.post("/send/document", data={"csrf_token": token, "provider": GP,
                                                      "title": "Brief van het ziekenhuis", "name": "Jan Jansen",
                                                      "type": "referral_letter"},
                             files={"file": ("brief.pdf", _pdf(), "application/pdf")}, follow_redirects=False)
    assert made.status_code == 303, made.text
    send_path = made.headers["location"]
    check = regie.client.get(send_path)
    assert "Brief van het ziekenhuis" in check.text and "verwijsbrief" in check.text
    assert "JVBER" not in check.text  # the PDF's bytes are not dumped into the page
    url = regie.client.get(f"{send_path}/go", follow_redirects=False).headers["location"]
    assert parse_qs(urlsplit(url).query)["scope"] == [f"{GP}~51"]
    assert regie.client.get(_path(consent(url)), follow_redirects=False).status_code == 303
    assert 'data-send-outcome="sent"' in regie.client.get(send_path).text


def test_a_pdf_from_the_record(regie):
    from tests.collect.harness import wait_finished

    b = _browser(regie)
    token = b.csrf("/send/document")
    headers = {"X-CSRF-Token": token}
    started = regie.client.post("/api/v1/collections", json={"provider": GP, "services": ["51"]}, headers=headers)
    assert started.status_code == 201, started.text
    regie.client.get(_path(consent(started.json()["authorization_url"])), follow_redirects=False)
    assert wait_finished(lambda p: regie.client.get(p), started.json()["id"])["state"] == "done"
    items = regie.client.get("/api/v1/record/items?category=documents&limit=200").json()["items"]
    page = item = None
    for candidate in items:
        page = regie.client.get(f"/send/document?item={candidate['id']}")
        if page.status_code == 200:
            item = candidate["id"]
            break
    assert item is not None, "no PDF in the collected documents"
    assert "data-record-document" in page.text and 'type="file"' not in page.text
    assert 'href="/send/document?item=' in regie.client.get(f"/documents/{item}").text
    made = b.post_form(f"/send/document?item={item}", {"provider": GP, "title": "Brief", "name": "Jan Jansen",
                                                       "item": item})
    assert made.status_code == 303, made.text
    send_path = made.headers["location"]
    url = regie.client.get(f"{send_path}/go", follow_redirects=False).headers["location"]
    assert regie.client.get(_path(consent(url)), follow_redirects=False).status_code == 303
    assert 'data-send-outcome="sent"' in regie.client.get(send_path).text
    assert regie.client.get("/send/document?item=nope").status_code == 404
