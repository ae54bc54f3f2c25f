"""Own data over JSON: self-measurements and diary entries (source "self").

``POST /api/v1/measurements`` takes one measurement, e.g.
``{"type": "blood_pressure", "systolic": 128, "diastolic": 82, "unit": "mm[Hg]", "time": "2026-01-05T08:30:00+01:00"}``
or ``{"type": "body_weight", "value": 72.5, "unit": "kg", "time": ...}``. An impossible value,
or an unusual one without ``"confirmed": true``, answers 422 with a problem document whose
``errors`` name each field, why (``message``) and ``code`` (``impossible``, ``unusual``, ``invalid``).
Bodies are read and written with orjson.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from regie.owndata import diary as diary_mod
from regie.owndata import measurements as meas
from regie.owndata.service import NotFound, OwnData
from regie.store.models import User
from regie.web.api.record import channel_of
from regie.web.guards import api_owner
from regie.web.problems import Problem
from regie.web.sessions import context_of

router = APIRouter(prefix="/api/v1", tags=["own data"])
_JSON = "application/json"
ApiUser = Annotated[User, Depends(api_owner)]  # the record's owner (regie.access)


def _data(request: Request, user: User) -> OwnData:
    context = context_of(request)
    return OwnData(context.db, context.accounts.keyring, user, channel_of(request))


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers={"Cache-Control": "no-store"})


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Problem(400, "malformed-json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Problem(422, "validation-error", "Send one JSON object.",
                      errors=[{"field": "body", "message": "Send one JSON object.", "code": "invalid"}])
    return body


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _errors(type_key: str, exc: meas.MeasurementError, raw: dict[str, Any], unit: str | None) -> Problem:
    errors = []
    for name, text in exc.errors.items():
        code = "impossible" if "not possible" in text else "invalid"
        errors.append({"field": name, "message": text.format(**meas.explain(type_key, name, text, raw, unit)), "code": code})
    for name, text in exc.warnings.items():
        errors.append({"field": name, "code": "unusual",
                       "message": text.format(**meas.explain(type_key, name, text, raw, unit))
                       + " Send it again with \"confirmed\": true if it is right."})
    detail = "A value is not possible." if exc.errors else "A value is very unusual; confirm it with \"confirmed\": true."
    return Problem(422, "validation-error", detail, errors=errors)


def _measurement_from(body: dict[str, Any]) -> meas.Measurement:
    type_key = body.get("type")
    if not isinstance(type_key, str) or type_key not in meas.TYPES:
        raise Problem(422, "validation-error", "Unknown measurement type.", errors=[
            {"field": "type", "message": f"Use one of: {', '.join(meas.TYPES)}.", "code": "invalid"}])
    kind = meas.TYPES[type_key]
    raw = {spec.name: body.get(spec.name) for spec in kind.fields}
    unit = body.get("unit") if isinstance(body.get("unit"), str) else None
    time = _time(body.get("time")) if "time" in body else datetime.now().astimezone()
    options = {name: body.get(name) if isinstance(body.get(name), str) else None for name in ("position", "arm", "moment")}
    comment = body.get("comment") if isinstance(body.get("comment"), str) else ""
    try:
        return meas.check(type_key, raw, unit=unit, time=time, comment=comment,
                          confirmed=body.get("confirmed") is True, **options)
    except meas.MeasurementError as exc:
        if "time" in exc.errors and "time" in body and time is None:
            exc.errors["time"] = "Use an ISO 8601 date and time with a zone, e.g. 2026-01-05T08:30:00+01:00."
        raise _errors(type_key, exc, raw, unit) from None


@router.get("/measurements", responses={200: {"content": {_JSON: {}}}})
async def list_measurements(
    request: Request, user: ApiUser,
    type: Annotated[str | None, Query(description="Only this type.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Your own measurements, newest first (deleted ones left out)."""
    if type is not None and type not in meas.TYPES:
        raise Problem(422, "validation-error", "Unknown measurement type.", errors=[
            {"field": "type", "message": f"Use one of: {', '.join(meas.TYPES)}.", "code": "invalid"}])
    stored = await run_in_threadpool(_data(request, user).measurements, type)
    items = [{"id": s.row_id, "version": s.version, **meas.api_dict(s.measurement)} for s in stored[:limit]
             if s.measurement]
    return _json({"items": items, "types": list(meas.TYPES)})


@router.post("/measurements", status_code=201, responses={201: {"content": {_JSON: {}}}, 422: {"description": "Impossible or unusual value"}})
async def add_measurement(request: Request, user: ApiUser) -> Response:
    """Add one measurement (see the module text for the shape)."""
    m = _measurement_from(await _body(request))
    if m.type == "bmi":
        raise Problem(422, "validation-error", "BMI is calculated from weight and height.", errors=[
            {"field": "type", "message": "BMI is calculated from your weight and height; send those.", "code": "invalid"}])
    row_id = await run_in_threadpool(_data(request, user).save_measurement, m)
    return _json({"id": row_id, **meas.api_dict(m)}, 201)


@router.get("/measurements/{row_id}", responses={200: {"content": {_JSON: {}}}, 404: {"description": "No such measurement"}})
async def get_measurement(request: Request, user: ApiUser, row_id: str) -> Response:
    try:
        current, history = await run_in_threadpool(_data(request, user).measurement_history, row_id)
    except NotFound:
        raise Problem(404, "not-found", "There is no measurement of yours with this id.") from None
    assert current.measurement is not None
    return _json({"id": current.row_id, "version": current.version, **meas.api_dict(current.measurement),
                  "status": current.measurement.status,
                  "history": [{"version": v, **meas.api_dict(m)} for v, m in history]})


@router.delete("/measurements/{row_id}", status_code=204)
async def delete_measurement(request: Request, user: ApiUser, row_id: str) -> Response:
    try:
        await run_in_threadpool(_data(request, user).delete_measurement, row_id)
    except NotFound:
        raise Problem(404, "not-found", "There is no measurement of yours with this id.") from None
    return Response(status_code=204)


@router.get("/diary", responses={200: {"content": {_JSON: {}}}})
async def list_diary(
    request: Request, user: ApiUser,
    q: Annotated[str, Query(max_length=100, description="Text search in symptoms, text and tags.")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    stored = await run_in_threadpool(_data(request, user).entries, q)
    return _json({"items": [{"id": s.row_id, "version": s.version, **diary_mod.api_dict(s.entry)}
                            for s in stored[:limit] if s.entry]})


@router.post("/diary", status_code=201, responses={201: {"content": {_JSON: {}}}, 422: {"description": "Invalid entry"}})
async def add_diary(request: Request, user: ApiUser) -> Response:
    """Add one entry: ``{"time": ..., "symptoms": ["hoofdpijn"], "severity": 6, "text": ..., "tags": [...]}``."""
    body = await _body(request)
    time = _time(body.get("time")) if "time" in body else datetime.now().astimezone()
    try:
        entry = diary_mod.check(time=time, severity=body.get("severity"), symptoms=body.get("symptoms"),
                                text=body.get("text") or "", tags=body.get("tags"))
    except diary_mod.DiaryError as exc:
        raise Problem(422, "validation-error", "Some fields are missing or wrong.", errors=[
            {"field": name, "message": text, "code": "invalid"} for name, text in exc.errors.items()]) from None
    row_id = await run_in_threadpool(_data(request, user).save_entry, entry)
    return _json({"id": row_id, **diary_mod.api_dict(entry)}, 201)
