"""`--tls`: the sandbox's own CA and server certificate; verification stays on."""

from __future__ import annotations

import socket
import ssl
import stat
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509

from regie.medmij.lists import ListKind, ListSchemaError, SchemaProfile, load_signed_list
from regie.sandbox.app import create_sandbox_app
from regie.sandbox.config import base_url_for, default_config
from regie.sandbox.tls import client_ssl_context, ensure_tls_files

from .live import serve


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory):
    state = tmp_path_factory.mktemp("tls-state")
    ensure_tls_files(state)
    return state


def test_ca_and_server_certificate_are_made_once(tls_dir):
    files = ensure_tls_files(tls_dir)
    ca_before = files.ca_cert.read_bytes()
    server_before = files.server_cert.read_bytes()
    again = ensure_tls_files(tls_dir)
    assert again.ca_cert.read_bytes() == ca_before
    assert again.server_cert.read_bytes() == server_before
    for key in (files.server_key, files.ca_cert.with_name("ca-key.pem")):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

    ca = x509.load_pem_x509_certificate(ca_before)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    server = x509.load_pem_x509_certificate(server_before)
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "*.localhost", "sandbox.localhost", "*.sandbox.localhost"} <= set(
        names.get_values_for_type(x509.DNSName))
    assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}


def test_server_certificate_is_renewed_when_it_runs_out(tmp_path):
    files = ensure_tls_files(tmp_path)
    ca = files.ca_cert.read_bytes()
    old = files.server_cert.read_bytes()
    later = datetime.now(UTC) + timedelta(days=380)
    renewed = ensure_tls_files(tmp_path, now=later)
    assert renewed.ca_cert.read_bytes() == ca  # Regie's trust setting keeps working
    assert renewed.server_cert.read_bytes() != old


@pytest.fixture(scope="module")
def https_server(tls_dir):
    files = ensure_tls_files(tls_dir)
    config = default_config(base_url=base_url_for(443, tls=True))
    app = create_sandbox_app(config, tls_dir / "state", fhir_app_factory=None)
    with serve(app, ssl_certfile=str(files.server_cert), ssl_keyfile=str(files.server_key)) as port:
        yield port, files, app


def test_https_works_with_the_sandbox_ca_configured(https_server):
    port, files, app = https_server
    context = client_ssl_context(files.ca_cert)
    for host in ("127.0.0.1", "localhost"):
        with httpx.Client(verify=context) as http:
            response = http.get(f"https://{host}:{port}/MedMij_Zorgaanbiederslijst.xml")
        assert response.status_code == 200
        assert b"<Zorgaanbiederslijst" in response.content


def test_https_fails_without_the_sandbox_ca(https_server):
    port, _, _ = https_server
    with httpx.Client() as http, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        http.get(f"https://127.0.0.1:{port}/")


def test_https_fails_with_another_ca(https_server, tmp_path):
    port, _, _ = https_server
    other = ensure_tls_files(tmp_path / "other")
    with httpx.Client(verify=client_ssl_context(other.ca_cert)) as http, pytest.raises(httpx.ConnectError):
        http.get(f"https://127.0.0.1:{port}/")


# "*.localhost" is in the certificate too, but OpenSSL and browsers do not honour a
# wildcard right under a top-level name, so the sandbox's own names are listed as well.
@pytest.mark.parametrize("hostname", ["localhost", "sandbox.localhost",
                                      "huisartsdevries.sandbox.localhost"])
def test_certificate_covers_localhost_names(https_server, hostname):
    port, files, _ = https_server
    context = client_ssl_context(files.ca_cert)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=hostname) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_certificate_does_not_cover_other_names(https_server):
    port, files, _ = https_server
    context = client_ssl_context(files.ca_cert)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname="medmij.example.nl")


def test_tls_lists_use_the_production_profile(https_server):
    port, files, app = https_server
    publisher = app.state.publisher
    assert publisher.profile is SchemaProfile.MEDMIJ
    anchor = publisher.trust_anchor
    with httpx.Client(verify=client_ssl_context(files.ca_cert)) as http:
        for kind in ListKind:
            xml = http.get(f"https://localhost:{port}/{kind.filename}").content
            sig = http.get(f"https://localhost:{port}/{kind.signature_filename}").content
            load_signed_list(xml, sig, kind, anchor, profile=SchemaProfile.MEDMIJ)
    zal = publisher.current(ListKind.ZAL).xml.decode()
    assert "http://" not in zal
    assert "<AuthorizationEndpointuri>https://sandbox.localhost/huisartsdevries/" in zal


def test_tls_on_a_high_port_needs_one_listener_and_the_loopback_profile(tmp_path):
    config = default_config(port=8443, tls=True)
    assert config.base_url == config.front_base_url == "https://sandbox.localhost:8443"
    assert config.authorization_endpoint("huisartsdevries") == (
        "https://sandbox.localhost:8443/huisartsdevries/oauth/authorize")
    app = create_sandbox_app(config, tmp_path, fhir_app_factory=None)
    publisher = app.state.publisher
    assert publisher.profile is SchemaProfile.LOOPBACK
    current = publisher.current(ListKind.ZAL)
    zal = load_signed_list(current.xml, current.signature, ListKind.ZAL,
                           publisher.trust_anchor, profile=SchemaProfile.LOOPBACK)
    assert zal is not None
    xml = current.xml.decode()
    assert "http://" not in xml
    assert "<AuthorizationEndpointuri>https://sandbox.localhost:8443/" in xml
    assert "<TokenEndpointuri>https://sandbox.localhost:8443/" in xml
    assert "<ResourceEndpointuri>https://sandbox.localhost:8443/" in xml
    # The production profile still refuses the port on the front channel.
    with pytest.raises(ListSchemaError):
        load_signed_list(current.xml, current.signature, ListKind.ZAL,
                         publisher.trust_anchor, profile=SchemaProfile.MEDMIJ)
    # The other three lists stay valid against the production profile.
    for kind in (ListKind.OCL, ListKind.WHITELIST, ListKind.GNL):
        pub = publisher.current(kind)
        load_signed_list(pub.xml, pub.signature, kind, publisher.trust_anchor,
                         profile=SchemaProfile.MEDMIJ)
