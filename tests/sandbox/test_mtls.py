"""Mutual TLS on the back channel (`--tls`), over real loopback TLS with httpx:
the token and FHIR endpoints need a client certificate from the sandbox CA for a host on
the Whitelist; the front channel (authorize, DigiD, consent) and the lists need none."""

from __future__ import annotations

import ssl
import stat

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from regie.sandbox.app import create_sandbox_app
from regie.sandbox.config import base_url_for, default_config
from regie.sandbox.mtls import PeerCertH11Protocol
from regie.sandbox.tls import client_ssl_context, ensure_tls_files, issue_client_cert

from .live import free_port, serve
from .oauth.conftest import GP, PGO, exchange, run_flow

FHIR_URL = f"/{GP}/fhir/49/Patient"


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    return tmp_path_factory.mktemp("mtls-state")


@pytest.fixture(scope="module")
def certs(state, tmp_path_factory):
    out = tmp_path_factory.mktemp("mtls-home")
    files = ensure_tls_files(state)
    other_ca_state = tmp_path_factory.mktemp("other-ca")
    return {
        "files": files,
        "regie": issue_client_cert(state, PGO, out),                # on the OCL and Whitelist
        "stranger": issue_client_cert(state, "stranger.localhost", out),  # not on the Whitelist
        "forged": issue_client_cert(other_ca_state, PGO, out / "forged"),  # another CA
    }


@pytest.fixture(scope="module")
def server(state, certs):
    files = certs["files"]
    port = free_port()
    config = default_config(base_url=base_url_for(port, tls=True))
    app = create_sandbox_app(config, state / "app", client_ca=files.ca_cert)
    with serve(app, port=port, http=PeerCertH11Protocol,
               ssl_certfile=str(files.server_cert), ssl_keyfile=str(files.server_key),
               ssl_cert_reqs=ssl.CERT_OPTIONAL, ssl_ca_certs=str(files.ca_cert)):
        yield port, app


def _client(port: int, certs: dict, who: str | None) -> httpx.Client:
    context = client_ssl_context(certs["files"].ca_cert)
    if who is not None:
        context.load_cert_chain(certs[who].cert, certs[who].key)
    return httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context,
                        follow_redirects=False, timeout=10)


@pytest.fixture(scope="module")
def access_token(server, certs) -> str:
    """A full flow: the front channel with no client certificate, the token with one."""
    port, _ = server
    with _client(port, certs, None) as browser:
        redirect = run_flow(browser)  # type: ignore[arg-type]
    assert "code" in redirect.params
    with _client(port, certs, "regie") as pgo:
        response = exchange(pgo, redirect)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_client_certificate_is_a_clientauth_cert_from_the_sandbox_ca(certs) -> None:
    ca = x509.load_pem_x509_certificate(certs["files"].ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(certs["regie"].cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku and ExtendedKeyUsageOID.SERVER_AUTH not in eku
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [PGO]
    assert stat.S_IMODE(certs["regie"].key.stat().st_mode) == 0o600
    for bad in ("regie.example.nl", "127.0.0.1", "Regie Localhost", "a..localhost"):
        with pytest.raises(ValueError):
            issue_client_cert(certs["files"].ca_cert.parent.parent, bad, certs["regie"].cert.parent)


def test_front_channel_and_lists_need_no_client_certificate(server, certs, access_token) -> None:
    port, _ = server
    with _client(port, certs, None) as http:
        assert http.get("/MedMij_Whitelist.xml").status_code == 200
        assert http.get(f"/{GP}/oauth/authorize").status_code in (400, 302)  # not 401/403


def test_token_endpoint_without_client_certificate_is_refused(server, certs) -> None:
    port, _ = server
    with _client(port, certs, None) as http:
        response = http.post(f"/{GP}/oauth/token", data={
            "grant_type": "authorization_code", "code": "x", "client_id": PGO,
            "redirect_uri": "http://regie.localhost:8000/medmij/callback"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "client certificate" in response.json()["error_description"]


def test_token_endpoint_with_a_host_off_the_whitelist_is_refused(server, certs) -> None:
    port, _ = server
    with _client(port, certs, "stranger") as http:
        response = http.post(f"/{GP}/oauth/token", data={
            "grant_type": "authorization_code", "code": "x", "client_id": PGO,
            "redirect_uri": "http://regie.localhost:8000/medmij/callback"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "unauthorized_client" and "stranger.localhost" in body["error_description"]
    assert "Whitelist" in body["error_description"]


def test_certificate_from_another_ca_fails_the_handshake(server, certs) -> None:
    port, _ = server
    with _client(port, certs, "forged") as http, pytest.raises((httpx.ConnectError,
                                                                 httpx.ReadError,
                                                                 httpx.RemoteProtocolError)):
        http.post(f"/{GP}/oauth/token", data={"grant_type": "x"})


def test_client_id_must_match_the_certificate(server, certs) -> None:
    port, _ = server
    # "localhost" is a known client, but this certificate is regie.localhost's.
    with _client(port, certs, "regie") as http:
        response = http.post(f"/{GP}/oauth/token", data={
            "grant_type": "authorization_code", "code": "x", "client_id": "localhost",
            "redirect_uri": "http://localhost:8000/medmij/callback"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_right_certificate_works_on_token_and_fhir(server, certs, access_token) -> None:
    port, _ = server
    auth = {"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"}
    with _client(port, certs, "regie") as http:
        response = http.get(FHIR_URL, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["resourceType"] == "Bundle"
    with _client(port, certs, None) as http:
        refused = http.get(FHIR_URL, headers=auth)
        assert refused.status_code == 401
        assert refused.json()["resourceType"] == "OperationOutcome"
    with _client(port, certs, "stranger") as http:
        refused = http.get(FHIR_URL, headers=auth)
        assert refused.status_code == 403
        assert refused.json()["issue"][0]["code"] == "forbidden"


def test_cli_issues_a_client_certificate(tmp_path, monkeypatch) -> None:
    from regie.cli.main import app

    monkeypatch.setenv("REGIE_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["sandbox", "--issue-client-cert", "regie.localhost"])
    assert result.exit_code == 0, result.output
    cert = tmp_path / "sandbox-client-regie.localhost.pem"
    key = tmp_path / "sandbox-client-regie.localhost-key.pem"
    assert f"REGIE_MEDMIJ_CLIENT_CERT={cert}" in result.output
    assert f"REGIE_MEDMIJ_CLIENT_KEY={key}" in result.output
    assert f"REGIE_MEDMIJ_CA={tmp_path / 'sandbox-ca.pem'}" in result.output
    assert "not on the sandbox Whitelist" not in result.output
    ca = x509.load_pem_x509_certificate((tmp_path / "sandbox-ca.pem").read_bytes())
    x509.load_pem_x509_certificate(cert.read_bytes()).verify_directly_issued_by(ca)

    other = CliRunner().invoke(app, ["sandbox", "--issue-client-cert", "other.localhost"])
    assert other.exit_code == 0 and "--client other.localhost" in other.output
    bad = CliRunner().invoke(app, ["sandbox", "--issue-client-cert", "regie.example.nl"])
    assert bad.exit_code == 2
