"""Sending to a provider against the live sandbox over HTTP: measurements (904, batch)
and a PDF (51, transaction); one scope, the callback's state single use, the sandbox's
qualification checks, the receipt in the audit log."""
from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from regie.owndata.send import check_bundle
from regie.share.documents import check_document_bundle
from tests.collect.harness import GP, HOSPITAL, consent

PDF = Path(__file__).parent / "letter.pdf"


def _pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _measure(regie, **body):
    r = regie.client.post("/api/v1/measurements", json=body, headers=regie.headers)
    assert r.status_code == 201, r.text


def _received(regie, service: str) -> list[dict]:
    return regie.network.admin.get("/_sandbox/fhir/received.json",
                                   params={"provider": GP, "service": service}).json()


def test_send_measurements_to_the_gp(regie):
    _measure(regie, type="body_weight", value=72.5, unit="kg", time="2026-01-05T08:30:00+01:00")
    _measure(regie, type="blood_pressure", systolic=128, diastolic=82, unit="mm[Hg]",
             time="2026-01-06T08:30:00+01:00")
    _measure(regie, type="heart_rate", value=61, unit="/min", time="2025-06-06T08:30:00+01:00")  # outside period
    r = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "measurements", "provider": GP, "types": ["body_weight", "blood_pressure", "heart_rate"],
        "from": "2026-01-01", "to": "2026-01-31", "name": "Jan Jansen"})
    assert r.status_code == 201, r.text
    preview = r.json()
    assert preview["state"] == "pending" and preview["service"] == "904" and preview["entries"] == 3
    assert check_bundle(preview["bundle"]) == []
    assert not _received(regie, "904")  # the preview sends nothing
    confirmed = regie.client.post(f"/api/v1/sends/{preview['id']}/confirm", headers=regie.headers).json()
    query = parse_qs(urlsplit(confirmed["authorization_url"]).query)
    assert query["scope"] == [f"{GP}~904"]
    assert query["redirect_uri"] == ["http://localhost:8000/send/callback"]
    back = consent(confirmed["authorization_url"])
    answer = regie.callback(back)
    assert answer.status_code == 200 and "data-send-done" in answer.text
    view = regie.get(f"/api/v1/sends/{preview['id']}").json()
    assert view["state"] == "sent" and view["http_status"] == 200 and view["error"] is None, view
    assert view["response"]["type"] == "batch-response"
    received = _received(regie, "904")
    assert len(received) == 1
    got = received[0]
    assert got["bundle"]["type"] == "batch" and not got["warnings"], got
    assert got["bundle"] == preview["bundle"]  # exactly what was previewed
    # The state is single use.
    assert regie.callback(back).status_code == 400
    # The receipt: what, outcome; no medical content. To whom is in the encrypted send
    # the id points to (a provider's name says which care), never in the plain audit log.
    entries = regie.get("/api/v1/audit?limit=50").json()["entries"]
    targets = {e["target"] for e in entries if e["action"] == "send-sent"}
    assert {preview["id"], "service 904 measurements"} <= targets
    assert not any("huisartsdevries" in t for t in targets)
    assert not any("72.5" in t or "kg" in t for t in targets)


def test_send_a_pdf_to_the_gp(regie):
    r = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "document", "provider": GP, "title": "Brief van het ziekenhuis", "name": "Jan Jansen",
        "type": "discharge_letter", "pdf": base64.b64encode(_pdf()).decode()})
    assert r.status_code == 201, r.text
    preview = r.json()
    assert preview["service"] == "51" and preview["bundle"]["type"] == "transaction"
    assert check_document_bundle(preview["bundle"]) == []
    url = regie.client.post(f"/api/v1/sends/{preview['id']}/confirm", headers=regie.headers).json()["authorization_url"]
    assert parse_qs(urlsplit(url).query)["scope"] == [f"{GP}~51"]
    assert regie.callback(consent(url)).status_code == 200
    view = regie.get(f"/api/v1/sends/{preview['id']}").json()
    assert view["state"] == "sent", view
    got = _received(regie, "51")[0]
    assert not got["warnings"]
    types = [e["resource"]["resourceType"] for e in got["bundle"]["entry"]]
    assert types == ["Patient", "DocumentManifest", "DocumentReference", "Binary"]
    assert base64.b64decode(got["bundle"]["entry"][3]["resource"]["content"]) == _pdf()


def test_refused_consent_and_wrong_provider(regie):
    _measure(regie, type="body_weight", value=72.5, unit="kg", time="2026-01-05T08:30:00+01:00")
    # A provider that does not receive self-measurements is refused before anything happens.
    r = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "measurements", "provider": HOSPITAL, "types": ["body_weight"], "name": "Jan"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "provider"
    r = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "measurements", "provider": GP, "types": ["body_weight"], "name": "Jan"})
    send_id = r.json()["id"]
    url = regie.client.post(f"/api/v1/sends/{send_id}/confirm", headers=regie.headers).json()["authorization_url"]
    back = consent(url, answer="no")
    assert "error=access_denied" in back
    regie.callback(back)
    view = regie.get(f"/api/v1/sends/{send_id}").json()
    assert view["state"] == "failed" and view["error"] == "access_denied" and "toestemming" in view["message"]
    assert not _received(regie, "904")
    assert regie.client.post(f"/api/v1/sends/{send_id}/confirm", headers=regie.headers).status_code == 404
    assert regie.client.get("/send/callback?code=x&state=nope").status_code == 400
