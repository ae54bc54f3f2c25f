"""The assembled MedMij sandbox: one ASGI app standing in for the MedMij network.

    /                                   overview page (providers, clients, test persons)
    /MedMij_<List>.xml[.jws]            the four lists, as on the Stelselnode
    /<p>/oauth/authorize|consent|token|revoke, /digid/login, /<p>/log   see regie.sandbox.oauth
    /<p>/fhir/<serviceId>/...           FHIR resource servers (regie.sandbox.fhir, if present)
    /_admin/faults[/...]                 every fault switch: OAuth, FHIR, lists (regie.sandbox.admin)
    /_sandbox/fhir/received[.json], /_sandbox/fhir/access-log[.json]   what the FHIR servers saw

Must never import regie.web or regie.store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regie.sandbox.admin import admin_routes
from regie.sandbox.config import SandboxConfig
from regie.sandbox.directory import details_routes
from regie.sandbox.grants import GrantStore, utcnow
from regie.sandbox.lists import ListPublisher, create_lists_app
from regie.sandbox.oauth import AuthorizationServers, pages
from regie.sandbox.oauth.server import CORRELATION_ID, REQUEST_ID

__all__ = ["FhirAppFactory", "create_sandbox_app", "load_fhir_app_factory"]

FhirAppFactory = Callable[[SandboxConfig, GrantStore], ASGIApp]

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_CSP = b"default-src 'none'; style-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"


def load_fhir_app_factory(seed: int = 1, data_dir: str | Path | None = None) -> FhirAppFactory | None:
    """A factory around ``regie.sandbox.fhir.create_fhir_app`` when that package exists,
    else ``None``.

    The FHIR package takes its own ``FhirConfig``; this adapter builds one from the
    sandbox configuration: synthetic data (``SynthSource(seed)``) for exactly the
    services each provider offers; with *data_dir*, the data folder first
    (``FolderSource``), synthetic data for everyone else.
    """
    try:
        from regie.sandbox import fhir
    except ImportError:
        return None
    create = getattr(fhir, "create_fhir_app", None)
    if create is None:
        return None
    fhir_config_cls = getattr(fhir, "FhirConfig", None)
    synth_source_cls = getattr(fhir, "SynthSource", None)
    if fhir_config_cls is None or synth_source_cls is None:
        return create  # type: ignore[no-any-return]

    def factory(config: SandboxConfig, grants: GrantStore) -> ASGIApp:
        offered = {p.naam: frozenset(p.service_ids) for p in config.providers}
        source: Any = synth_source_cls(seed, providers={k: set(v) for k, v in offered.items()})
        if data_dir is not None:
            source = fhir.MultiSource(fhir.FolderSource(data_dir), source)
        return create(  # type: ignore[no-any-return]
            fhir_config_cls(source=source, offered=offered), grants
        )

    return factory


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in _SECURITY_HEADERS if h[0] not in names]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _FhirDispatch:
    """Sends ``/<provider>/fhir/...`` to the FHIR app with its full, unchanged path, and
    writes one access-log line per request (which PGO, which person, which service)."""

    def __init__(self, app: ASGIApp, fhir_app: ASGIApp | None, servers: AuthorizationServers) -> None:
        self.app = app
        self.fhir_app = fhir_app
        self.servers = servers
        names = "|".join(re.escape(p.naam) for p in servers.config.providers) or "(?!)"
        self.pattern = re.compile(rf"^/(?P<provider>{names})/fhir(?:/(?P<sid>[^/]+))?(?P<rest>/.*)?$")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.pattern.match(scope.get("path", "")) if scope["type"] == "http" else None
        if (
            match is None
            and self.fhir_app is not None
            and scope["type"] == "http"
            and scope.get("path", "").startswith("/_sandbox/fhir/")
        ):
            # What the FHIR servers received, and their own request log (JSON or HTML).
            await self.fhir_app(scope, receive, send)
            return
        if match is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.fhir_app is None:
                await _fhir_missing(scope, receive, send_status)
            else:
                await self.fhir_app(scope, receive, send_status)
        finally:
            self._record(scope, match, status)

    def _record(self, scope: Scope, match: re.Match[str], status: int) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        grant = self.servers.grants.lookup(token, self.servers.clock()) if token else None
        sid = match["sid"]
        query = scope.get("query_string", b"").decode("latin-1")
        what = f"{scope.get('method', 'GET')} {match['rest'] or '/'}{'?' + query if query else ''}"
        self.servers.record(
            match["provider"],
            "fhir",
            client_id=grant.client_id if grant else None,
            bsn=grant.bsn if grant else None,
            service_ids=(sid,) if sid else (),
            detail=f"{what} → {status}" + ("" if grant else " (zonder geldig token)"),
            request_id=headers.get(REQUEST_ID.lower()),
            correlation_id=headers.get(CORRELATION_ID.lower()),
        )


async def _fhir_missing(scope: Scope, receive: Receive, send: Send) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-supported",
                   "diagnostics": "The sandbox FHIR servers are not installed."}],
    }
    response = JSONResponse(body, status_code=501, media_type="application/fhir+json")
    await response(scope, receive, send)


_DEFAULT: Any = object()


def _whitelist_reader(publisher: ListPublisher) -> Callable[[], frozenset[str]]:
    """The host names on the Whitelist the sandbox serves now (parsed once per edition)."""
    from regie.medmij.lists import ListKind, parse_list

    cache: dict[bytes, frozenset[str]] = {}

    def read() -> frozenset[str]:
        xml = publisher.current(ListKind.WHITELIST).xml
        if xml not in cache:
            cache.clear()
            cache[xml] = frozenset(parse_list(xml, ListKind.WHITELIST).hostnames)
        return cache[xml]

    return read


def create_sandbox_app(
    config: SandboxConfig,
    state_dir: str | Path,
    *,
    fhir_app_factory: FhirAppFactory | None = _DEFAULT,
    grants: GrantStore | None = None,
    clock: Callable[[], datetime] = utcnow,
    provider_details: Callable[[], bytes] | None = None,
    client_ca: str | Path | None = None,
) -> Starlette:
    """The whole sandbox as one Starlette app.

    *state_dir* keeps the lists' signing key and Volgnummers. *fhir_app_factory*
    defaults to ``regie.sandbox.fhir.create_fhir_app`` when importable; pass ``None``
    to run without FHIR servers (``/<p>/fhir/...`` then answers 501). The FHIR app gets
    every request under ``/<provider>/fhir/`` with its full path unchanged.

    With *client_ca* (the sandbox CA certificate, for ``--tls``), the back channel
    (token, revoke, FHIR) demands a client certificate from that CA for a host on the
    Whitelist (:class:`regie.sandbox.mtls.MutualTlsGuard`; serve with
    :class:`regie.sandbox.mtls.PeerCertH11Protocol` so the app sees the certificate).

    ``app.state`` holds ``config``, ``publisher``, ``grants``, ``oauth`` (the
    :class:`AuthorizationServers`, with ``.faults`` and ``.state``).
    """
    publisher = ListPublisher(config.lists_config(), state_dir)
    grants = grants if grants is not None else GrantStore()
    servers = AuthorizationServers(
        config, grants, clock=clock, secure_cookies=config.front_base_url.startswith("https://")
    )
    if fhir_app_factory is _DEFAULT:
        fhir_app_factory = load_fhir_app_factory()
    fhir_app = fhir_app_factory(config, grants) if fhir_app_factory is not None else None

    async def overview(request: Request) -> Response:
        return HTMLResponse(pages.overview_page(config))

    async def favicon(request: Request) -> Response:
        # Browsers ask for it on every page; a 404 would show as an error.
        return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})

    async def stylesheet(request: Request) -> Response:
        return Response(pages.CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    app = Starlette(
        routes=[
            Route("/", overview, methods=["GET"]),
            Route("/_sandbox/sandbox.css", stylesheet, methods=["GET"]),
            Route("/favicon.ico", favicon, methods=["GET"]),
            *admin_routes(servers, publisher, fhir_app),
            *servers.routes(),
            # Names, places and kinds of the providers, signed like the lists (docs/provider-directory.md).
            *(details_routes(state_dir, provider_details) if provider_details else []),
            Mount("/", app=create_lists_app(publisher)),
        ]
    )
    app.add_middleware(_FhirDispatch, fhir_app=fhir_app, servers=servers)  # type: ignore[arg-type]
    if client_ca is not None:
        from regie.sandbox.mtls import MutualTlsGuard

        app.add_middleware(
            MutualTlsGuard,  # type: ignore[arg-type]
            ca_cert=client_ca,
            providers=[p.naam for p in config.providers],
            whitelist=_whitelist_reader(publisher),
            clock=clock,
        )
    app.add_middleware(_SecurityHeaders)  # type: ignore[arg-type]
    app.state.config = config
    app.state.publisher = publisher
    app.state.grants = grants
    app.state.oauth = servers
    app.state.fhir_app = fhir_app
    return app
