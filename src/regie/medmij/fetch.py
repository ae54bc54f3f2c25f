"""Fetching FHIR responses from a provider's resource server, safely.

- Every URL passes the URL policy (``regie.medmij.http.check_url``) and the Whitelist
  (``allowed_host``) before a connection is made; redirects are never followed.
- ``*.localhost`` is mapped to 127.0.0.1 by :class:`LoopbackTransport` (browsers do
  this themselves; a server-side client must do it, RFC 6761). TLS still checks the
  certificate against the original name (SNI).
- Timeouts per read, a deadline per response (a slow drip cannot hold a slot forever),
  a byte limit checked while reading.
- Retries with exponential backoff only for GETs (idempotent) on 429, 502, 503, 504,
  timeouts and broken connections, honouring ``Retry-After`` up to a limit.
- A 401 asks the :class:`AccessToken` to refresh (when a refresh token exists) and
  retries once.

Failures are :class:`FetchFailure` with a ``code`` the receipt explains in plain Dutch
and a technical ``detail`` for the server log only.
"""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from regie.medmij.http import USER_AGENT, UrlNotAllowed, check_url, is_loopback_host, shared_ssl_context
from regie.medmij.oauth import new_request_id, retry_after_seconds

RETRY_STATUSES = frozenset({429, 502, 503, 504})
FHIR_MEDIA = "application/fhir+json"


class FetchFailure(Exception):
    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class FetchPolicy:
    timeout_seconds: float = 30.0
    deadline_seconds: float = 120.0
    max_bytes: int = 16 * 1024 * 1024
    attempts: int = 3
    retry_base_seconds: float = 0.5
    retry_after_max_seconds: float = 30.0
    allow_insecure_loopback: bool = False

    @classmethod
    def from_settings(cls, settings) -> FetchPolicy:
        return cls(
            timeout_seconds=settings.collect_timeout_seconds,
            deadline_seconds=settings.collect_deadline_seconds,
            max_bytes=settings.collect_max_response_bytes,
            attempts=max(1, settings.collect_attempts),
            retry_base_seconds=settings.collect_retry_base_seconds,
            retry_after_max_seconds=settings.collect_retry_after_max_seconds,
            allow_insecure_loopback=settings.allow_insecure_loopback,
        )


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Sends requests for ``*.localhost`` to 127.0.0.1, keeping the Host header and the
    TLS server name; everything else goes out unchanged."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host.endswith(".localhost"):
            request.url = request.url.copy_with(host="127.0.0.1")
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_async_client(
    policy: FetchPolicy, *, extra_ca: Path | str | None = None,
    client_cert: tuple[Path | str, Path | str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None, max_connections: int = 100,
) -> httpx.AsyncClient:
    """The back-channel client (token and FHIR requests). *client_cert* (certificate,
    key): presented for mutual TLS. The browser's front channel never goes through here."""
    timeout = httpx.Timeout(policy.timeout_seconds, connect=min(10.0, policy.timeout_seconds))
    if transport is None:
        context: ssl.SSLContext = shared_ssl_context(extra_ca, client_cert)
        transport = LoopbackTransport(httpx.AsyncHTTPTransport(
            verify=context, limits=httpx.Limits(max_connections=max_connections,
                                                max_keepalive_connections=max_connections)))
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             headers={"User-Agent": USER_AGENT}, trust_env=False)


class AccessToken:
    """The access token of one collection, in memory only. ``refresher`` (when there is a
    refresh token) gets a new one; concurrent 401s refresh once."""

    def __init__(self, value: str, refresher: Callable[[], Awaitable[str | None]] | None = None) -> None:
        self._value = value
        self.generation = 0
        self._refresher = refresher
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return "AccessToken(<hidden>)"

    @property
    def value(self) -> str:
        return self._value

    async def refresh(self, seen_generation: int) -> bool:
        if self._refresher is None:
            return False
        async with self._lock:
            if self.generation != seen_generation:
                return True  # someone else already refreshed
            new = await self._refresher()
            if not new:
                self._refresher = None
                return False
            self._value = new
            self.generation += 1
            return True

    def forget(self) -> None:
        self._value = ""


@dataclass
class Fetched:
    body: bytes
    status: int
    content_type: str
    attempts: int
    seconds: float


