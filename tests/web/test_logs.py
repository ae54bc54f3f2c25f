"""Structured logs hold no medical content and no secrets.

The whole journey runs with every Regie logger at DEBUG into a JSON buffer: register with
a password and TOTP, upload a record with known medical strings (a name, a BSN, a
diagnosis, a weight), read it through pages and the API (search with a medical word in
the query string), fail logins, use a wrong API token, hit an error. Then none of those
strings, secrets or ids-in-paths may appear in the log; the request lines carry route
templates, status, duration and a request id."""
from __future__ import annotations

import io
import json
import logging
import re

import orjson
import pytest

from regie.ops.logs import configure_logging
from tests.web.helpers import PASSWORD, Browser

UPLOAD_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NAME = "Zwanenburg-Testpersoon"
BSN = "999911120"
DIAGNOSIS = "Ziekte-van-Testvoorbeeld"
WEIGHT_DISPLAY = "Lichaamsgewicht-XQ"
WRONG_PASSWORD = "verkeerd-wachtwoord-8813"
BAD_TOKEN = "rgt_ditisgeengeldigtoken0000000000"


def _record() -> bytes:
    resources = [
        {"resourceType": "Patient", "id": "pat", "gender": "female",
         "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": BSN}],
         "name": [{"family": NAME, "given": ["Anna"]}]},
        {"resourceType": "Condition", "id": "c1", "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "73211009", "display": DIAGNOSIS}],
                  "text": DIAGNOSIS},
         "subject": {"reference": "Patient/pat"}},
        {"resourceType": "Observation", "id": "w1", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": WEIGHT_DISPLAY}]},
         "effectiveDateTime": "2024-03-01T09:00:00+01:00",
         "valueQuantity": {"value": 83.7, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}},
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})


@pytest.fixture
def captured():
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in ("regie", "uvicorn", "")}
    configure_logging("json", "DEBUG")
    buffer = io.StringIO()
    for name in ("regie", ""):
        for handler in logging.getLogger(name).handlers:
            handler.setStream(buffer)
    yield buffer
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_logs_hold_no_medical_content_or_secrets(browser: Browser, captured: io.StringIO) -> None:
    account = browser.register()
    client = browser.client
    page = client.get("/record/upload")
    token = UPLOAD_CSRF.search(page.text).group(1)
    upload = client.post("/record/upload", data={"csrf_token": token},
                         files=[("files", ("huisarts.json", _record(), "application/json"))])
    assert upload.status_code in (200, 303), upload.text
    items = client.get("/api/v1/record/items", params={"limit": 50}).json()["items"]
    assert items
    item_ids = [item["id"] for item in items]
    for item_id in item_ids:
        assert client.get(f"/record/items/{item_id}").status_code == 200
        client.get(f"/api/v1/record/items/{item_id}")
    for path in ("/", "/record/conditions", "/timeline", f"/search?q={DIAGNOSIS}", "/audit",
                 "/record/items/ffffffffffffffffffffffffffffffff"):
        client.get(path)
    cookie = client.cookies.get("regie_session") or next(iter(client.cookies.values()), "")
    browser.logout()
    browser.post_form("/login", {"email": account.email, "password": WRONG_PASSWORD})
    client.post("/api/v1/auth/login", json={"email": account.email, "password": WRONG_PASSWORD})
    client.get("/api/v1/record/summary", headers={"Authorization": f"Bearer {BAD_TOKEN}"})
    client.get("/healthz", headers={"X-Request-ID": "proxy-given-id-123"})

    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    forbidden = [NAME, BSN, DIAGNOSIS, WEIGHT_DISPLAY, "83.7", PASSWORD, WRONG_PASSWORD, BAD_TOKEN,
                 account.totp_secret, *account.recovery_codes, *item_ids]
    if cookie:
        forbidden.append(cookie)
    # A request's duration ("ms": 183.7) may contain the weight's digits by chance: look at
    # the log without the durations the request log writes.
    without_durations = re.sub(r'"ms": [0-9.]+', '"ms": 0', text)
    for value in forbidden:
        assert value not in without_durations, f"{value!r} appears in the log"
    requests = [line for line in lines if line.get("message") == "request"]
    routes = {line["route"] for line in requests}
    assert {"/record/items/{item_id}", "/api/v1/record/items/{item_id}", "/record/{category}",
            "/search", "/login"} <= routes
    assert all({"method", "route", "status", "ms", "request_id", "time", "level"} <= set(line) for line in requests)
    assert any(line["request_id"] == "proxy-given-id-123" for line in requests)
    assert len({line["request_id"] for line in requests}) > 10


def test_request_id_is_returned(client) -> None:
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"])
    assert client.get("/healthz", headers={"X-Request-ID": "abcDEF-123456"}).headers["x-request-id"] == "abcDEF-123456"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["x-request-id"] != "bad id <script>"
