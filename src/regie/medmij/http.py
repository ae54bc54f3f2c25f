"""Outgoing HTTP for MedMij: which URLs may be called, TLS, timeouts, size limits.

- Only ``https``, with certificate verification always on (optionally trusting an extra
  CA bundle, ``REGIE_MEDMIJ_CA``, e.g. the sandbox's local CA).
- Plain ``http`` only with ``REGIE_ALLOW_INSECURE_LOOPBACK=1`` and only to loopback
  hosts: 127.0.0.0/8, ::1, ``localhost`` and ``*.localhost``. Never to anything else.
- No redirects are followed (a redirect could lead around these rules).
- Responses are read in chunks and refused once they pass a byte limit.
"""
from __future__ import annotations

import functools
import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from regie.errors import RegieError

USER_AGENT = "Regie-PGO"


class UrlNotAllowed(RegieError, ValueError):
    """A URL the MedMij rules (or our configuration) forbid us to call."""


class ResponseTooLarge(RegieError):
    """A response body passed the size limit; nothing of it is used."""


class DownloadFailed(RegieError):
    """Network error, timeout or an unexpected HTTP status."""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_insecure_loopback: bool = False) -> str:
    """Return *url* if we may call it, else raise UrlNotAllowed."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UrlNotAllowed(f"not a valid URL: {url!r}") from exc
    if not parts.hostname:
        raise UrlNotAllowed(f"URL without a host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise UrlNotAllowed("URLs with a user name or password are not allowed")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http":
        if allow_insecure_loopback and is_loopback_host(parts.hostname):
            return url
        if is_loopback_host(parts.hostname):
            raise UrlNotAllowed(
                f"plain http to {parts.hostname} needs REGIE_ALLOW_INSECURE_LOOPBACK=1 (sandbox only)"
            )
        raise UrlNotAllowed(f"plain http is only allowed to loopback addresses, not to {parts.hostname}")
    raise UrlNotAllowed(f"scheme {parts.scheme!r} is not allowed; use https")


def ssl_context(extra_ca: Path | str | None = None,
                client_cert: tuple[Path | str, Path | str] | None = None) -> ssl.SSLContext:
    """System trust plus, when given, an extra CA bundle. Verification stays on.
    *client_cert* (certificate, key) is presented when a server asks (mutual TLS)."""
    context = ssl.create_default_context()
    try:  # the certifi bundle httpx uses by default, when present
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        pass
    if extra_ca:
        context.load_verify_locations(cafile=str(extra_ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert is not None:
        context.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
    return context


def _stamp(path: Path | str | None) -> tuple[str, float] | None:
    if path is None:
        return None
    try:
        return str(path), Path(path).stat().st_mtime
    except OSError:
        return str(path), -1.0


@functools.lru_cache(maxsize=8)
def _shared_context(extra_ca, cert, key) -> ssl.SSLContext:
    return ssl_context(extra_ca[0] if extra_ca else None, (cert[0], key[0]) if cert and key else None)


def shared_ssl_context(extra_ca: Path | str | None = None,
                       client_cert: tuple[Path | str, Path | str] | None = None) -> ssl.SSLContext:
    """:func:`ssl_context`, built once per process for the same files (and built again
    when one of them changes). Loading the trust stores costs ~0.1 s of CPU: per
    collection that was as much as ingesting all its responses. An ``SSLContext`` may be
    shared by clients and threads."""
    cert, key = client_cert if client_cert is not None else (None, None)
    return _shared_context(_stamp(extra_ca), _stamp(cert), _stamp(key))


def client_cert_of(settings) -> tuple[Path, Path] | None:
    """``(REGIE_MEDMIJ_CLIENT_CERT, REGIE_MEDMIJ_CLIENT_KEY)``, or None when not set.
    Raises ValueError when only one is set or a file is missing."""
    cert, key = settings.medmij_client_cert, settings.medmij_client_key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ValueError("set both REGIE_MEDMIJ_CLIENT_CERT and REGIE_MEDMIJ_CLIENT_KEY, or neither")
    for name, path in (("REGIE_MEDMIJ_CLIENT_CERT", cert), ("REGIE_MEDMIJ_CLIENT_KEY", key)):
        if not Path(path).is_file():
            raise ValueError(f"{name}: {path} is not a file")
    return Path(cert), Path(key)


def make_client(
    *,
    timeout_seconds: float = 20.0,
    extra_ca: Path | str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for MedMij calls. Tests pass a transport (MockTransport, ASGI)."""
    timeout = httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds))
    if transport is not None:
        return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                            headers={"User-Agent": USER_AGENT})
    return httpx.Client(
        verify=ssl_context(extra_ca), timeout=timeout, follow_redirects=False,
        headers={"User-Agent": USER_AGENT}, trust_env=False,
    )


def get_bounded(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    allow_insecure_loopback: bool = False,
) -> bytes:
    """GET *url* and return its body; raise on a forbidden URL, a status other than 200,
    a network error or a body over *max_bytes* (checked while reading, not after)."""
    check_url(url, allow_insecure_loopback=allow_insecure_loopback)
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"HTTP {response.status_code} from {url}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLarge(f"{url}: {declared} bytes announced, the limit is {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ResponseTooLarge(f"{url}: more than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"{type(exc).__name__} for {url}: {exc}") from exc
