"""The record over the JSON API and the upload page, on both databases."""
from __future__ import annotations

import re

import orjson
from fastapi.testclient import TestClient

from regie.accounts import tokens
from regie.accounts.activity import ClientInfo
from regie.fhir import FhirVersion
from regie.store.ingest import RecordService
from tests.web.helpers import Browser

PROBLEM = "application/problem+json"


def _obs(rid: str, day: int, code: str, display: str, value: float) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]},
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "effectiveDateTime": f"2024-03-{day:02d}T09:00:00+01:00",
            "valueQuantity": {"value": value, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}


def _bundle(*resources: dict) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]})


def _seed(browser: Browser, email: str, count: int = 7) -> None:
    context = browser.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    keys = service.keys(user)
    resources = [_obs(f"w{i}", i + 1, "29463-7", "Lichaamsgewicht", 70 + i) for i in range(count)]
    resources.append({"resourceType": "Patient", "id": "pat", "gender": "female", "name": [{"family": "Visser"}]})
    outcome = service.import_bytes(keys, _bundle(*resources), name="huisarts.json", source="Huisarts",
                                   fhir_version=FhirVersion.STU3, channel="cli")
    assert outcome.ok, outcome.error


def test_summary_items_paging_filters_and_search(browser: Browser) -> None:
    account = browser.register()
    _seed(browser, account.email)
    client = browser.client
    summary = client.get("/api/v1/record/summary")
    assert summary.status_code == 200 and summary.headers["content-type"] == "application/json"
    assert summary.json() == {"resources": 8, "by_type": {"Observation": 7, "Patient": 1},
                              "categories": {"patient": 1, "vital_signs": 7}, "sources": {"Huisarts": 8}}
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/record/items", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8 and len({i["id"] for i in seen}) == 8
    dates = [i["date"] for i in seen if i["date"]]
    assert dates == sorted(dates, reverse=True)
    vital = client.get("/api/v1/record/items", params={"category": "vital_signs"}).json()["items"]
    assert len(vital) == 7 and all(i["category"] == "vital_signs" for i in vital)
    since = client.get("/api/v1/record/items", params={"since": "2024-03-05"}).json()["items"]
    assert len(since) == 3
    found = client.get("/api/v1/record/items", params={"q": "visser"}).json()["items"]
    assert [i["resource_type"] for i in found] == ["Patient"]
    assert client.get("/api/v1/record/items", params={"q": "bestaat-niet"}).json() == {"items": [], "next_cursor": None}
    for params, field in (({"category": "nonsense"}, "category"), ({"since": "gisteren"}, "since"),
                          ({"cursor": "!!"}, "cursor"), ({"limit": 0}, "limit")):
        bad = client.get("/api/v1/record/items", params=params)
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM, params
        assert [e["field"] for e in bad.json()["errors"]] == [field]


