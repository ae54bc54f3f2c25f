"""POST/GET /api/v1/measurements and /api/v1/diary with a token (both databases)."""
from __future__ import annotations

from regie.accounts import tokens
from regie.accounts.activity import ClientInfo


def _token(browser) -> dict[str, str]:
    account = browser.register()
    with browser.context.db.session() as session:
        user = browser.context.accounts.by_email(session, account.email)
        issued = tokens.create(session, user.id, "script", ClientInfo())
    return {"Authorization": f"Bearer {issued.token}"}


EXAMPLES = [
    {"type": "blood_pressure", "systolic": 128, "diastolic": 82, "unit": "mm[Hg]", "position": "sitting", "arm": "left"},
    {"type": "body_weight", "value": 72.5, "unit": "kg"},
    {"type": "heart_rate", "value": 64, "unit": "/min"},
    {"type": "body_height", "value": 178, "unit": "cm"},
    {"type": "blood_glucose", "value": 5.8, "unit": "mmol/L", "moment": "fasting"},
    {"type": "body_temperature", "value": 37.2, "unit": "Cel"},
    {"type": "oxygen_saturation", "value": 97, "unit": "%"},
    {"type": "respiration_rate", "value": 14, "unit": "/min"},
    {"type": "pain_score", "value": 3},
    {"type": "steps", "value": 8421},
]


def test_every_type_round_trips_and_counts_in_the_record(browser) -> None:
    headers = _token(browser)
    client = browser.client
    for number, body in enumerate(EXAMPLES):
        response = client.post("/api/v1/measurements", headers=headers,
                               json={**body, "time": f"2026-01-0{1 + number % 9}T08:30:00+01:00"})
        assert response.status_code == 201, response.text
        created = response.json()
        for key, value in body.items():
            if key != "unit":
                assert created[key] == value, (key, created)
    listed = client.get("/api/v1/measurements", headers=headers).json()["items"]
    assert {m["type"] for m in listed} == {b["type"] for b in EXAMPLES} | {"bmi"}
    bmi = next(m for m in listed if m["type"] == "bmi")
    assert bmi["value"] == 22.9 and bmi["derived"] is True
    summary = client.get("/api/v1/record/summary", headers=headers).json()
    assert summary["categories"] == {"vital_signs": len(EXAMPLES) + 1}
    only = client.get("/api/v1/measurements", headers=headers, params={"type": "body_weight"}).json()["items"]
    assert [m["value"] for m in only] == [72.5]
    one = client.get(f"/api/v1/measurements/{only[0]['id']}", headers=headers).json()
    assert one["history"] == [] and one["status"] == "final"
    source = client.get(f"/api/v1/record/items/{only[0]['id']}/source", headers=headers).json()
    assert source["meta"]["profile"] == ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]
    assert source["code"]["coding"][0] == {"system": "http://loinc.org", "code": "29463-7",
                                           "display": "Lichaamsgewicht [massa] in ^patiënt"}


def test_impossible_and_unusual_values_answer_422_naming_the_field(browser) -> None:
    headers = _token(browser)
    client = browser.client
    heavy = client.post("/api/v1/measurements", headers=headers,
                        json={"type": "body_weight", "value": 800, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    assert heavy.status_code == 422
    assert heavy.headers["content-type"] == "application/problem+json"
    error = heavy.json()["errors"][0]
    assert error["field"] == "value" and error["code"] == "impossible" and "800 kg" in error["message"]

    body = {"type": "blood_pressure", "systolic": 250, "diastolic": 40, "unit": "mm[Hg]",
            "time": "2026-01-05T08:30:00+01:00"}
    unusual = client.post("/api/v1/measurements", headers=headers, json=body)
    assert unusual.status_code == 422
    fields = {e["field"]: e["code"] for e in unusual.json()["errors"]}
    assert fields["systolic"] == "unusual"
    confirmed = client.post("/api/v1/measurements", headers=headers, json={**body, "confirmed": True})
    assert confirmed.status_code == 201

    no_zone = client.post("/api/v1/measurements", headers=headers,
                          json={"type": "heart_rate", "value": 60, "time": "2026-01-05T08:30:00"})
    assert no_zone.status_code == 422 and no_zone.json()["errors"][0]["field"] == "time"
    wrong_unit = client.post("/api/v1/measurements", headers=headers,
                             json={"type": "heart_rate", "value": 60, "unit": "kg"})
    assert wrong_unit.status_code == 422 and wrong_unit.json()["errors"][0]["field"] == "unit"
    assert client.post("/api/v1/measurements", headers=headers, json={"type": "mood", "value": 1}).status_code == 422
    assert client.post("/api/v1/measurements", headers=headers, content=b"{not json").status_code == 400
    browser.logout()
    assert client.get("/api/v1/measurements").status_code == 401


def test_diary_api(browser) -> None:
    headers = _token(browser)
    client = browser.client
    created = client.post("/api/v1/diary", headers=headers, json={
        "time": "2026-01-05T20:00:00+01:00", "symptoms": ["hoofdpijn"], "severity": 6, "text": "na het werk",
        "tags": ["Migraine"]})
    assert created.status_code == 201, created.text
    bad = client.post("/api/v1/diary", headers=headers, json={"symptoms": [], "severity": 11})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"symptoms", "severity"}
    items = client.get("/api/v1/diary", headers=headers, params={"q": "migraine"}).json()["items"]
    assert len(items) == 1 and items[0]["symptoms"] == ["hoofdpijn"] and items[0]["tags"] == ["migraine"]
    assert client.get("/api/v1/record/summary", headers=headers).json()["categories"] == {"diary": 1}
