"""Correction requests (909, Patient Corrections, R4) end to end against the live sandbox:
collect from the GP, "not right" on a collected item, the form, the preview that says the
provider's file is not changed, confirm, one ``<provider>~909`` scope, the transaction
Bundle the sandbox checks like the qualification scripts, the status on /corrections."""
from __future__ import annotations

import copy
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from regie.share.correction import check_correction_bundle, correction_bundle
from tests.collect.harness import GP, consent, wait_finished
from tests.share.test_send_pages import _browser, _path


def _received(regie) -> list[dict]:
    return regie.network.admin.get("/_sandbox/fhir/received.json", params={"provider": GP, "service": "909"}).json()


def _bundle():
    return correction_bundle(topic="Medicijn gestopt", text="Ik ben op 1 maart gestopt met dit medicijn.",
                             patient_name="Jan Jansen", provider_display="Huisartsenpraktijk De Vries",
                             sent=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))


def test_the_bundle_passes_the_qualification_checks():
    bundle = _bundle()
    assert check_correction_bundle(bundle, bsn="999990007") == []
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types == ["Communication", "Patient", "Organization"]
    c = bundle["entry"][0]["resource"]
    assert c["category"][0]["coding"][0]["code"] == "medRecCxReq" and c["status"] == "completed"
    assert c["subject"] == c["sender"] and c["subject"]["reference"] == bundle["entry"][1]["fullUrl"]


@pytest.mark.parametrize("spoil, expected", [
    (lambda b: b["entry"][0]["resource"].update(status="in-progress"), "status must be completed"),
    (lambda b: b["entry"][0]["resource"].update(payload=[{"contentString": " "}]), "needs a message"),
    (lambda b: b["entry"][0]["resource"]["category"][0]["coding"][0].update(code="x"), "medRecCxReq"),
    (lambda b: b["entry"][0]["resource"]["recipient"][0].update(reference="Organization/1"), "recipient"),
    (lambda b: b["entry"][1]["resource"].update(identifier=[{"system": "http://fhir.nl/fhir/NamingSystem/bsn",
                                                             "value": "999990007"}]), "BSN"),
    (lambda b: b["entry"][2].update(fullUrl="Organization/5"), "urn:uuid"),
])
def test_the_checks_find_what_the_qualification_would_reject(spoil, expected):
    bundle = copy.deepcopy(_bundle())
    spoil(bundle)
    assert any(expected in p for p in check_correction_bundle(bundle, bsn="999990007"))


