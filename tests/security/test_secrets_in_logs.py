"""No secret and no medical string in any log line of a collection over the MedMij sandbox.

Complements tests/web/test_logs.py (register, password, TOTP, recovery codes, upload, pages):
here an API token drives a full collection (OAuth authorize, DigiD, consent, token exchange,
FHIR fetch), with every Regie logger at DEBUG into the JSON buffer, and then the log must hold
neither the bearer token, the OAuth authorization code, the access or refresh tokens the sandbox
issued, nor any medical text of the collected record, nor the BSN.
"""
from __future__ import annotations

import io
import json

from tests.collect.conftest import Regie, network, regie  # noqa: F401
from tests.collect.harness import BSN, GP, consent, wait_finished
from tests.web.test_logs import captured  # noqa: F401


def _texts(value, out: set[str]) -> None:
    """Every string of the record's JSON that is long enough to be unmistakable."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key not in ("id", "category", "type", "source", "status", "kind", "resource_type", "unit", "system"):
                _texts(inner, out)
    elif isinstance(value, list):
        for inner in value:
            _texts(inner, out)
    elif isinstance(value, str) and len(value) >= 10 and " " in value.strip() and not value[:4].isdigit():
        out.add(value)


def test_a_collection_logs_no_secret_and_no_medical_content(regie: Regie, captured: io.StringIO) -> None:
    started = regie.start(GP)
    callback = consent(started["authorization_url"])
    code = callback.split("code=", 1)[1].split("&", 1)[0]
    assert regie.callback(callback).status_code == 200
    view = wait_finished(regie.get, started["id"])
    assert view["state"] == "done", view

    items = regie.get("/api/v1/record/items", params={"limit": 200}).json()["items"]
    assert len(items) > 5
    medical: set[str] = set()
    for item in items[:40]:
        _texts(regie.get(f"/api/v1/record/items/{item['id']}").json(), medical)
    assert len(medical) > 10, "the test found no medical text to look for"
    # The sandbox's own record of what it issued (test-only access to its state).
    issued = [token for grant in regie.network.app.state.oauth.state._codes.values() for token in grant.tokens]
    assert issued, "the sandbox issued no token: the test would prove nothing"

    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("message") == "request" for line in lines), "nothing was logged"
    secrets = {"bearer token": regie.token, "authorization code": code, "BSN": BSN}
    secrets |= {f"OAuth token {n}": token for n, token in enumerate(issued)}
    for name, value in secrets.items():
        assert value not in text, f"the {name} appears in the log"
    leaked = sorted(value for value in medical if value in text)
    assert not leaked, f"medical text in the log: {leaked[:5]}"
