"""The sandbox FHIR resource server (ASGI), for every provider and service at once.

Routes, relative to where the assembly mounts the app::

    GET    /{provider}/fhir/{serviceId}/metadata                 CapabilityStatement (no token)
    GET    /{provider}/fhir/{serviceId}/{Type}?...               search -> searchset Bundle
    GET    /{provider}/fhir/{serviceId}/Observation/$lastn?...    last n per code
    GET    /{provider}/fhir/{serviceId}/{Type}/{id}               read (Binary: PDF unless FHIR asked)
    PUT    /{provider}/fhir/{serviceId}/{Type}/{id}               update (receiving services)
    DELETE /{provider}/fhir/{serviceId}/{Type}/{id}               delete (receiving services)
    POST   /{provider}/fhir/{serviceId}                           transaction / batch Bundle
    GET    /_sandbox/fhir/received[.json]                         what PGOs sent
    GET    /_sandbox/fhir/access-log[.json]                       who fetched what

The person is derived only from the bearer token (``grants.lookup``): 401 without a
valid token, 403 when the token does not cover the service, 400 when a request names
the patient (``patient=``, ``subject=``, ``owner=``).
"""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from regie.sandbox.services.catalogue import SERVICES, Service

from .faults import Fault, FaultKind, FaultPlan
from .records import AccessEntry, AccessLog, Received, ReceivedStore
from .search import PatientData, SearchError, check_params, search

__all__ = ["DataSource", "FhirConfig", "create_fhir_app"]

_ENC = msgspec.json.Encoder(decimal_format="number")
_DEC = msgspec.json.Decoder()
_FHIR_VERSION = {"STU3": "3.0", "R4": "4.0"}


class DataSource(Protocol):
    """Where the resources of one person at one provider and service come from."""

    def patient_data(self, provider: str, service_id: str, bsn: str) -> PatientData | None:
        """The person's resources, or None when the provider holds nothing for them."""


class GrantLookup(Protocol):
    def lookup(self, access_token: str, now: datetime | None = None) -> Any: ...


@dataclass
class FhirConfig:
    """``offered``: provider (zorgaanbiedernaam without ``@medmij``) -> service ids it
    serves; None serves every catalogue service for any provider. ``services``: the
    catalogue to serve (defaults to the full catalogue)."""

    source: DataSource
    offered: Mapping[str, frozenset[str] | set[str] | tuple[str, ...]] | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    access_log: AccessLog = field(default_factory=AccessLog)
    received: ReceivedStore = field(default_factory=ReceivedStore)
    services: tuple[Service, ...] = SERVICES


class _Refusal(Exception):
    def __init__(self, status: int, code: str, text: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.headers = status, code, text, headers or {}


def operation_outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}]}


def _media(version: str, xml: bool = False) -> str:
    kind = "xml" if xml else "json"
    return f"application/fhir+{kind}; fhirVersion={_FHIR_VERSION[version]}; charset=utf-8"


_XML_FORMATS = frozenset({"xml", "text/xml", "application/xml", "application/fhir+xml"})
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