def test_ask_the_gp_to_correct_an_item(regie):
    b = _browser(regie)
    token = b.csrf("/collect")
    started = regie.client.post("/api/v1/collections", json={"provider": GP, "services": ["49"]},
                                headers={"X-CSRF-Token": token})
    assert started.status_code == 201, started.text
    regie.client.get(_path(consent(started.json()["authorization_url"])), follow_redirects=False)
    assert wait_finished(lambda p: regie.client.get(p), started.json()["id"])["state"] == "done"
    items = regie.client.get("/api/v1/record/items?category=medication&limit=50").json()["items"]
    assert items, "no medication collected"
    item = items[0]["id"]
    page = regie.client.get(f"/record/items/{item}")
    assert f'href="/corrections/new?item={item}"' in page.text
    form = regie.client.get(f"/corrections/new?item={item}&reason=changed")
    assert form.status_code == 200 and "data-not-changed" in form.text and f'value="{GP}@medmij"' in form.text
    assert 'value="Veranderd: ' in form.text  # the subject starts from the item
    # Missing message and name: specific errors, what was typed stays.
    wrong = b.post_form("/corrections/new", {"item": item, "reason": "changed", "topic": "Medicijn gestopt",
                                             "text": "", "name": "", "provider": f"{GP}@medmij"},
                        token_from=f"/corrections/new?item={item}")
    assert wrong.status_code == 422 and 'id="text-error"' in wrong.text and 'id="name-error"' in wrong.text
    assert 'value="Medicijn gestopt"' in wrong.text
    made = b.post_form("/corrections/new", {"item": item, "reason": "changed", "topic": "Medicijn gestopt",
                                            "text": "Ik ben op 1 maart gestopt met dit medicijn.",
                                            "name": "Jan Jansen", "provider": f"{GP}@medmij"},
                       token_from=f"/corrections/new?item={item}")
    assert made.status_code == 303, made.text
    send_path = made.headers["location"]
    preview = regie.client.get(send_path)
    assert "data-correction" in preview.text and "data-not-changed" in preview.text
    assert "Ik ben op 1 maart gestopt" in preview.text and "dwv-PatientCorrectionsCommunication" in preview.text
    assert not _received(regie)
    go = regie.client.get(f"{send_path}/go", follow_redirects=False)
    assert parse_qs(urlsplit(go.headers["location"]).query)["scope"] == [f"{GP}~909"]
    done = regie.client.get(_path(consent(go.headers["location"])), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == send_path
    outcome = regie.client.get(send_path).text
    assert 'data-send-outcome="sent"' in outcome and "niet veranderd" in outcome
    received = _received(regie)
    assert len(received) == 1 and received[0]["warnings"] == [], received[0]["warnings"]
    got = received[0]["bundle"]
    assert got["type"] == "transaction" and check_correction_bundle(got, bsn=received[0]["bsn"]) == []
    assert received[0]["response"]["type"] == "transaction-response"
    listing = regie.client.get("/corrections").text
    assert f'data-correction="{send_path.rsplit("/", 1)[1]}"' in listing and "Verstuurd" in listing


def test_no_form_for_own_data_or_a_provider_without_909(regie):
    b = _browser(regie)
    token = b.csrf("/measurements")
    added = regie.client.post("/api/v1/measurements", headers={"X-CSRF-Token": token}, json={
        "type": "body_weight", "value": 72.5, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    assert added.status_code == 201, added.text
    own = regie.client.get("/api/v1/record/items?category=vital_signs&limit=5").json()["items"][0]["id"]
    assert "data-correction-link" not in regie.client.get(f"/record/items/{own}").text
    page = regie.client.get(f"/corrections/new?item={own}")
    assert page.status_code == 200 and "data-no-receiver" in page.text and "<form" not in page.text.split("<main")[1]
    assert regie.client.get("/corrections/new?item=nope").status_code == 404


def test_a_correction_request_over_the_api(regie):
    assert regie.collect(GP, ["49"])["state"] == "done"
    items = regie.get("/api/v1/record/items?category=medication&limit=5").json()["items"]
    body = {"kind": "correction", "item": items[0]["id"], "topic": "Medicijn gestopt",
            "text": "Ik gebruik dit niet meer.", "name": "Jan Jansen"}
    missing = regie.client.post("/api/v1/sends", headers=regie.headers, json={**body, "text": ""})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "text"
    made = regie.client.post("/api/v1/sends", headers=regie.headers, json=body)
    assert made.status_code == 201, made.text
    preview = made.json()
    assert preview["service"] == "909" and preview["kind"] == "correction"
    assert check_correction_bundle(preview["bundle"]) == []
    url = regie.client.post(f"/api/v1/sends/{preview['id']}/confirm", headers=regie.headers).json()["authorization_url"]
    assert parse_qs(urlsplit(url).query)["scope"] == [f"{GP}~909"]
    assert regie.callback(consent(url)).status_code in (200, 303)
    assert regie.get(f"/api/v1/sends/{preview['id']}").json()["state"] == "sent"
    got = _received(regie)[-1]
    assert got["warnings"] == [] and got["bundle"] == preview["bundle"]
    # Own data has no provider to ask.
    regie.client.post("/api/v1/measurements", headers=regie.headers, json={
        "type": "body_weight", "value": 72.5, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    own = regie.get("/api/v1/record/items?category=vital_signs&limit=5").json()["items"][0]["id"]
    refused = regie.client.post("/api/v1/sends", headers=regie.headers, json={**body, "item": own})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "provider"
