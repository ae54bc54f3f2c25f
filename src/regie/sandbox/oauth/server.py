"""The sandbox authorization servers: one per provider, all in one Starlette router.

Routes (``<p>`` = Zorgaanbiedernaam without ``@medmij``)::

    GET  /<p>/oauth/authorize    authorization endpoint (front channel)
    GET  /digid/login            DigiD simulator (skipped while a DigiD session lives)
    POST /digid/login            form: flow, bsn, action=login|cancel
    GET  /<p>/oauth/consent      consent page
    POST /<p>/oauth/consent      form: flow, consent=yes|no
    POST /<p>/oauth/token        token endpoint (back channel), form-encoded
    POST /<p>/oauth/revoke       RFC 7009 revocation (long-lived consent)
    GET  /<p>/log                access log page

Hand-built on Starlette rather than on Authlib's ``AuthorizationServer``: Authlib ships
server integrations for Flask and Django only; its framework-neutral server is
synchronous, refuses plain-http URIs unless a process-wide environment variable is set,
and the MedMij parts (scope grammar, DigiD and consent interlude, per-provider faults,
access log) would have been most of the code anyway. Authlib provides the RFC 7636
S256 computation; the rest follows RFC 6749/7009/7636 section by section (see
docs/sandbox.md).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from regie.sandbox.config import Provider, SandboxConfig, is_loopback_host
from regie.sandbox.grants import Grant, GrantStore, utcnow

from . import pages
from .faults import FaultBoard
from .scope import ScopeError, parse_scope
from .state import AuthorizationRequest, LogEntry, OAuthState

__all__ = ["AuthorizationServers", "DIGID_COOKIE"]

log = logging.getLogger("regie.sandbox.oauth")

DIGID_COOKIE = "sandbox_digid"
REQUEST_ID = "MedMij-Request-ID"
CORRELATION_ID = "X-Correlation-ID"

_PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_AUTHORIZE_PARAMS = (
    "response_type", "client_id", "redirect_uri", "scope", "state",
    "code_challenge", "code_challenge_method",
)
_TRUE = ("1", "true", "yes")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _with_params(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


class AuthorizationServers:
    """All providers' authorization servers, sharing one :class:`GrantStore`."""

    def __init__(
        self,
        config: SandboxConfig,
        grants: GrantStore,
        *,
        faults: FaultBoard | None = None,
        state: OAuthState | None = None,
        clock: Callable[[], datetime] = utcnow,
        secure_cookies: bool = False,
    ) -> None:
        self.config = config
        self.grants = grants
        self.faults = faults or FaultBoard([p.naam for p in config.providers])
        self.state = state or OAuthState()
        self.clock = clock
        self.secure_cookies = secure_cookies

    # --- helpers -------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/digid/login", self.digid, methods=["GET", "POST"]),
            Route("/{provider}/oauth/authorize", self.authorize, methods=["GET"]),
            Route("/{provider}/oauth/consent", self.consent, methods=["GET", "POST"]),
            Route("/{provider}/oauth/token", self.token, methods=["POST"]),
            Route("/{provider}/oauth/revoke", self.revoke, methods=["POST"]),
            Route("/{provider}/log", self.access_log, methods=["GET"]),
        ]

    def _provider(self, request: Request) -> Provider | None:
        return self.config.provider(request.path_params["provider"])

    @staticmethod
    def _ids(request: Request, form: dict[str, str] | None = None) -> tuple[str | None, str | None]:
        """``MedMij-Request-ID`` and ``X-Correlation-ID`` from headers, else parameters."""
        values = []
        for name in (REQUEST_ID, CORRELATION_ID):
            value = (
                request.headers.get(name)
                or request.query_params.get(name)
                or (form or {}).get(name)
            )
            values.append(value[:200] if value else None)
        return values[0], values[1]

    def record(self, provider: str, event: str, **values: object) -> None:
        entry = LogEntry(at=self.clock(), provider=provider, event=event, **values)  # type: ignore[arg-type]
        self.state.log(entry)
        log.info(
            "%s %s client=%s services=%s %s request_id=%s correlation_id=%s",
            provider, event, entry.client_id, ",".join(entry.service_ids), entry.detail,
            entry.request_id, entry.correlation_id,
        )

    def _redirect_error(
        self, redirect_uri: str, error: str, description: str, state: str | None, status: int
    ) -> RedirectResponse:
        params = {"error": error, "error_description": description}
        if state:
            params["state"] = state
        return RedirectResponse(_with_params(redirect_uri, params), status_code=status)

    def _valid_redirect_uri(self, redirect_uri: str, client_id: str) -> str | None:
        """Why *redirect_uri* is not acceptable for *client_id*, or ``None``."""
        try:
            parts = urlsplit(redirect_uri)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return "het redirect-adres is geen geldige URL"
        if parts.fragment or "#" in redirect_uri:
            return "het redirect-adres mag geen #-deel hebben"
        if parts.hostname != client_id:
            return "het redirect-adres ligt niet op de host van de PGO (client_id)"
        if parts.scheme == "https":
            return None
        if parts.scheme == "http" and is_loopback_host(parts.hostname or ""):
            return None  # loopback deviation: a local PGO without TLS
        return "het redirect-adres moet https gebruiken"

    # --- authorization endpoint ---------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        provider = self._provider(request)
        if provider is None:
            return _html(pages.error_page("Onbekende zorgaanbieder", "Deze zorgaanbieder bestaat niet in de sandbox."), 404)
        await self.faults.apply_latency(provider.naam)
        params = request.query_params
        request_id, correlation_id = self._ids(request)
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")

        def refuse_page(message: str) -> Response:
            # RFC 6749 4.1.2.1: never redirect to an unverified client or redirect URI.
            self.record(provider.naam, "authorize_refused", client_id=client_id or None,
                        detail=message, request_id=request_id, correlation_id=correlation_id)
            return _html(pages.error_page("Deze aanvraag klopt niet", message), 400)

        for name in ("client_id", "redirect_uri"):
            if len(params.getlist(name)) > 1:
                return refuse_page(f"de parameter {name} komt meer dan één keer voor")
        client = self.config.client(client_id) if client_id else None
        if client is None:
            return refuse_page("deze PGO (client_id) staat niet op de OAuth-clientlijst")
        if not redirect_uri:
            return refuse_page("het redirect-adres (redirect_uri) ontbreekt")
        problem = self._valid_redirect_uri(redirect_uri, client_id)
        if problem:
            return refuse_page(problem)

        state = params.get("state")

        def refuse(error: str, description: str) -> Response:
            self.record(provider.naam, "authorize_refused", client_id=client_id,
                        detail=f"{error}: {description}", request_id=request_id,
                        correlation_id=correlation_id)
            return self._redirect_error(redirect_uri, error, description, state, 302)

        for name in _AUTHORIZE_PARAMS:
            if len(params.getlist(name)) > 1:
                return refuse("invalid_request", f"de parameter {name} komt meer dan één keer voor")
        if not state:
            return refuse("invalid_request", "state ontbreekt")
        if params.get("response_type") != "code":
            return refuse("unsupported_response_type", "alleen response_type=code wordt ondersteund")
        scope = params.get("scope", "")
        try:
            service_ids = parse_scope(scope, provider.naam)
        except ScopeError as exc:
            return refuse("invalid_scope", str(exc))
        not_offered = [sid for sid in service_ids if sid not in provider.service_ids]
        if not_offered:
            return refuse("invalid_scope", f"deze zorgaanbieder biedt gegevensdienst {', '.join(not_offered)} niet aan")
        if len(service_ids) > 1 and any(self.config.is_share_only(s) for s in service_ids):
            return refuse("invalid_scope", "voor delen (sturen) mag de scope maar één gegevensdienst noemen")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is not None:
            if method != "S256":
                return refuse("invalid_request", "alleen code_challenge_method=S256 wordt ondersteund")
            if not _PKCE_VALUE.fullmatch(challenge):
                return refuse("invalid_request", "code_challenge heeft niet de goede vorm")
        elif method is not None:
            return refuse("invalid_request", "code_challenge_method zonder code_challenge")

        now = self.clock()
        flow = self.state.new_flow(
            now,
            provider=provider.naam,
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=state,
            scope=scope,
            service_ids=service_ids,
            code_challenge=challenge,
            long_lived=params.get("long_lived", "").lower() in _TRUE,
            request_id=request_id,
            correlation_id=correlation_id,
            expires_at=now + self.config.flow_lifetime,
        )
        self.record(provider.naam, "authorize", client_id=client_id, service_ids=service_ids,
                    detail="langdurig" if flow.long_lived else "", request_id=request_id,
                    correlation_id=correlation_id)
        # The real DVA redirects to DigiD (SAML); DigiD returns to the consent step.
        return RedirectResponse(f"/digid/login?{urlencode({'flow': flow.flow_id})}", status_code=302)

    # --- DigiD simulator --------------------------------------------------------------

    def _consent_url(self, flow: AuthorizationRequest) -> str:
        return f"/{flow.provider}/oauth/consent?{urlencode({'flow': flow.flow_id})}"

    def _expired_flow_page(self) -> Response:
        return _html(
            pages.error_page(
                "Deze aanvraag is verlopen",
                "Deze inlogpoging is verlopen of al gebruikt. Ga terug naar uw PGO en begin opnieuw.",
            ),
            400,
        )

    async def digid(self, request: Request) -> Response:
        now = self.clock()
        if request.method == "GET":
            flow = self.state.flow(request.query_params.get("flow", ""), now)
            if flow is None:
                return self._expired_flow_page()
            session_id = request.cookies.get(DIGID_COOKIE, "")
            session = self.state.digid_session(session_id, now) if session_id else None
            if session is not None and self.config.person(session.bsn) is not None:
                # Like real DigiD: a live session logs in without asking again.
                self.state.set_flow_person(flow.flow_id, session.bsn)
                self.record(flow.provider, "digid_reused", client_id=flow.client_id,
                            bsn=session.bsn, service_ids=flow.service_ids,
                            request_id=flow.request_id, correlation_id=flow.correlation_id)
                return RedirectResponse(self._consent_url(flow), status_code=302)
            provider = self.config.provider(flow.provider)
            assert provider is not None
            return _html(pages.digid_page(flow.flow_id, provider, self.config.persons))

        form = await request.form()
        flow = self.state.flow(str(form.get("flow", "")), now)
        if flow is None:
            return self._expired_flow_page()
        provider = self.config.provider(flow.provider)
        assert provider is not None
        if form.get("action") == "cancel":
            self.state.end_flow(flow.flow_id)
            self.record(flow.provider, "consent_refused", client_id=flow.client_id,
                        service_ids=flow.service_ids, detail="DigiD-inlog geannuleerd",
                        request_id=flow.request_id, correlation_id=flow.correlation_id)
            return self._redirect_error(flow.redirect_uri, "access_denied",
                                        "inloggen met DigiD geannuleerd", flow.state, 303)
        bsn = str(form.get("bsn", "")).strip()
        if self.config.person(bsn) is None:
            return _html(
                pages.digid_page(flow.flow_id, provider, self.config.persons,
                                 error="Kies een van de testpersonen."),
                400,
            )
        lifetime = self.config.digid_session_lifetime
        session = self.state.new_digid_session(bsn, now + lifetime)
        self.state.set_flow_person(flow.flow_id, bsn)
        self.record(flow.provider, "digid_login", client_id=flow.client_id, bsn=bsn,
                    service_ids=flow.service_ids, request_id=flow.request_id,
                    correlation_id=flow.correlation_id)
        response = RedirectResponse(self._consent_url(flow), status_code=303)
        response.set_cookie(
            DIGID_COOKIE, session.session_id, max_age=int(lifetime.total_seconds()),
            path="/digid", httponly=True, samesite="lax", secure=self.secure_cookies,
        )
        return response

    # --- consent ----------------------------------------------------------------------

    async def consent(self, request: Request) -> Response:
        provider = self._provider(request)
        if provider is None:
            return _html(pages.error_page("Onbekende zorgaanbieder", "Deze zorgaanbieder bestaat niet in de sandbox."), 404)
        now = self.clock()
        form = await request.form() if request.method == "POST" else None
        flow_id = str(form.get("flow", "")) if form is not None else request.query_params.get("flow", "")
        flow = self.state.flow(flow_id, now)
        if flow is None or flow.provider != provider.naam or flow.bsn is None:
            return self._expired_flow_page()
        person = self.config.person(flow.bsn)
        client = self.config.client(flow.client_id)
        assert person is not None and client is not None

        if form is None:
            sending = len(flow.service_ids) == 1 and self.config.is_share_only(flow.service_ids[0])
            return _html(
                pages.consent_page(
                    flow.flow_id, provider, client.organisatienaam,
                    [self.config.service_name(s) for s in flow.service_ids], person,
                    sending=sending,
                    long_lived_until=(now + self.config.refresh_token_lifetime) if flow.long_lived else None,
                )
            )

        answer = form.get("consent")
        if answer not in ("yes", "no"):
            return _html(pages.error_page("Kies ja of nee", "Geef aan of u toestemming geeft."), 400)
        if self.state.end_flow(flow.flow_id) is None:  # single use, also under a double click
            return self._expired_flow_page()
        ids = {"request_id": flow.request_id, "correlation_id": flow.correlation_id}
        if answer == "no":
            self.record(provider.naam, "consent_refused", client_id=flow.client_id, bsn=flow.bsn,
                        service_ids=flow.service_ids, **ids)
            return self._redirect_error(flow.redirect_uri, "access_denied",
                                        "de persoon gaf geen toestemming", flow.state, 303)
        code = self.state.new_code(
            provider=provider.naam,
            client_id=flow.client_id,
            redirect_uri=flow.redirect_uri,
            service_ids=flow.service_ids,
            bsn=flow.bsn,
            code_challenge=flow.code_challenge,
            long_lived=flow.long_lived,
            correlation_id=flow.correlation_id,
            expires_at=now + self.config.code_lifetime,
        )
        self.record(provider.naam, "consent_given", client_id=flow.client_id, bsn=flow.bsn,
                    service_ids=flow.service_ids,
                    detail="langdurig" if flow.long_lived else "eenmalig", **ids)
        return RedirectResponse(
            _with_params(flow.redirect_uri, {"code": code.code, "state": flow.state}),
            status_code=303,
        )

    # --- token endpoint ---------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        provider = self._provider(request)
        if provider is None:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown provider"},
                                status_code=404, headers=_NO_STORE)
        await self.faults.apply_latency(provider.naam)
        await self.faults.hang_if_asked(provider.naam)
        request_id, correlation_id = self._ids(request)
        echo = {k: v for k, v in ((REQUEST_ID, request_id), (CORRELATION_ID, correlation_id)) if v}
        failing = self.faults.take_token_error(provider.naam)
        if failing is not None:
            status = failing.token_error or 500
            headers = {**_NO_STORE, **echo}
            if status in (429, 503):
                headers["Retry-After"] = str(failing.retry_after)
            error = "temporarily_unavailable" if status in (429, 503) else "server_error"
            self.record(provider.naam, "token_fault", detail=f"HTTP {status}",
                        request_id=request_id, correlation_id=correlation_id)
            return JSONResponse({"error": error, "error_description": f"sandbox fault: HTTP {status}"},
                                status_code=status, headers=headers)

        form: dict[str, str] = {}
        client_id: str | None = None
        try:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                raise _TokenError("invalid_request", "de body moet application/x-www-form-urlencoded zijn")
            raw = await request.form()
            for key in raw:
                values = raw.getlist(key)
                if len(values) > 1:
                    raise _TokenError("invalid_request", f"de parameter {key} komt meer dan één keer voor")
                form[key] = str(values[0])
            request_id, correlation_id = self._ids(request, form)
            echo = {k: v for k, v in ((REQUEST_ID, request_id), (CORRELATION_ID, correlation_id)) if v}
            client_id = form.get("client_id")
            if not client_id:
                raise _TokenError("invalid_request", "client_id ontbreekt")
            if self.config.client(client_id) is None:
                raise _TokenError("invalid_client", "onbekende client_id", 401)
            if not _cert_allows(request, client_id):
                raise _TokenError("invalid_client", "client_id hoort niet bij het clientcertificaat", 401)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant, event = self._exchange_code(provider, client_id, form), "token_issued"
            elif grant_type == "refresh_token":
                grant, event = self._refresh(provider, client_id, form), "token_refreshed"
            elif not grant_type:
                raise _TokenError("invalid_request", "grant_type ontbreekt")
            else:
                raise _TokenError("unsupported_grant_type", f"grant_type {grant_type} wordt niet ondersteund")
        except _TokenError as exc:
            self.record(provider.naam, "token_refused", client_id=client_id,
                        detail=f"{exc.error}: {exc.description}", request_id=request_id,
                        correlation_id=correlation_id)
            headers = {**_NO_STORE, **echo}
            if exc.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
            return JSONResponse({"error": exc.error, "error_description": exc.description},
                                status_code=exc.status, headers=headers)
        self.record(provider.naam, event, client_id=client_id, bsn=grant.bsn,
                    service_ids=grant.service_ids,
                    detail="met refresh_token" if grant.refresh_token else "",
                    request_id=request_id, correlation_id=correlation_id)
        body: dict[str, object] = {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            # Announce the configured lifetime even when the early-expiry fault is on.
            "expires_in": int(self.config.access_token_lifetime.total_seconds()),
            "scope": grant.scope,
        }
        if grant.refresh_token:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body, headers={**_NO_STORE, **echo})

    def _lifetime(self, provider: str) -> timedelta:
        early = self.faults.get(provider).token_expires_after
        if early is not None:
            return min(timedelta(seconds=early), self.config.access_token_lifetime)
        return self.config.access_token_lifetime

    def _exchange_code(self, provider: Provider, client_id: str, form: dict[str, str]) -> Grant:
        code_value = form.get("code")
        redirect_uri = form.get("redirect_uri")
        if not code_value:
            raise _TokenError("invalid_request", "code ontbreekt")
        if not redirect_uri:
            raise _TokenError("invalid_request", "redirect_uri ontbreekt")
        code, first = self.state.take_code(code_value)
        if code is None:
            raise _TokenError("invalid_grant", "onbekende code")
        if not first:
            # RFC 6749 4.1.2: a replayed code revokes what was issued with it.
            for token in code.tokens:
                self.grants.revoke(token, now=self.clock())
                self.record(provider.naam, "code_replayed", client_id=client_id, bsn=code.bsn,
                            service_ids=code.service_ids)
            raise _TokenError("invalid_grant", "deze code is al gebruikt")
        if code.provider != provider.naam:
            raise _TokenError("invalid_grant", "deze code is van een andere zorgaanbieder")
        if self.clock() >= code.expires_at:
            raise _TokenError("invalid_grant", "deze code is verlopen")
        if code.client_id != client_id:
            raise _TokenError("invalid_grant", "deze code is voor een andere client_id")
        if code.redirect_uri != redirect_uri:
            raise _TokenError("invalid_grant", "redirect_uri is niet gelijk aan die van de autorisatie")
        verifier = form.get("code_verifier")
        if code.code_challenge is not None:
            if not verifier:
                raise _TokenError("invalid_grant", "code_verifier ontbreekt")
            if not _PKCE_VALUE.fullmatch(verifier) or not hmac.compare_digest(
                create_s256_code_challenge(verifier), code.code_challenge
            ):
                raise _TokenError("invalid_grant", "code_verifier klopt niet")
        elif verifier:
            raise _TokenError("invalid_grant", "code_verifier zonder code_challenge")
        grant = self.grants.issue(
            provider=provider.naam,
            bsn=code.bsn,
            service_ids=code.service_ids,
            client_id=client_id,
            lifetime=self._lifetime(provider.naam),
            long_lived=code.long_lived,
            refresh_lifetime=self.config.refresh_token_lifetime,
            now=self.clock(),
        )
        self.state.add_code_token(code.code, grant.access_token)
        if grant.refresh_token:
            self.state.add_code_token(code.code, grant.refresh_token)
        return grant

    def _refresh(self, provider: Provider, client_id: str, form: dict[str, str]) -> Grant:
        token = form.get("refresh_token")
        if not token:
            raise _TokenError("invalid_request", "refresh_token ontbreekt")
        now = self.clock()
        current = self.grants.lookup_refresh(token, now, previous=True)
        if current is None or current.provider != provider.naam or current.client_id != client_id:
            raise _TokenError("invalid_grant", "onbekende, verlopen of ingetrokken refresh_token")
        scope = form.get("scope")
        if scope is not None:
            try:
                asked = parse_scope(scope, provider.naam)
            except ScopeError as exc:
                raise _TokenError("invalid_scope", str(exc)) from None
            if set(asked) != set(current.service_ids):
                raise _TokenError("invalid_scope", "de scope moet gelijk zijn aan de gegeven toestemming")
        grant = self.grants.refresh(token, client_id=client_id, lifetime=self._lifetime(provider.naam), now=now)
        if grant is None:  # revoked in between
            raise _TokenError("invalid_grant", "onbekende, verlopen of ingetrokken refresh_token")
        return grant

    # --- revocation (RFC 7009) ----------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        provider = self._provider(request)
        if provider is None:
            return JSONResponse({"error": "invalid_request"}, status_code=404)
        form = await request.form()
        request_id, correlation_id = self._ids(request, {k: str(v) for k, v in form.items()})
        client_id = str(form.get("client_id", ""))
        token = str(form.get("token", ""))
        if self.config.client(client_id) is None or not _cert_allows(request, client_id):
            return JSONResponse({"error": "invalid_client"}, status_code=401, headers=_NO_STORE)
        now = self.clock()
        owner = self.grants.lookup(token, now) or self.grants.lookup_refresh(token, now, previous=True)
        if owner is not None and owner.provider == provider.naam and owner.client_id == client_id:
            self.grants.revoke(token, now=now)
            self.record(provider.naam, "token_revoked", client_id=client_id, bsn=owner.bsn,
                        service_ids=owner.service_ids, request_id=request_id,
                        correlation_id=correlation_id)
        # RFC 7009 2.2: unknown tokens also get 200.
        return Response(status_code=200, headers=_NO_STORE)

    # --- access log -------------------------------------------------------------------

    async def access_log(self, request: Request) -> Response:
        provider = self._provider(request)
        if provider is None:
            return _html(pages.error_page("Onbekende zorgaanbieder", "Deze zorgaanbieder bestaat niet in de sandbox."), 404)
        return _html(pages.access_log_page(self.config, provider, self.state.entries(provider.naam)))


def _cert_allows(request: Request, client_id: str) -> bool:
    """With mutual TLS (regie.sandbox.mtls), the client_id must be a host name of the
    client certificate; without it there is nothing to compare."""
    hosts = (request.scope.get("state") or {}).get("sandbox_client_cert_hosts")
    return hosts is None or client_id in hosts
