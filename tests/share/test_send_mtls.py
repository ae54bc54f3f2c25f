"""A send over mutual TLS, as `regie sandbox --tls` runs it: the sandbox asks for a client
certificate at the token and FHIR endpoints. With REGIE_MEDMIJ_CLIENT_CERT/KEY the
measurements arrive; without them the token request is refused and nothing is sent."""
from __future__ import annotations

from contextlib import ExitStack

from tests.collect.harness import GP, consent
from tests.collect.test_collect_mtls import _regie, tls_network  # noqa: F401 - the module-scoped sandbox


def _send(regie, network) -> dict:
    added = regie.client.post("/api/v1/measurements", headers=regie.headers, json={
        "type": "body_weight", "value": 72.5, "unit": "kg", "time": "2026-01-05T08:30:00+01:00"})
    assert added.status_code == 201, added.text
    made = regie.client.post("/api/v1/sends", headers=regie.headers, json={
        "kind": "measurements", "provider": GP, "types": ["body_weight"], "name": "Jan Jansen"})
    assert made.status_code == 201, made.text
    send_id = made.json()["id"]
    url = regie.client.post(f"/api/v1/sends/{send_id}/confirm", headers=regie.headers).json()["authorization_url"]
    assert url.startswith("https://")
    back = regie.callback(consent(url, http=network.browser))
    assert back.status_code == 200, back.text
    return regie.get(f"/api/v1/sends/{send_id}").json()


def _received(network) -> list[dict]:
    answer = network.browser.get("/_sandbox/fhir/received.json", params={"provider": GP, "service": "904"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_send_over_mutual_tls_with_the_client_certificate(tls_network):  # noqa: F811
    network, root = tls_network
    before = len(_received(network))
    with ExitStack() as stack:
        regie = _regie(stack, root, network, "send-with-cert",
                       medmij_client_cert=network.cert.cert, medmij_client_key=network.cert.key)
        view = _send(regie, network)
    assert view["state"] == "sent" and view["http_status"] == 200, view
    received = _received(network)
    assert len(received) == before + 1
    assert received[-1]["client_id"] == "regie.localhost" and received[-1]["warnings"] == []


def test_without_a_client_certificate_nothing_is_sent(tls_network):  # noqa: F811
    network, root = tls_network
    before = len(_received(network))
    with ExitStack() as stack:
        regie = _regie(stack, root, network, "send-without-cert")
        view = _send(regie, network)
    assert view["state"] == "failed" and view["error"] == "token-refused", view
    assert len(_received(network)) == before