def wants_xml(request: Request) -> bool:
    """FHIR XML when ``_format`` asks for it, or, without ``_format``, when the Accept
    header names XML and not JSON (``_format`` wins, as the FHIR spec says)."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        return fmt.split(";", 1)[0].strip().lower() in _XML_FORMATS
    accept = request.headers.get("accept", "").lower()
    return "xml" in accept and "json" not in accept


def _encode(body: dict[str, Any], version: str, xml: bool) -> bytes:
    if not xml:
        return _ENC.encode(body)
    from .xmlout import to_xml

    return to_xml(body, version)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class _Ctx:
    provider: str
    service: Service
    request: Request
    bsn: str | None = None
    client_id: str | None = None

    @property
    def base(self) -> str:
        return str(self.request.base_url).rstrip("/") + (
            f"/{self.provider}/fhir/{self.service.id}")

    @property
    def key(self) -> tuple[str, str, str]:
        assert self.bsn is not None
        return (self.provider, self.service.id, self.bsn)


def create_fhir_app(config: FhirConfig, grants: GrantLookup) -> Starlette:
    """The ASGI app; ``app.state`` exposes ``faults``, ``access_log``, ``received``."""
    services = {s.id: s for s in config.services}

    def fhir_response(ctx: _Ctx, body: dict[str, Any], status: int = 200,
                      headers: dict[str, str] | None = None) -> Response:
        xml = wants_xml(ctx.request)
        version = ctx.service.fhir_version
        return Response(_encode(body, version, xml), status_code=status,
                        media_type=_media(version, xml), headers=headers)

    def resolve_service(request: Request) -> _Ctx:
        provider = request.path_params["provider"]
        sid = request.path_params["service_id"]
        svc = services.get(sid)
        offered = None if config.offered is None else config.offered.get(provider)
        if svc is None or (config.offered is not None and (offered is None or sid not in offered)):
            raise _Refusal(404, "not-found",
                           f"provider {provider!r} offers no service {sid!r} in the sandbox")
        return _Ctx(provider, svc, request)

    def authorise(ctx: _Ctx) -> None:
        header = ctx.request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Refusal(401, "login", "a bearer access token is required",
                           {"WWW-Authenticate": 'Bearer realm="medmij-sandbox"'})
        grant = grants.lookup(token.strip())
        if grant is None or grant.expires_at <= _now() or grant.provider != ctx.provider:
            raise _Refusal(401, "login", "the access token is unknown, expired or revoked",
                           {"WWW-Authenticate":
                            'Bearer realm="medmij-sandbox", error="invalid_token"'})
        ctx.bsn, ctx.client_id = grant.bsn, grant.client_id
        if ctx.service.id not in grant.service_ids:
            raise _Refusal(403, "forbidden",
                           f"the access token does not cover service {ctx.service.id}",
                           {"WWW-Authenticate":
                            'Bearer realm="medmij-sandbox", error="insufficient_scope"'})

    def refuse_patient_params(ctx: _Ctx) -> None:
        for name in ctx.request.query_params:
            base = name.split(":", 1)[0].split(".", 1)[0]
            if base in ("patient", "subject", "owner"):
                raise _Refusal(400, "invalid",
                               f"search parameter {name!r} is not allowed: the patient "
                               "follows from the access token, no BSN or patient id may "
                               "appear in the URL")

    def check_format(ctx: _Ctx, *, binary: bool = False) -> bool:
        """True for a FHIR resource (JSON or XML, see :func:`wants_xml`); False for
        native content (Binary only); 406 for a ``_format`` that is neither."""
        fmt = ctx.request.query_params.get("_format")
        if fmt is not None:
            kind = fmt.split(";", 1)[0].strip().lower()
            if kind not in _XML_FORMATS and kind not in _JSON_FORMATS:
                raise _Refusal(406, "not-supported",
                               f"_format {fmt!r}: the sandbox serves FHIR JSON and XML")
            return True
        accept = ctx.request.headers.get("accept", "")
        if "json" in accept or "xml" in accept:
            return True
        return not binary or "fhir" in accept

    def person_data(ctx: _Ctx) -> PatientData:
        assert ctx.bsn is not None
        base = config.source.patient_data(ctx.provider, ctx.service.id, ctx.bsn)
        changes = config.received.changes(ctx.key)
        if not changes:
            return base if base is not None else PatientData(())
        data = PatientData(base.resources if base is not None else ())
        for ref, res in changes.items():
            if res is None:
                data.remove(ref)
            else:
                data.add(res)
        return data

    async def do_search(ctx: _Ctx, rtype: str, lastn: bool) -> Response:
        if lastn and rtype != "Observation":
            raise _Refusal(404, "not-supported", "$lastn is defined on Observation only")
        if rtype not in ctx.service.resource_types:
            raise _Refusal(404, "not-supported",
                           f"service {ctx.service.id} ({ctx.service.standard}) has no "
                           f"searches on {rtype}")
        check_format(ctx)
        params = list(ctx.request.query_params.multi_items())
        try:
            check_params(rtype, params)
            result = search(person_data(ctx), rtype, params, lastn=lastn)
        except SearchError as exc:
            raise _Refusal(400, "invalid", str(exc)) from None
        base = ctx.base
        entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                    "search": {"mode": "match"}} for r in result.matches]
        entries += [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                     "search": {"mode": "include"}} for r in result.includes]
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"lastUpdated": _iso(_now())},
            "type": "searchset",
            "total": len(result.matches),
            "link": [{"relation": "self", "url": str(ctx.request.url)}],
        }
        if entries:  # FHIR forbids empty arrays: no matches means no "entry" at all
            bundle["entry"] = entries
        return fhir_response(ctx, bundle)

    async def do_read(ctx: _Ctx, rtype: str, rid: str) -> Response:
        fhir = check_format(ctx, binary=rtype == "Binary")
        res = person_data(ctx).get(f"{rtype}/{rid}")
        if res is None:
            raise _Refusal(404, "not-found", f"{rtype}/{rid} is not known")
        if rtype == "Binary" and not fhir:
            import base64

            return Response(base64.b64decode(res.get("content") or res.get("data") or ""),
                            media_type=res.get("contentType", "application/octet-stream"))
        return fhir_response(ctx, res)

    def require_receiving(ctx: _Ctx) -> None:
        if not ctx.service.receives:
            raise _Refusal(405, "not-supported",
                           f"service {ctx.service.id} ({ctx.service.standard}) does not "
                           "receive data")

    async def read_json(ctx: _Ctx) -> dict[str, Any]:
        body = await ctx.request.body()
        try:
            doc = _DEC.decode(body)
        except msgspec.DecodeError as exc:
            raise _Refusal(400, "structure", f"the body is not JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
            raise _Refusal(400, "structure", "the body is not a FHIR resource")
        return doc

    async def do_transaction(ctx: _Ctx) -> Response:
        require_receiving(ctx)
        bundle = await read_json(ctx)
        from .receive import apply_bundle

        from .qualify import check_transaction

        try:
            response, resources, warnings = apply_bundle(bundle, config.received.next_id)
        except ValueError as exc:
            raise _Refusal(400, "invalid", str(exc)) from None
        warnings += check_transaction(ctx.service.id, bundle, person_data(ctx), ctx.bsn or "")
        for res in resources:
            config.received.put(ctx.key, res)
        config.received.record(Received(_now(), ctx.provider, ctx.service.id, ctx.bsn or "",
                                        ctx.client_id or "", bundle, response, warnings))
        return fhir_response(ctx, response)

    async def do_update(ctx: _Ctx, rtype: str, rid: str) -> Response:
        require_receiving(ctx)
        res = await read_json(ctx)
        if res.get("resourceType") != rtype or res.get("id") != rid:
            raise _Refusal(400, "invalid", f"the body must be a {rtype} with id {rid!r}")
        from .qualify import check_update

        before = person_data(ctx).get(f"{rtype}/{rid}")
        existed = before is not None
        warnings = check_update(ctx.service.id, res, before)
        config.received.put(ctx.key, res)
        config.received.record(Received(_now(), ctx.provider, ctx.service.id, ctx.bsn or "",
                                        ctx.client_id or "", res,
                                        {"status": 200 if existed else 201}, warnings))
        return fhir_response(ctx, res, 200 if existed else 201)

    async def do_delete(ctx: _Ctx, rtype: str, rid: str) -> Response:
        require_receiving(ctx)
        config.received.delete(ctx.key, f"{rtype}/{rid}")
        return Response(status_code=204)

    async def dispatch(request: Request) -> Response:
        provider = request.path_params.get("provider", "")
        sid = request.path_params.get("service_id", "")
        rest = request.path_params.get("rest", "")
        query = rest + (f"?{request.url.query}" if request.url.query else "")
        ctx: _Ctx | None = None
        fault: Fault | None = None
        status = 500
        try:
            ctx = resolve_service(request)
            fault = config.faults.take(provider, sid)
            if fault is not None and fault.latency:
                await asyncio.sleep(fault.latency)
            if fault is not None and fault.kind in _EARLY:
                response = _fault_response(ctx, fault)
                status = response.status_code
                return response
            response = await route(ctx, request.method, rest)
            if fault is not None and fault.kind in _LATE:
                response = _transform(response, fault)
            status = response.status_code
            return response
        except _Refusal as exc:
            status = exc.status
            version = ctx.service.fhir_version if ctx else "R4"
            xml = wants_xml(request) and exc.status != 406
            return Response(_encode(operation_outcome(exc.code, exc.text), version, xml),
                            status_code=exc.status, media_type=_media(version, xml),
                            headers=exc.headers)
        finally:
            config.access_log.add(AccessEntry(
                _now(), provider, sid, ctx.bsn if ctx else None,
                ctx.client_id if ctx else None, request.method, query, status,
                fault.kind.value if fault is not None else None))

    async def route(ctx: _Ctx, method: str, rest: str) -> Response:
        parts = [p for p in rest.split("/") if p]
        if parts == ["metadata"] and method == "GET":
            return fhir_response(ctx, _capability(ctx.service))
        authorise(ctx)
        refuse_patient_params(ctx)
        if not parts:
            if method == "POST":
                return await do_transaction(ctx)
            raise _Refusal(405, "not-supported", "POST a transaction or batch Bundle here")
        rtype = parts[0]
        if not rtype[:1].isupper() or len(parts) > 2:
            raise _Refusal(404, "not-found", f"no such endpoint: {rest}")
        if len(parts) == 1:
            if method == "GET":
                return await do_search(ctx, rtype, lastn=False)
            raise _Refusal(405, "not-supported", f"{method} on {rtype} is not supported")
        if parts[1] == "$lastn":
            if method == "GET":
                return await do_search(ctx, rtype, lastn=True)
            raise _Refusal(405, "not-supported", "$lastn is a GET operation")
        if method == "GET":
            return await do_read(ctx, rtype, parts[1])
        if method == "PUT":
            return await do_update(ctx, rtype, parts[1])
        if method == "DELETE":
            return await do_delete(ctx, rtype, parts[1])
        raise _Refusal(405, "not-supported", f"{method} on {rtype}/{{id}} is not supported")

    async def received_page(request: Request) -> Response:
        items = config.received.items(request.query_params.get("provider"),
                                      request.query_params.get("service"))
        if request.url.path.endswith(".json"):
            return Response(_ENC.encode([{
                "time": _iso(r.time), "provider": r.provider, "service": r.service_id,
                "bsn": r.bsn, "client_id": r.client_id, "warnings": r.warnings,
                "bundle": r.bundle, "response": r.response} for r in items]),
                media_type="application/json")
        return Response(_received_html(items), media_type="text/html; charset=utf-8")

    async def access_page(request: Request) -> Response:
        entries = config.access_log.entries(request.query_params.get("provider"),
                                            request.query_params.get("service"))
        if request.url.path.endswith(".json"):
            return Response(_ENC.encode([{
                "time": _iso(e.time), "provider": e.provider, "service": e.service_id,
                "bsn": e.bsn, "client_id": e.client_id, "method": e.method,
                "query": e.query, "status": e.status, "fault": e.fault} for e in entries]),
                media_type="application/json")
        return Response(_access_html(entries), media_type="text/html; charset=utf-8")

    methods = ["GET", "POST", "PUT", "DELETE"]
    routes = [
        Route("/_sandbox/fhir/received", received_page, methods=["GET"]),
        Route("/_sandbox/fhir/received.json", received_page, methods=["GET"]),
        Route("/_sandbox/fhir/access-log", access_page, methods=["GET"]),
        Route("/_sandbox/fhir/access-log.json", access_page, methods=["GET"]),
        Route("/{provider}/fhir/{service_id}", dispatch, methods=methods),
        Route("/{provider}/fhir/{service_id}/{rest:path}", dispatch, methods=methods),
    ]
    app = Starlette(routes=routes)
    app.state.faults = config.faults
    app.state.access_log = config.access_log
    app.state.received = config.received
    app.state.config = config
    return app


# --- faults ----------------------------------------------------------------------------

_EARLY = {FaultKind.ERROR, FaultKind.RESET, FaultKind.HANG, FaultKind.MALFORMED,
          FaultKind.OPERATION_OUTCOME, FaultKind.WRONG_CONTENT_TYPE}
_LATE = {FaultKind.TRUNCATED, FaultKind.HUGE, FaultKind.SLOW_DRIP}


class _RawResponse(Response):
    """A response that can misbehave at the ASGI level."""

    def __init__(self, kind: FaultKind, body: bytes = b"", media_type: str = "",
                 seconds: float = 0.0) -> None:
        super().__init__(body, status_code=200, media_type=media_type)
        self.kind, self.seconds = kind, seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.kind is FaultKind.HANG:
            await asyncio.sleep(self.seconds)
            raise ConnectionAbortedError("sandbox fault: the server hung up without answering")
        if self.kind is FaultKind.RESET:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", self.media_type.encode()),
                                    (b"content-length", b"4096")]})
            raise ConnectionResetError("sandbox fault: connection reset by peer")
        # TRUNCATED: promise the full length, send half of it.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", self.media_type.encode()),
                                (b"content-length", str(len(self.body)).encode())]})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2],
                    "more_body": False})


def _fault_response(ctx: _Ctx, fault: Fault) -> Response:
    media = _media(ctx.service.fhir_version)
    if fault.kind is FaultKind.ERROR:
        headers: dict[str, str] = {}
        if fault.status in (429, 503) and fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="medmij-sandbox", error="invalid_token"'
        return Response(_ENC.encode(operation_outcome(
            "transient" if fault.status >= 500 or fault.status == 429 else "security",
            f"sandbox fault: HTTP {fault.status}")),
            status_code=fault.status, media_type=media, headers=headers)
    if fault.kind is FaultKind.MALFORMED:
        return Response(b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"resou',
                        media_type=media)
    if fault.kind is FaultKind.OPERATION_OUTCOME:
        return Response(_ENC.encode(operation_outcome(
            "exception", "sandbox fault: the source system could not be reached")),
            media_type=media)
    if fault.kind is FaultKind.WRONG_CONTENT_TYPE:
        return Response(b"<!DOCTYPE html><html><head><title>Inloggen</title></head>"
                        b"<body><h1>Sessie verlopen</h1><p>Log opnieuw in.</p></body></html>",
                        media_type="text/html; charset=utf-8")
    return _RawResponse(fault.kind, media_type=media, seconds=fault.seconds)


def _transform(response: Response, fault: Fault) -> Response:
    body = bytes(response.body)
    media = response.headers.get("content-type", "application/fhir+json")
    if fault.kind is FaultKind.TRUNCATED:
        return _RawResponse(FaultKind.TRUNCATED, body, media)
    if fault.kind is FaultKind.SLOW_DRIP:
        async def drip():
            for i in range(0, len(body), fault.chunk):
                yield body[i: i + fault.chunk]
                await asyncio.sleep(fault.seconds)

        return StreamingResponse(drip(), status_code=response.status_code, media_type=media,
                                 headers={"content-length": str(len(body))})
    # HUGE: a valid Bundle, padded with Basic resources until it reaches `size` bytes.
    doc = _DEC.decode(body) if body[:1] == b"{" else {}
    if doc.get("resourceType") != "Bundle":
        return response
    entries = doc.pop("entry", [])
    head = _ENC.encode(doc)[:-1] + b',"entry":['
    real = [_ENC.encode(e) for e in entries]

    async def stream():
        yield head
        sent = len(head)
        first = True
        for chunk in real:
            yield (b"" if first else b",") + chunk
            sent += len(chunk) + 1
            first = False
        n = 0
        while sent < fault.size:
            pad = _ENC.encode({"fullUrl": f"urn:uuid:{uuid.UUID(int=n)}",
                               "resource": {"resourceType": "Basic", "id": f"pad-{n}",
                                            "code": {"text": "x" * 4000}},
                               "search": {"mode": "include"}})
            yield (b"" if first else b",") + pad
            first = False
            sent += len(pad) + 1
            n += 1
        yield b"]}"

    return StreamingResponse(stream(), status_code=response.status_code, media_type=media)


# --- small pages -----------------------------------------------------------------------

def _capability(svc: Service) -> dict[str, Any]:
    types: dict[str, set[str]] = {}
    for q in svc.queries:
        if q.resource_type:
            types.setdefault(q.resource_type, set()).update(
                k for k, _ in q.params if not k.startswith("_"))
    return {
        "resourceType": "CapabilityStatement", "status": "active",
        "date": _iso(_now()), "kind": "instance",
        "fhirVersion": "3.0.2" if svc.fhir_version == "STU3" else "4.0.1",
        "format": ["json"],
        "rest": [{"mode": "server",
                  "interaction": ([{"code": "transaction"}, {"code": "batch"}]
                                  if svc.receives else []),
                  "resource": [{"type": t, "interaction": [{"code": "read"},
                                                           {"code": "search-type"}],
                                "searchParam": [{"name": p, "type": "token"}
                                                for p in sorted(ps)]}
                               for t, ps in sorted(types.items())]}],
    }


_STYLE = ("<style>body{font-family:sans-serif}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style>")


def _received_html(items: list[Received]) -> bytes:
    rows = []
    for r in items:
        types = ", ".join(
            (e.get("resource") or {}).get("resourceType", "?")
            for e in (r.bundle.get("entry") or [])) or r.bundle.get("resourceType", "")
        rows.append(
            f"<tr><td>{_iso(r.time)}</td><td>{html.escape(r.provider)}</td>"
            f"<td>{html.escape(r.service_id)}</td><td>{html.escape(r.bsn)}</td>"
            f"<td>{html.escape(r.client_id)}</td><td>{html.escape(types)}</td>"
            f"<td>{'<br>'.join(html.escape(w) for w in r.warnings)}</td></tr>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Received by sandbox providers</title>{_STYLE}</head><body>"
            f"<h1>Received by sandbox providers</h1><p>{len(items)} item(s); "
            f"full content at <a href='received.json'>received.json</a>.</p>"
            f"<table><tr><th>Time</th><th>Provider</th><th>Service</th><th>BSN</th>"
            f"<th>Client</th><th>Resources</th><th>Warnings</th></tr>{''.join(rows)}"
            f"</table></body></html>").encode()


def _access_html(entries: list[AccessEntry]) -> bytes:
    rows = "".join(
        f"<tr><td>{_iso(e.time)}</td><td>{html.escape(e.provider)}</td>"
        f"<td>{html.escape(e.service_id)}</td><td>{html.escape(e.bsn or '')}</td>"
        f"<td>{html.escape(e.client_id or '')}</td><td>{e.method}</td>"
        f"<td><code>{html.escape(e.query)}</code></td><td>{e.status}</td>"
        f"<td>{html.escape(e.fault or '')}</td></tr>" for e in entries)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Sandbox FHIR access log</title>{_STYLE}</head><body>"
            f"<h1>Sandbox FHIR access log</h1><table><tr><th>Time</th><th>Provider</th>"
            f"<th>Service</th><th>BSN</th><th>Client</th><th>Method</th><th>Query</th>"
            f"<th>Status</th><th>Fault</th></tr>{rows}</table></body></html>").encode()