def test_item_detail_source_and_other_users(browser: Browser, app) -> None:
    account = browser.register()
    _seed(browser, account.email, count=2)
    client = browser.client
    item = client.get("/api/v1/record/items", params={"category": "vital_signs"}).json()["items"][0]
    detail = client.get(f"/api/v1/record/items/{item['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["id"] == item["id"] and body["value"]["unit"] == "kg"
    assert body["provenance"]["source"] == "Huisarts" and body["provenance"]["file"] == "huisarts.json"
    assert body["provenance"]["fhir_version"] == "STU3" and body["provenance"]["location"].startswith("$.entry[")
    assert body["provenance"]["version"] == 1 and body["provenance"]["arrived_at"]
    source = client.get(f"/api/v1/record/items/{item['id']}/source")
    assert source.status_code == 200 and source.headers["content-type"] == "application/fhir+json"
    assert orjson.loads(source.content)["resourceType"] == "Observation"
    missing = client.get("/api/v1/record/items/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM

    other = Browser(TestClient(app, base_url="http://localhost"), browser.context, browser.clock)
    other.register()
    for path in (f"/api/v1/record/items/{item['id']}", f"/api/v1/record/items/{item['id']}/source"):
        refused = other.client.get(path)
        assert refused.status_code == 404 and refused.json() == missing.json()
    assert other.client.get("/api/v1/record/summary").json()["resources"] == 0


def test_every_read_is_audited_with_its_channel(browser: Browser) -> None:
    account = browser.register()
    _seed(browser, account.email, count=1)
    client = browser.client
    client.get("/api/v1/record/summary")
    listed = client.get("/api/v1/record/items").json()["items"]
    client.get(f"/api/v1/record/items/{listed[0]['id']}")
    client.get(f"/api/v1/record/items/{listed[0]['id']}/source")
    context = browser.context
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
        issued = tokens.create(session, user.id, "script", ClientInfo())
    client.get("/api/v1/record/summary", headers={"Authorization": f"Bearer {issued.token}"})
    audit = client.get("/api/v1/audit", params={"limit": 3})
    assert audit.status_code == 200
    first = audit.json()
    assert len(first["entries"]) == 3 and first["next_cursor"]
    rest = client.get("/api/v1/audit", params={"limit": 50, "cursor": first["next_cursor"]}).json()
    entries = first["entries"] + rest["entries"]
    actions = [(e["action"], e["channel"]) for e in entries]
    assert actions[0] == ("summary", "api-token")
    assert ("read_source", "api-session") in actions and ("read", "api-session") in actions
    assert ("list", "api-session") in actions and ("summary", "api-session") in actions
    assert ("import", "cli") in actions
    assert all(e["actor_id"] == user.id for e in entries)
    assert {e["target"] for e in entries if e["action"] == "read"} == {listed[0]["id"]}
    assert b"Visser" not in audit.content and b"kg" not in audit.content
    assert client.get("/api/v1/audit").status_code == 200
    browser.logout()
    assert client.get("/api/v1/audit").status_code == 401


UPLOAD_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_upload_page_imports_several_files_with_outcome_per_file(browser: Browser) -> None:
    browser.register()
    page = browser.client.get("/record/upload")
    assert page.status_code == 200 and 'type="file"' in page.text and "multiple" in page.text
    assert "/static/upload-1.js" in page.text and "<script>" not in page.text
    token = UPLOAD_CSRF.search(page.text).group(1)
    good = _bundle(_obs("a", 1, "29463-7", "Lichaamsgewicht", 80))
    bad = orjson.dumps({"resourceType": "Patient", "id": "x", "gender": "onbekend"})
    response = browser.client.post(
        "/record/upload", data={"csrf_token": token},
        files=[("files", ("gewicht.json", good, "application/json")), ("files", ("fout.json", bad, "application/json"))],
    )
    assert response.status_code == 422
    assert response.text.count('data-outcome="ok"') == 1 and response.text.count('data-outcome="failed"') == 1
    assert "Patient/x" in response.text
    summary = browser.client.get("/api/v1/record/summary").json()
    assert summary["resources"] == 1 and summary["sources"] == {"gewicht.json": 1}
    audit = browser.client.get("/api/v1/audit").json()["entries"]
    assert [(e["action"], e["channel"]) for e in audit if e["action"] == "import"] == [("import", "web")]
    no_token = browser.client.post("/record/upload", files=[("files", ("g.json", good, "application/json"))])
    assert no_token.status_code == 403


def test_upload_has_its_own_body_limit(browser: Browser) -> None:
    browser.register()
    token = UPLOAD_CSRF.search(browser.client.get("/record/upload").text).group(1)
    limit = browser.context.settings.max_body_bytes
    big = b'{"resourceType":"Patient","id":"p","meta":{"profile":["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},"gender":"male","name":[{"family":"' + b"a" * limit + b'"}]}'
    response = browser.client.post("/record/upload", data={"csrf_token": token},
                                   files=[("files", ("groot.json", big, "application/json"))])
    assert response.status_code == 200 and 'data-outcome="ok"' in response.text
    elsewhere = browser.client.post("/api/v1/auth/login", content=big, headers={"content-type": "application/json"})
    assert elsewhere.status_code == 413
