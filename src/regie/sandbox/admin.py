"""The sandbox's one fault API: ``/_admin/faults`` (JSON), for tests in any process.

Three kinds of faults, all settable at run time:

- OAuth faults per provider (``regie.sandbox.oauth.faults``): token endpoint errors,
  latency, hang, tokens that expire early.
- FHIR faults per provider and service (``regie.sandbox.fhir.faults``): error statuses,
  connection reset, hang, truncated body, malformed FHIR, OperationOutcome, huge body,
  wrong content type, slow drip, latency.
- Lists faults (``regie.sandbox.lists.publisher``): bad signature, lower Volgnummer, a
  provider that disappears from the ZAL.

Routes::

    GET    /_admin/faults                      everything (see snapshot())
    DELETE /_admin/faults                      every fault off, hidden providers back
    GET|PUT|PATCH|DELETE /_admin/faults/<p>    OAuth switches of provider <p>
                                               (DELETE also clears its FHIR faults)
    GET|PUT|DELETE /_admin/faults/<p>/fhir/<serviceId>   FHIR fault ("*": every service)
    GET|PUT|PATCH|DELETE /_admin/faults/_lists           lists faults
    POST   /_admin/lists/publish               publish new editions (Volgnummer + 1) of
                                               {"lists": [...]} or of all four lists

There is no authentication: bind the sandbox to loopback only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regie.medmij.lists import ListKind

__all__ = ["admin_routes", "fhir_fault_from_json", "snapshot"]


class _BadRequest(ValueError):
    pass


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body: Any = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise _BadRequest(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _BadRequest("body must be a JSON object")
    return body


# --- FHIR faults -----------------------------------------------------------------------


def _fhir_plan(fhir_app: Any) -> Any:
    state = getattr(fhir_app, "state", None)
    return getattr(state, "faults", None)


def fhir_fault_from_json(body: dict[str, Any]) -> Any:
    """A :class:`regie.sandbox.fhir.Fault` from JSON such as
    ``{"kind": "error", "status": 503, "retry_after": 5, "remaining": 1}``."""
    from regie.sandbox.fhir import Fault, FaultKind

    known = {f.name: f for f in fields(Fault)}
    unknown = set(body) - set(known)
    if unknown:
        raise _BadRequest(f"unknown fault option(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name == "kind":
            try:
                values["kind"] = FaultKind(value)
            except ValueError:
                kinds = ", ".join(k.value for k in FaultKind)
                raise _BadRequest(f"kind must be one of: {kinds}") from None
        elif value is None:
            if name not in ("retry_after", "remaining"):
                raise _BadRequest(f"{name} may not be null")
            values[name] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise _BadRequest(f"{name} must be a number")
        elif name in ("latency", "seconds"):
            values[name] = float(value)
        else:
            if value != int(value):
                raise _BadRequest(f"{name} must be a whole number")
            values[name] = int(value)
    if "kind" not in values:
        raise _BadRequest("kind is required")
    try:
        return Fault(**values)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None


def _fault_json(fault: Any) -> dict[str, Any]:
    values = asdict(fault)
    values["kind"] = fault.kind.value
    return values


def _fhir_snapshot(plan: Any, provider: str | None = None) -> dict[str, dict[str, Any]]:
    if plan is None:
        return {}
    result: dict[str, dict[str, Any]] = {}
    for (p, sid), fault in sorted(plan.snapshot().items()):
        if provider is None:
            result.setdefault(p, {})[sid] = _fault_json(fault)
        elif p == provider:
            result[sid] = _fault_json(fault)
    return result


# --- lists faults ----------------------------------------------------------------------


def _list_kind(value: Any) -> ListKind:
    if isinstance(value, str):
        for kind in ListKind:
            if value in (kind.name, kind.value, kind.filename):
                return kind
    names = ", ".join(k.name for k in ListKind)
    raise _BadRequest(f"unknown list {value!r}; use one of: {names}")


def _lists_snapshot(publisher: Any) -> dict[str, Any]:
    faults = publisher.faults
    return {
        "bad_signature": sorted(k.name for k in faults.bad_signature),
        "lower_volgnummer": sorted(k.name for k in faults.lower_volgnummer),
        "hidden_providers": sorted(n.removesuffix("@medmij") for n in publisher.hidden_providers),
    }


def _clear_lists(publisher: Any) -> None:
    publisher.faults.clear()
    for naam in list(publisher.hidden_providers):
        publisher.restore_provider(naam)


def _set_lists(publisher: Any, body: dict[str, Any], *, replace: bool, known: set[str]) -> None:
    allowed = {"bad_signature", "lower_volgnummer", "hidden_providers"}
    unknown = set(body) - allowed
    if unknown:
        raise _BadRequest(f"unknown lists fault(s): {', '.join(sorted(unknown))}")
    for name, value in body.items():
        if not isinstance(value, list):
            raise _BadRequest(f"{name} must be a list")
    kinds = {
        name: {_list_kind(v) for v in body[name]}
        for name in ("bad_signature", "lower_volgnummer")
        if name in body
    }
    hidden: set[str] | None = None
    if "hidden_providers" in body:
        hidden = set()
        for naam in body["hidden_providers"]:
            if not isinstance(naam, str) or naam.removesuffix("@medmij") not in known:
                raise _BadRequest(f"unknown provider {naam!r}")
            hidden.add(naam.removesuffix("@medmij") + "@medmij")
    # Everything is checked; now change.
    if replace:
        publisher.faults.clear()
        hidden = hidden if hidden is not None else set()
    for name, chosen in kinds.items():
        target = getattr(publisher.faults, name)
        target.clear()
        target.update(chosen)
    if hidden is not None:
        for naam in set(publisher.hidden_providers) - hidden:
            publisher.restore_provider(naam)
        for naam in hidden - set(publisher.hidden_providers):
            publisher.hide_provider(naam)


# --- routes ----------------------------------------------------------------------------


def snapshot(servers: Any, publisher: Any, fhir_app: Any) -> dict[str, Any]:
    """Every fault now set: ``providers`` (OAuth switches per provider, all of them),
    ``fhir`` (provider -> service -> fault, only those set) and ``lists``."""
    return {
        "providers": servers.faults.snapshot(),
        "fhir": _fhir_snapshot(_fhir_plan(fhir_app)),
        "lists": _lists_snapshot(publisher),
    }


def admin_routes(servers: Any, publisher: Any, fhir_app: Any) -> list[Route]:
    """The ``/_admin/faults`` routes over the OAuth fault board, the FHIR fault plan
    (``fhir_app.state.faults``, if any) and the list publisher."""
    board = servers.faults
    plan = _fhir_plan(fhir_app)
    known = set(board.providers)

    async def all_faults(request: Request) -> Response:
        if request.method == "DELETE":
            board.clear()
            if plan is not None:
                plan.clear()
            _clear_lists(publisher)
        return JSONResponse(snapshot(servers, publisher, fhir_app))

    def provider_view(naam: str) -> dict[str, Any]:
        return {
            "provider": naam,
            "faults": board.snapshot()[naam],
            "fhir": _fhir_snapshot(plan, naam),
            "in_zal": f"{naam}@medmij" not in publisher.hidden_providers,
        }

    async def provider_faults(request: Request) -> Response:
        naam = request.path_params["provider"]
        if naam not in known:
            return _error(f"unknown provider {naam}", 404)
        try:
            if request.method == "DELETE":
                board.clear(naam)
                if plan is not None:
                    plan.clear(naam)
            elif request.method in ("PUT", "PATCH", "POST"):
                changes = await _json_object(request)
                if request.method == "PUT":
                    board.clear(naam)
                board.set(naam, **changes)
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        return JSONResponse(provider_view(naam))

    async def fhir_faults(request: Request) -> Response:
        naam = request.path_params["provider"]
        sid = request.path_params["service_id"]
        if naam not in known:
            return _error(f"unknown provider {naam}", 404)
        if plan is None:
            return _error("the sandbox runs without FHIR servers", 501)
        if request.method == "DELETE":
            plan.clear(naam, None if sid == "*" else sid)
        elif request.method in ("PUT", "POST"):
            try:
                fault = fhir_fault_from_json(await _json_object(request))
            except _BadRequest as exc:
                return _error(str(exc))
            plan.set(naam, sid, fault)
        current = plan.snapshot().get((naam, sid))
        return JSONResponse({
            "provider": naam,
            "service": sid,
            "fault": _fault_json(current) if current is not None else None,
        })

    async def lists_faults(request: Request) -> Response:
        try:
            if request.method == "DELETE":
                _clear_lists(publisher)
            elif request.method in ("PUT", "PATCH", "POST"):
                _set_lists(publisher, await _json_object(request),
                           replace=request.method == "PUT", known=known)
        except _BadRequest as exc:
            return _error(str(exc))
        return JSONResponse(_lists_snapshot(publisher))

    async def publish(request: Request) -> Response:
        try:
            body = await _json_object(request)
            unknown = set(body) - {"lists"}
            if unknown:
                raise _BadRequest(f"unknown option(s): {', '.join(sorted(unknown))}")
            names = body.get("lists", [])
            if not isinstance(names, list):
                raise _BadRequest("lists must be a list")
            kinds = [_list_kind(n) for n in names]
        except _BadRequest as exc:
            return _error(str(exc))
        publisher.publish(*kinds)
        return JSONResponse({
            kind.name: publisher.current(kind).volgnummer for kind in ListKind
        })

    return [
        Route("/_admin/lists/publish", publish, methods=["POST"]),
        Route("/_admin/faults", all_faults, methods=["GET", "DELETE"]),
        Route("/_admin/faults/_lists", lists_faults,
              methods=["GET", "PUT", "PATCH", "POST", "DELETE"]),
        Route("/_admin/faults/{provider}", provider_faults,
              methods=["GET", "PUT", "PATCH", "POST", "DELETE"]),
        Route("/_admin/faults/{provider}/fhir/{service_id}", fhir_faults,
              methods=["GET", "PUT", "POST", "DELETE"]),
    ]
