"""What the patient is told when the provider fails while receiving."""
from __future__ import annotations

import pytest

from tests.collect.harness import GP, consent


def _start(regie) -> str:
    r = regie.client.post("/api/v1/measurements", json={"type": "body_weight", "value": 72.5, "unit": "kg",
                                                        "time": "2026-01-05T08:30:00+01:00"}, headers=regie.headers)
    assert r.status_code == 201
    r = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "measurements", "provider": GP, "types": ["body_weight"], "name": "Jan Jansen"})
    return r.json()["id"]


@pytest.mark.parametrize(("fault", "code", "audited"), [
    ({"kind": "error", "status": 500}, "server-error", "send-failed"),
    ({"kind": "error", "status": 401}, "unauthorized", "send-failed"),
    ({"kind": "error", "status": 503, "retry_after": 0, "remaining": 1}, None, "send-sent"),  # not processed: retried once
])
def test_provider_faults(regie, fault, code, audited):
    send_id = _start(regie)
    url = regie.client.post(f"/api/v1/sends/{send_id}/confirm", headers=regie.headers).json()["authorization_url"]
    regie.network.fault(GP, "904", **fault)
    assert regie.callback(consent(url)).status_code == 200
    view = regie.get(f"/api/v1/sends/{send_id}").json()
    assert view["error"] == code, view
    assert view["state"] == ("sent" if code is None else "failed")
    if code:
        assert view["message"] and view["message"] != code  # a plain-language text
    actions = [e["action"] for e in regie.get("/api/v1/audit?limit=50").json()["entries"]]
    assert audited in actions
