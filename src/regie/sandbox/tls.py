"""A local certificate authority for ``regie sandbox --tls``.

On first start the sandbox makes, in its state folder (``<state>/tls/``):

- ``ca.pem`` / ``ca-key.pem``: a CA certificate and key of its own. The CA carries name
  constraints: it can only vouch for ``localhost``, names under ``.localhost`` and
  loopback addresses, so trusting it cannot open the door to any real site.
- ``server.pem`` / ``server-key.pem``: the server certificate, signed by that CA, for
  ``127.0.0.1``, ``::1``, ``localhost``, ``*.localhost``, ``sandbox.localhost`` and
  ``*.sandbox.localhost``.

For mutual TLS on the back channel, :func:`issue_client_cert` makes a client
certificate (``clientAuth``) for a PGO host name under ``.localhost``, signed by the
same CA; the sandbox asks for it on the token and FHIR endpoints (``regie.sandbox.mtls``).

Regie is told to trust ``ca.pem`` (``REGIE_MEDMIJ_CA``). Certificate verification is
never switched off anywhere; the sandbox only makes its own trust anchor.

The CA is kept across restarts (so a configured Regie keeps working). The server
certificate is renewed when it runs out within 30 days, misses a host name, or was not
signed by the current CA. Private keys are written with mode 0600 (sandbox only: not
encrypted).
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_FILE",
    "ClientCert",
    "DEFAULT_DNS_NAMES",
    "DEFAULT_IP_ADDRESSES",
    "TlsFiles",
    "client_ssl_context",
    "ensure_tls_files",
    "issue_client_cert",
    "mutual_server_ssl_context",
    "server_ssl_context",
]

TLS_DIR = "tls"
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"

DEFAULT_DNS_NAMES = (
    "localhost",
    "*.localhost",
    "sandbox.localhost",
    "*.sandbox.localhost",
)
DEFAULT_IP_ADDRESSES = ("127.0.0.1", "::1")

_CA_LIFETIME = timedelta(days=3650)
_SERVER_LIFETIME = timedelta(days=397)  # the longest browsers accept
_RENEW_BEFORE = timedelta(days=30)
_ORG = "Regie MedMij-sandbox"


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the sandbox's CA and server certificate (all PEM)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomic write: readers never see half a file; keys are created 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path.name} is not an EC key")
    return key


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _new_ca(now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Regie MedMij-sandbox lokale CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    constraints = x509.NameConstraints(
        permitted_subtrees=[
            x509.DNSName("localhost"),  # RFC 5280: also every name under .localhost
            x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
            x509.IPAddress(ipaddress.ip_network("::1/128")),
        ],
        excluded_subtrees=None,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(constraints, critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_server(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    now: datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    san = x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in dns_names]
        + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    )
    subject = dns_names[0] if dns_names else "localhost"
    return _new_leaf(ca, ca_key, subject, san, ExtendedKeyUsageOID.SERVER_AUTH, now)


def _new_leaf(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    subject: str,
    san: x509.SubjectAlternativeName,
    usage: x509.ObjectIdentifier,
    now: datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate signed by the sandbox CA for a server or a client (``usage``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + _SERVER_LIFETIME, ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(san, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _server_is_fine(
    path: Path,
    ca: x509.Certificate,
    dns_names: tuple[str, ...],
    ip_addresses: tuple[str, ...],
    now: datetime,
) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(ca)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (FileNotFoundError, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    except Exception:  # InvalidSignature: signed by an older CA
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ip = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return (
        set(dns_names) <= have_dns
        and {str(ipaddress.ip_address(a)) for a in ip_addresses} <= have_ip
        and cert.not_valid_after_utc - _RENEW_BEFORE > now
    )


def ensure_tls_files(
    state_dir: str | Path,
    *,
    dns_names: tuple[str, ...] = DEFAULT_DNS_NAMES,
    ip_addresses: tuple[str, ...] = DEFAULT_IP_ADDRESSES,
    now: datetime | None = None,
) -> TlsFiles:
    """The CA and server certificate in ``<state_dir>/tls/``, made when missing or stale."""
    now = now or datetime.now(UTC)
    folder = Path(state_dir) / TLS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = folder / CA_FILE, folder / CA_KEY_FILE
    server_path, server_key_path = folder / SERVER_FILE, folder / SERVER_KEY_FILE

    ca: x509.Certificate | None = None
    ca_key: ec.EllipticCurvePrivateKey | None = None
    if ca_path.exists() and ca_key_path.exists():
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        ca_key = _load_key(ca_key_path)
        if ca.not_valid_after_utc - _RENEW_BEFORE <= now:
            ca = ca_key = None  # an expiring CA is replaced; Regie must trust the new one
    if ca is None or ca_key is None:
        ca, ca_key = _new_ca(now)
        _write(ca_key_path, _key_pem(ca_key), 0o600)
        _write(ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644)

    if not (server_key_path.exists() and _server_is_fine(server_path, ca, dns_names, ip_addresses, now)):
        cert, key = _new_server(ca, ca_key, dns_names, ip_addresses, now)
        _write(server_key_path, _key_pem(key), 0o600)
        _write(server_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return TlsFiles(ca_path, server_path, server_key_path)


def server_ssl_context(files: TlsFiles) -> ssl.SSLContext:
    """A TLS 1.2+ server context with the sandbox's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    return context


def client_ssl_context(ca_file: str | Path) -> ssl.SSLContext:
    """A verifying client context that trusts *only* the given CA (hostname checked)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


_CLIENT_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*localhost$")


@dataclass(frozen=True)
class ClientCert:
    """A client certificate and its key (PEM files) for one PGO host name."""

    hostname: str
    cert: Path
    key: Path


def issue_client_cert(
    state_dir: str | Path,
    hostname: str,
    out_dir: str | Path,
    *,
    now: datetime | None = None,
) -> ClientCert:
    """Sign a new client certificate for *hostname* with the sandbox CA (made if needed)
    and write it to *out_dir* as ``sandbox-client-<hostname>.pem`` and
    ``sandbox-client-<hostname>-key.pem`` (mode 0600).

    *hostname* must be ``localhost`` or a name under ``.localhost``: the CA's name
    constraints allow nothing else, so a certificate for another name would not verify.
    Whether the name may talk to the sandbox is decided by the Whitelist, not here.
    """
    hostname = hostname.strip().lower().rstrip(".")
    if not _CLIENT_HOST.fullmatch(hostname):
        raise ValueError(
            f"{hostname!r}: the sandbox CA only vouches for localhost and names under .localhost"
        )
    now = now or datetime.now(UTC)
    ensure_tls_files(state_dir, now=now)
    folder = Path(state_dir) / TLS_DIR
    ca = x509.load_pem_x509_certificate((folder / CA_FILE).read_bytes())
    ca_key = _load_key(folder / CA_KEY_FILE)
    cert, key = _new_leaf(
        ca, ca_key, hostname, x509.SubjectAlternativeName([x509.DNSName(hostname)]),
        ExtendedKeyUsageOID.CLIENT_AUTH, now,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cert_path = out / f"sandbox-client-{hostname}.pem"
    key_path = out / f"sandbox-client-{hostname}-key.pem"
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ClientCert(hostname, cert_path, key_path)


def mutual_server_ssl_context(files: TlsFiles) -> ssl.SSLContext:
    """Like :func:`server_ssl_context`, but asks every client for a certificate signed by
    the sandbox CA (optional at the TLS level: the browser pages need none; the app
    refuses the back channel without one)."""
    context = server_ssl_context(files)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(files.ca_cert))
    return context