def guard_url(url: str, policy: FetchPolicy, allowed_host: Callable[[str], bool]) -> None:
    try:
        check_url(url, allow_insecure_loopback=policy.allow_insecure_loopback)
    except UrlNotAllowed as exc:
        raise FetchFailure("not-allowed", str(exc)) from exc
    if not allowed_host(url):
        raise FetchFailure("not-allowed", f"host of {url} is not on the Whitelist")


async def get_fhir(
    http: httpx.AsyncClient, url: str, *, token: AccessToken, policy: FetchPolicy,
    allowed_host: Callable[[str], bool], correlation_id: str,
) -> Fetched:
    """GET one FHIR response (search Bundle, resource, Binary as FHIR JSON)."""
    guard_url(url, policy, allowed_host)
    loop = asyncio.get_running_loop()
    started = loop.time()
    refreshed = False
    attempt = 0
    while True:
        attempt += 1
        generation = token.generation
        headers = {"Authorization": f"Bearer {token.value}", "Accept": FHIR_MEDIA,
                   "MedMij-Request-ID": new_request_id(), "X-Correlation-ID": correlation_id}
        retry_wait: float | None = None
        try:
            async with asyncio.timeout(policy.deadline_seconds):
                status, content_type, body, retry_after = await _get_once(http, url, headers, policy)
        except TimeoutError:
            failure = FetchFailure("timeout", f"no complete answer within {policy.deadline_seconds:g} s: {url}")
        except httpx.TimeoutException as exc:
            failure = FetchFailure("timeout", f"{type(exc).__name__} for {url}")
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            failure = FetchFailure("incomplete", f"{type(exc).__name__} for {url}: {exc}")
        except httpx.HTTPError as exc:
            failure = FetchFailure("connection", f"{type(exc).__name__} for {url}: {exc}")
        else:
            if status == 200:
                _check_content_type(content_type, url)
                return Fetched(body, status, content_type, attempt, loop.time() - started)
            if status == 401:
                if not refreshed and await token.refresh(generation):
                    refreshed = True
                    attempt -= 1  # a refresh is not a retry
                    continue
                raise FetchFailure("unauthorized", f"401 for {url}", status=401)
            if status not in RETRY_STATUSES:
                raise FetchFailure(_status_code(status), f"HTTP {status} for {url}", status=status)
            failure = FetchFailure("busy" if status in (429, 503) else "server-error",
                                   f"HTTP {status} for {url}", status=status)
            retry_wait = retry_after
            if retry_wait is not None and retry_wait > policy.retry_after_max_seconds:
                failure.detail += f" (Retry-After {retry_wait:g} s is beyond our limit)"
                raise failure
        if attempt >= policy.attempts:
            failure.detail += f" (after {attempt} attempts)"
            raise failure
        backoff = policy.retry_base_seconds * (2 ** (attempt - 1))
        await asyncio.sleep(max(backoff, retry_wait or 0.0))


async def _get_once(http: httpx.AsyncClient, url: str, headers: dict[str, str], policy: FetchPolicy):
    async with http.stream("GET", url, headers=headers) as response:
        status = response.status_code
        content_type = response.headers.get("content-type", "")
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if status != 200:  # the body (an OperationOutcome, a portal page) is not read
            return status, content_type, b"", retry_after
        _check_content_type(content_type, url)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchFailure("too-large", f"{url}: {declared} bytes announced, limit {policy.max_bytes}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchFailure("too-large", f"{url}: more than {policy.max_bytes} bytes")
            chunks.append(chunk)
        return status, content_type, b"".join(chunks), retry_after


def _check_content_type(content_type: str, url: str) -> None:
    media = content_type.split(";", 1)[0].strip().lower()
    if not (media.endswith("json") or media.endswith("xml") or media.endswith("+json")):
        raise FetchFailure("not-fhir", f"{url} answered with {media or 'no content type'}")


def _status_code(status: int) -> str:
    return {400: "bad-request", 403: "forbidden", 404: "not-found", 500: "server-error"}.get(
        status, "http-error")


__all__ = [
    "AccessToken", "FetchFailure", "FetchPolicy", "Fetched", "LoopbackTransport", "get_fhir",
    "guard_url", "is_loopback_host", "make_async_client",
]
