"""The sandbox resource server: catalogue queries, token rules, search features."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from regie.sandbox import synth
from regie.sandbox.services import SERVICES, service

from .conftest import PROVIDER, auth

BASE = f"/{PROVIDER}/fhir"


def _bundle(resp) -> dict:
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-type"].startswith("application/fhir+json")
    doc = resp.json()
    assert doc["resourceType"] == "Bundle" and doc["type"] == "searchset"
    return doc


def _ids(doc: dict, mode: str = "match") -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in doc.get("entry", [])
            if e["search"]["mode"] == mode]


@pytest.mark.parametrize("svc", [s for s in SERVICES if s.routine()], ids=lambda s: s.id)
def test_every_catalogue_query_answers(client, token, svc) -> None:
    tok = token(svc.id)
    read_ids: dict[str, str] = {}
    for q in svc.queries:
        if q.method != "GET" or q.interaction != "search":
            continue
        url = q.url(identifier="urn:oid:1.2.3|x", code="urn:oid:2.16.840.1.113883.2.4.4.10|1")
        doc = _bundle(client.get(f"{BASE}/{svc.id}/{url}", headers=auth(tok)))
        assert doc["total"] == len(_ids(doc))
        for e in doc.get("entry", []):
            read_ids.setdefault(e["resource"]["resourceType"], e["resource"]["id"])
            assert e["fullUrl"].endswith(f"/{svc.id}/{e['resource']['resourceType']}/"
                                         f"{e['resource']['id']}")
    for q in svc.queries:
        if q.interaction == "read" and q.resource_type in read_ids:
            resp = client.get(f"{BASE}/{svc.id}/{q.url(id=read_ids[q.resource_type])}",
                              headers=auth(tok))
            assert resp.status_code == 200


@pytest.mark.parametrize("sid", ["49", "63", "51", "903"])
def test_served_bundles_read_cleanly(client, token, sid) -> None:
    fhir = pytest.importorskip("regie.fhir")
    svc = service(sid)
    tok = token(sid)
    total = 0
    for q in svc.routine():
        if q.interaction != "search":
            continue
        resp = client.get(f"{BASE}/{sid}/{q.url()}", headers=auth(tok))
        doc = fhir.read_bytes(resp.content, name=f"{sid}-{q.resource_type}.json",
                              fhir_version=fhir.FhirVersion(svc.fhir_version))
        assert doc.bundle_type == "searchset"
        total += len(doc.resources)
    assert total > 0


def test_token_rules(client, token, grants, bsn) -> None:
    url = f"{BASE}/49/Encounter"
    resp = client.get(url)
    assert resp.status_code == 401 and "Bearer" in resp.headers["www-authenticate"]
    assert resp.json()["resourceType"] == "OperationOutcome"
    assert client.get(url, headers=auth("not-a-token")).status_code == 401
    tok = token("49")
    grants.expire_now(tok)
    assert client.get(url, headers=auth(tok)).status_code == 401
    assert client.get(url, headers=auth(token("63"))).status_code == 403
    other_provider = token("49", provider="ziekenhuisoost")
    assert client.get(url, headers=auth(other_provider)).status_code == 401
    good = token("49")
    assert client.get(url, headers=auth(good)).status_code == 200
    for bad in (f"patient={bsn}", "subject=Patient/1", "subject:Patient.identifier=x|1",
                "patient.identifier=http://fhir.nl/fhir/NamingSystem/bsn|1"):
        resp = client.get(f"{url}?{bad}", headers=auth(good))
        assert resp.status_code == 400, bad
        assert resp.json()["resourceType"] == "OperationOutcome"


def test_patient_comes_from_the_token(client, token) -> None:
    a, b = synth.person(7, 1).bsn, synth.person(7, 2).bsn
    pa = client.get(f"{BASE}/49/Patient", headers=auth(token("49", who=a))).json()
    pb = client.get(f"{BASE}/49/Patient", headers=auth(token("49", who=b))).json()
    assert pa["entry"][0]["resource"]["identifier"][0]["value"] == a
    assert pb["entry"][0]["resource"]["identifier"][0]["value"] == b
    assert synth.is_valid_bsn(a) and synth.is_valid_bsn(b)


def test_includes(client, token) -> None:
    tok = token("49")
    doc = _bundle(client.get(f"{BASE}/49/Patient?_include=Patient:general-practitioner",
                             headers=auth(tok)))
    assert len(_ids(doc)) == 1
    assert {i.split("/")[0] for i in _ids(doc, "include")} == {"Organization", "Practitioner"}
    plain = _bundle(client.get(f"{BASE}/49/Patient", headers=auth(tok)))
    assert _ids(plain, "include") == []
    doc = _bundle(client.get(
        f"{BASE}/49/MedicationRequest?category=http://snomed.info/sct|16076005"
        "&_include=MedicationRequest:medication", headers=auth(tok)))
    meds = {e["resource"]["medicationReference"]["reference"] for e in doc["entry"]
            if e["search"]["mode"] == "match"}
    assert meds == set(_ids(doc, "include"))


def test_include_iterate(client, token) -> None:
    # Practitioner reached only through PractitionerRole: needs :iterate.
    tok = token("905")
    doc = _bundle(client.get(
        f"{BASE}/905/Appointment?_include=Appointment:actor"
        "&_include:iterate=PractitionerRole:practitioner", headers=auth(tok)))
    inc = {i.split("/")[0] for i in _ids(doc, "include")}
    assert {"PractitionerRole", "Practitioner", "Patient"} <= inc


def test_date_filters(client, token) -> None:
    tok = token("49")
    q = service("49").routine()
    lab = next(x for x in q if x.resource_type == "Observation")
    doc = _bundle(client.get(f"{BASE}/49/{lab.url()}", headers=auth(tok)))
    limit = (date.today() - timedelta(days=14 * 31)).isoformat()
    dates = [e["resource"]["effectiveDateTime"][:10] for e in doc["entry"]
             if e["search"]["mode"] == "match"]
    assert dates and min(dates) >= limit
    everything = _bundle(client.get(
        f"{BASE}/49/Observation?code=https://referentiemodel.nhg.org/tabellen/"
        "nhg-tabel-45-diagnostische-bepalingen|", headers=auth(tok)))
    assert everything["total"] > doc["total"]
    today = date.today().isoformat()
    cur = _bundle(client.get(f"{BASE}/49/MedicationRequest?periodofuse=ge{today}"
                             "&category=http://snomed.info/sct|16076005", headers=auth(tok)))
    allmr = _bundle(client.get(f"{BASE}/49/MedicationRequest?category="
                               "http://snomed.info/sct|16076005", headers=auth(tok)))
    assert 0 < cur["total"] < allmr["total"]
    for e in cur["entry"]:
        period = e["resource"]["extension"][0]["valuePeriod"]
        assert period.get("end", "9999") >= today
    # gt/lt and a window
    y = (date.today() - timedelta(days=365)).isoformat()
    win = _bundle(client.get(f"{BASE}/49/Encounter", headers=auth(tok)))
    old = _bundle(client.get(f"{BASE}/905/Appointment?date=lt{y}", headers=auth(token("905"))))
    assert win["total"] > 0 and old["total"] >= 0
    bad = client.get(f"{BASE}/905/Appointment?date=ge31-12-2020", headers=auth(token("905")))
    assert bad.status_code == 400


def test_lastn_and_or_lists(client, token) -> None:
    tok = token("48")
    weights = _bundle(client.get(f"{BASE}/48/Observation?code=http://loinc.org|29463-7",
                                 headers=auth(tok)))
    assert weights["total"] > 1
    last = _bundle(client.get(f"{BASE}/48/Observation/$lastn?code=http://loinc.org|29463-7",
                              headers=auth(tok)))
    assert last["total"] == 1
    newest = max(e["resource"]["effectiveDateTime"] for e in weights["entry"])
    assert last["entry"][0]["resource"]["effectiveDateTime"] == newest
    two = _bundle(client.get(f"{BASE}/48/Observation/$lastn?max=2&code=http://loinc.org|"
                             "29463-7,http://loinc.org|8302-2", headers=auth(tok)))
    assert two["total"] == 3  # two weights + the one height
    lab = _bundle(client.get(f"{BASE}/48/Observation/$lastn?category=http://snomed.info/sct|"
                             "275711006&_include=Observation:specimen", headers=auth(tok)))
    assert lab["total"] == 5 and _ids(lab, "include")


def test_reads_binary_and_404(client, token) -> None:
    tok = token("51")
    docs = _bundle(client.get(f"{BASE}/51/DocumentReference?status=current",
                              headers=auth(tok)))
    ref = docs["entry"][0]["resource"]
    url = ref["content"][0]["attachment"]["url"]
    pdf = client.get(f"{BASE}/51/{url}", headers={"Authorization": f"Bearer {tok}"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    res = client.get(f"{BASE}/51/{url}", headers=auth(tok)).json()
    assert res["resourceType"] == "Binary" and res["contentType"] == "application/pdf"
    one = client.get(f"{BASE}/51/DocumentReference/{ref['id']}", headers=auth(tok)).json()
    assert one == ref
    for missing in ("Binary/foutieve-en-onbekend-id", "DocumentReference/nope"):
        resp = client.get(f"{BASE}/51/{missing}", headers=auth(tok))
        assert resp.status_code == 404
        assert resp.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"{BASE}/51/DocumentReference?status=current&indexed=ge2000-01-01"
                      "&indexed=le2000-12-31", headers=auth(tok)).json()["total"] == 0
    assert client.get(f"{BASE}/49/Binary?x=1", headers=auth(token("49"))).status_code == 404
    assert client.get(f"/{PROVIDER}/fhir/4242/Patient", headers=auth(tok)).status_code == 404


def test_unsupported_things_are_refused(client, token) -> None:
    tok = token("49")
    assert client.get(f"{BASE}/49/Encounter?frobnicate=1",
                      headers=auth(tok)).status_code == 400
    assert client.get(f"{BASE}/49/Encounter?_format=turtle", headers=auth(tok)).status_code == 406
    assert client.post(f"{BASE}/49", json={"resourceType": "Bundle", "type": "transaction"},
                       headers=auth(tok)).status_code == 405
    meta = client.get(f"{BASE}/49/metadata")
    assert meta.status_code == 200 and meta.json()["fhirVersion"] == "3.0.2"


def test_r4_service_for_r4(client, token) -> None:
    resp = client.get(f"{BASE}/63/Immunization", headers=auth(token("63")))
    assert "fhirVersion=4.0" in resp.headers["content-type"]
    doc = _bundle(resp)
    assert doc["total"] >= 1
    imm = doc["entry"][0]["resource"]
    assert imm["meta"]["profile"] == [
        "http://nictiz.nl/fhir/StructureDefinition/imm-Vaccination-event"]
    assert "occurrenceDateTime" in imm


def test_transaction_received_and_served(client, token, app) -> None:
    tok = token("904")
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"fullUrl": "urn:uuid:0f0e4ad0-0000-4000-8000-000000000001",
         "resource": {"resourceType": "Observation",
                      "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/"
                                           "zib-BodyWeight"]},
                      "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                      "effectiveDateTime": date.today().isoformat(),
                      "valueQuantity": {"value": 71.5, "unit": "kg"}},
         "request": {"method": "POST", "url": "Observation"}},
        {"resource": {"resourceType": "Observation", "id": "x", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}},
         "request": {"method": "POST", "url": "Observation"}},
    ]}
    resp = client.post(f"{BASE}/904", content=json.dumps(bundle), headers=auth(tok))
    assert resp.status_code == 200
    out = resp.json()
    assert out["type"] == "batch-response"
    assert [e["response"]["status"] for e in out["entry"]] == ["201 Created"] * 2
    received = app.state.received.items(PROVIDER, "904")
    assert len(received) == 1
    assert any("meta.profile" in w for w in received[0].warnings)
    assert any("carries an id" in w for w in received[0].warnings)
    served = client.get(f"{BASE}/904/Observation/$lastn?code=http://loinc.org|29463-7",
                        headers=auth(tok)).json()
    assert served["total"] == 1
    page = client.get("/_sandbox/fhir/received")
    assert page.status_code == 200 and b"904" in page.content
    assert client.get("/_sandbox/fhir/received.json").json()[0]["service"] == "904"
    bad = client.post(f"{BASE}/904", content=b'{"resourceType": "Bundle", "type": "collection"'
                      b', "entry": []}', headers=auth(tok))
    assert bad.status_code == 400


def test_update_and_delete(client, token) -> None:
    tok = token("906")
    task = {"resourceType": "Task", "id": "t1", "status": "accepted", "intent": "order",
            "code": {"coding": [{"system": "http://loinc.org", "code": "74468-0"}]}}
    assert client.put(f"{BASE}/906/Task/t1", json=task, headers=auth(tok)).status_code == 201
    assert client.get(f"{BASE}/906/Task/t1", headers=auth(tok)).json()["status"] == "accepted"
    got = client.get(f"{BASE}/906/Task?code=http://loinc.org|74468-0&status=accepted",
                     headers=auth(tok)).json()
    assert got["total"] == 1
    assert client.delete(f"{BASE}/906/Task/t1", headers=auth(tok)).status_code == 204
    assert client.get(f"{BASE}/906/Task/t1", headers=auth(tok)).status_code == 404


def test_access_log(client, token, app, bsn) -> None:
    tok = token("49")
    client.get(f"{BASE}/49/Encounter", headers=auth(tok))
    client.get(f"{BASE}/49/Encounter")
    entries = app.state.access_log.entries(PROVIDER, "49")
    assert [(e.bsn, e.client_id, e.query, e.status) for e in entries] == [
        (bsn, "pgo.example.test", "Encounter", 200), (None, None, "Encounter", 401)]
    assert client.get("/_sandbox/fhir/access-log.json").json()[0]["bsn"] == bsn
    assert b"Encounter" in client.get("/_sandbox/fhir/access-log").content
