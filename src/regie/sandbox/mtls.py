"""Mutual TLS on the sandbox's back channel, checked against the Whitelist.

In MedMij a PGO presents a client certificate on the back channel (token endpoint,
resource endpoints), and the provider checks the certificate's host name against the
Whitelist. With ``regie sandbox --tls`` the sandbox does the same:

- the TLS listener asks every client for a certificate signed by the sandbox CA
  (:func:`regie.sandbox.tls.mutual_server_ssl_context`, ``CERT_OPTIONAL``: a certificate
  from another CA fails the handshake; none at all is allowed, because the browser pages,
  the front channel, stay server-TLS only);
- :class:`PeerCertH11Protocol` (a uvicorn HTTP protocol) hands the verified certificate
  to the app as the ASGI TLS extension (``scope["extensions"]["tls"]
  ["client_cert_chain"]``, PEM), which uvicorn does not do itself;
- :class:`MutualTlsGuard` (ASGI middleware) refuses ``/<p>/oauth/token``,
  ``/<p>/oauth/revoke`` and ``/<p>/fhir/...``:
  - without a client certificate: 401 (``invalid_client`` / OperationOutcome ``login``);
  - with a certificate not from the sandbox CA, expired, or without ``clientAuth``: 401;
  - when no host name in the certificate is on the Whitelist being served: 403
    (``unauthorized_client`` / OperationOutcome ``forbidden``).
  It passes the certificate's host names on in ``scope["state"]``
  (:data:`CLIENT_HOSTS_KEY`), and the token endpoint then also demands that the
  ``client_id`` is one of them.

Lists, admin and browser pages are not guarded.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["CLIENT_HOSTS_KEY", "MutualTlsGuard", "PeerCertH11Protocol", "client_cert_hosts"]

CLIENT_HOSTS_KEY = "sandbox_client_cert_hosts"
_LOG = logging.getLogger("regie.sandbox.oauth")


class PeerCertH11Protocol(H11Protocol):
    """uvicorn's h11 protocol (``Config(http=PeerCertH11Protocol)``), plus the ASGI TLS
    extension with the client's certificate (``client_cert_chain``: PEM, leaf only: the
    chain was verified during the handshake)."""

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        der = ssl_object.getpeercert(binary_form=True)
        info = {
            "server_cert": None,
            "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
            "client_cert_name": None,
            "client_cert_error": None,
            "tls_version": None,
            "cipher_suite": None,
        }
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                scope = {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": info}}
            await inner(scope, receive, send)

        self.app = app


def client_cert_hosts(cert: x509.Certificate) -> tuple[str, ...]:
    """The DNS names in the certificate's SubjectAltName, lower-case."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(n.lower().rstrip(".") for n in san.get_values_for_type(x509.DNSName))


class MutualTlsGuard:
    """ASGI middleware: the back channel needs a Whitelisted client certificate."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        ca_cert: str | Path,
        providers: Iterable[str],
        whitelist: Callable[[], Iterable[str]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.ca = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
        self.whitelist = whitelist
        self.clock = clock
        names = "|".join(re.escape(p) for p in providers) or "(?!)"
        self.pattern = re.compile(
            rf"^/(?P<provider>{names})/(?:(?P<oauth>oauth/(?:token|revoke))$|fhir(?:/|$))"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.pattern.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        oauth = match["oauth"] is not None
        tls = (scope.get("extensions") or {}).get("tls") or {}
        chain = tls.get("client_cert_chain") or []
        if not chain:
            await self._refuse(scope, receive, send, oauth, 401,
                               "a client certificate is required on the back channel (mutual TLS)")
            return
        try:
            cert = x509.load_pem_x509_certificate(chain[0].encode("ascii"))
            self._check(cert)
        except Exception as exc:  # noqa: BLE001 - every failure is a refusal
            await self._refuse(scope, receive, send, oauth, 401,
                               f"client certificate not accepted: {exc}")
            return
        hosts = client_cert_hosts(cert)
        allowed = set(self.whitelist())
        if not any(h in allowed for h in hosts):
            await self._refuse(scope, receive, send, oauth, 403,
                               f"client certificate host {', '.join(hosts) or '(none)'} "
                               "is not on the Whitelist")
            return
        state = dict(scope.get("state") or {})
        state[CLIENT_HOSTS_KEY] = hosts
        await self.app({**scope, "state": state}, receive, send)

    def _check(self, cert: x509.Certificate) -> None:
        cert.verify_directly_issued_by(self.ca)
        now = self.clock()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise ValueError("expired or not yet valid")
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            raise ValueError("no extended key usage") from None
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise ValueError("not a client certificate (no clientAuth)")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, oauth: bool,
                      status: int, reason: str) -> None:
        _LOG.info("mutual TLS: refused %s %s: %s", scope.get("method"), scope.get("path"), reason)
        if oauth:
            error = "invalid_client" if status == 401 else "unauthorized_client"
            response = JSONResponse({"error": error, "error_description": reason},
                                    status_code=status, headers={"Cache-Control": "no-store"})
        else:
            code = "login" if status == 401 else "forbidden"
            response = JSONResponse(
                {"resourceType": "OperationOutcome",
                 "issue": [{"severity": "error", "code": code, "diagnostics": reason}]},
                status_code=status, media_type="application/fhir+json")
        await response(scope, receive, send)
