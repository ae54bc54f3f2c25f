"""Mutual TLS on the back channel, as `regie sandbox --tls` does it: the sandbox over
real loopback TLS asks for a client certificate from its CA for a host on the
Whitelist at the token and FHIR endpoints. Regie presents REGIE_MEDMIJ_CLIENT_CERT /
REGIE_MEDMIJ_CLIENT_KEY there (the lists and the browser's front channel need none)."""
from __future__ import annotations

import ssl
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from regie.config import Settings
from regie.medmij.http import client_cert_of
from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
from regie.sandbox.config import base_url_for, default_config
from regie.sandbox.mtls import PeerCertH11Protocol
from regie.sandbox.tls import client_ssl_context, ensure_tls_files, issue_client_cert
from regie.web.app import create_app
from tests.collect.conftest import Regie
from tests.collect.harness import GP, api_token, consent, regie_settings, wait_finished
from tests.sandbox.live import free_port, serve

PGO = "regie.localhost"  # on the sandbox's OCL and Whitelist


class TlsNetwork:
    """What regie_settings needs: the lists URL (https) and the trust anchor."""

    def __init__(self, root: Path, stack: ExitStack) -> None:
        state = root / "sandbox"
        self.files = ensure_tls_files(state)
        self.port = free_port()
        self.config = default_config(base_url=base_url_for(self.port, tls=True))
        self.app = create_sandbox_app(self.config, state, fhir_app_factory=load_fhir_app_factory(),
                                      client_ca=self.files.ca_cert)
        stack.enter_context(serve(
            self.app, port=self.port, http=PeerCertH11Protocol,
            ssl_certfile=str(self.files.server_cert), ssl_keyfile=str(self.files.server_key),
            ssl_cert_reqs=ssl.CERT_OPTIONAL, ssl_ca_certs=str(self.files.ca_cert)))
        self.base_url = f"https://127.0.0.1:{self.port}"
        self.key_path = self.app.state.publisher.trust_anchor_path
        self.cert = issue_client_cert(state, PGO, root / "client")
        # The browser: server TLS only, no client certificate.
        self.browser = stack.enter_context(httpx.Client(
            base_url=self.base_url, verify=client_ssl_context(self.files.ca_cert),
            follow_redirects=False, timeout=10))


@pytest.fixture(scope="module")
def tls_network(tmp_path_factory):
    root = tmp_path_factory.mktemp("mtls-collect")
    with ExitStack() as stack:
        yield TlsNetwork(root, stack), root


def _regie(stack: ExitStack, root: Path, network: TlsNetwork, name: str, **overrides) -> Regie:
    home = root / name
    home.mkdir()
    settings = regie_settings(home, f"sqlite:///{home / 'regie.sqlite3'}", network, f"http://{PGO}:8000",
                              medmij_ca=network.files.ca_cert, collect_attempts=1, **overrides)
    app = create_app(settings)
    client = stack.enter_context(TestClient(app, base_url=f"http://{PGO}:8000", raise_server_exceptions=False))
    stack.callback(app.state.context.db.dispose)
    user_id, token = api_token(app.state.context)
    return Regie(app, client, token, user_id, network)  # type: ignore[arg-type]


def _collect(regie: Regie, network: TlsNetwork) -> dict:
    started = regie.start(GP, ["49"])
    back = regie.callback(consent(started["authorization_url"], http=network.browser))
    assert back.status_code == 200, back.text
    return wait_finished(regie.get, started["id"], 30)


def test_collects_over_mutual_tls_with_the_client_certificate(tls_network):
    network, root = tls_network
    with ExitStack() as stack:
        regie = _regie(stack, root, network, "with-cert",
                       medmij_client_cert=network.cert.cert, medmij_client_key=network.cert.key)
        view = _collect(regie, network)
        assert view["state"] == "done", view
        receipt = view["receipt"]
        assert receipt["outcome"] == "complete" and receipt["totals"]["new"] > 0, receipt


def test_without_a_client_certificate_the_token_request_is_refused(tls_network):
    network, root = tls_network
    with ExitStack() as stack:
        regie = _regie(stack, root, network, "without-cert")
        view = _collect(regie, network)
        assert view["state"] == "failed", view
        assert view["error"]["code"] == "token-refused", view
        assert regie.get("/api/v1/record/summary").json()["resources"] == 0


def test_half_a_client_certificate_setting_is_refused(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ValueError, match="both"):
        client_cert_of(Settings(home=tmp_path, medmij_client_cert=cert))
    with pytest.raises(ValueError, match="not a file"):
        client_cert_of(Settings(home=tmp_path, medmij_client_cert=cert, medmij_client_key=tmp_path / "nope.pem"))
    assert client_cert_of(Settings(home=tmp_path)) is None


def test_the_app_does_not_start_with_half_a_client_certificate_setting(tmp_path):
    from tests.conftest import fast_settings

    cert = tmp_path / "c.pem"
    cert.write_text("x")
    settings = fast_settings(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite3'}", medmij_client_cert=cert)
    with pytest.raises(ValueError, match="both"):
        create_app(settings, check_schema=False)

