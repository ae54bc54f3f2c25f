"""Each fault type triggers, per provider and service."""

from __future__ import annotations

import json

import pytest

from regie.sandbox.fhir import Fault, FaultKind

from .conftest import PROVIDER, auth

URL = f"/{PROVIDER}/fhir/49/Encounter"


@pytest.mark.parametrize("status", [500, 502, 503, 401, 429])
def test_error_statuses(client, token, app, status) -> None:
    app.state.faults.set(PROVIDER, "49", FaultKind.ERROR, status=status, retry_after=7)
    resp = client.get(URL, headers=auth(token("49")))
    assert resp.status_code == status
    assert resp.json()["resourceType"] == "OperationOutcome"
    if status in (503, 429):
        assert resp.headers["retry-after"] == "7"
    assert app.state.access_log.entries()[-1].fault == "error"


def test_fault_is_per_provider_and_service_and_counts_down(client, token, app) -> None:
    app.state.faults.set(PROVIDER, "49", Fault(FaultKind.ERROR, status=503, remaining=1))
    assert client.get(f"/{PROVIDER}/fhir/63/Immunization",
                      headers=auth(token("63"))).status_code == 200
    assert client.get(URL, headers=auth(token("49"))).status_code == 503
    assert client.get(URL, headers=auth(token("49"))).status_code == 200


def test_latency(client, token, app) -> None:
    import time

    app.state.faults.set(PROVIDER, "49", FaultKind.NONE, latency=0.2)
    t = time.monotonic()
    assert client.get(URL, headers=auth(token("49"))).status_code == 200
    assert time.monotonic() - t >= 0.2


def test_reset_and_hang(client, token, app) -> None:
    app.state.faults.set(PROVIDER, "49", FaultKind.RESET)
    with pytest.raises(ConnectionResetError):
        client.get(URL, headers=auth(token("49")))
    app.state.faults.set(PROVIDER, "49", FaultKind.HANG, seconds=0.1)
    with pytest.raises(ConnectionAbortedError):
        client.get(URL, headers=auth(token("49")))


def test_body_faults(client, token, app) -> None:
    tok = token("49")
    app.state.faults.set(PROVIDER, "49", FaultKind.TRUNCATED)
    resp = client.get(URL, headers=auth(tok))
    assert len(resp.content) < int(resp.headers["content-length"])
    app.state.faults.set(PROVIDER, "49", FaultKind.MALFORMED)
    resp = client.get(URL, headers=auth(tok))
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        resp.json()
    app.state.faults.set(PROVIDER, "49", FaultKind.OPERATION_OUTCOME)
    resp = client.get(URL, headers=auth(tok))
    assert resp.status_code == 200 and resp.json()["resourceType"] == "OperationOutcome"
    app.state.faults.set(PROVIDER, "49", FaultKind.WRONG_CONTENT_TYPE)
    resp = client.get(URL, headers=auth(tok))
    assert resp.headers["content-type"].startswith("text/html")
    app.state.faults.set(PROVIDER, "49", FaultKind.HUGE, size=3_000_000)
    resp = client.get(URL, headers=auth(tok))
    doc = resp.json()
    assert len(resp.content) >= 3_000_000 and doc["resourceType"] == "Bundle"
    assert doc["entry"][-1]["resource"]["resourceType"] == "Basic"
    app.state.faults.set(PROVIDER, "49", FaultKind.SLOW_DRIP, chunk=4096, seconds=0.001)
    resp = client.get(URL, headers=auth(tok))
    app.state.faults.clear(PROVIDER)
    assert resp.content == client.get(URL, headers=auth(tok)).content or \
        resp.json()["type"] == "searchset"
