"""Pages for the user's own data: self-measurements (/measurements) and the symptom diary (/diary).

Forms post back to themselves; errors are shown next to the field. A value that is
possible but very unusual is shown again with a "yes, this is right" box (confirm).
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regie.owndata import diary as diary_mod
from regie.owndata import measurements as meas
from regie.owndata.service import NotFound, OwnData, Stored
from regie.store.models import User
from regie.web.chart import Point, Series, render_chart
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sessions import context_of
from regie.web.templating import DISPLAY_ZONE, language_of, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)


def own_data(request: Request, user: User, channel: str = "web") -> OwnData:
    context = context_of(request)
    return OwnData(context.db, context.accounts.keyring, user, channel)


def parse_local_time(text: str | None) -> datetime | None:
    """A ``datetime-local`` value (Dutch time) or an ISO time with a zone."""
    if not text or not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=DISPLAY_ZONE)


def local_input(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%dT%H:%M")


def number_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def shown_value(m: meas.Measurement, lang: str) -> str:
    kind = m.kind
    if m.type == "blood_pressure":
        text = f"{number_text(m.values.get('systolic'))}/{number_text(m.values.get('diastolic'))}"
    else:
        text = number_text(m.values.get("value"))
    if lang == "nl":
        text = text.replace(".", ",")
    return f"{text} {kind.unit.label}"


def _messages(request: Request, type_key: str, problems: dict[str, str], raw: dict[str, Any], unit: str | None) -> dict[str, str]:
    gettext = gettext_for(request)
    out = {}
    for name, text in problems.items():
        values = meas.explain(type_key, name, text, raw, unit)
        try:
            out[name] = gettext(text).format(**values)
        except (KeyError, IndexError):
            out[name] = gettext(text)
    return out


def _chart(request: Request, stored: list[Stored], kind: meas.MeasurementType,
           targets: dict[tuple[str, str], tuple[Any, Any]] | None = None) -> Any:
    gettext = gettext_for(request)
    lang = language_of(request)
    series: list[Series] = []
    for spec in kind.fields:
        low, high = (targets or {}).get((kind.key, spec.name), (None, None))
        points = [
            Point(s.measurement.time.astimezone(DISPLAY_ZONE).replace(tzinfo=None), s.measurement.values[spec.name],
                  out_of_range=(low is not None and s.measurement.values[spec.name] < low)
                  or (high is not None and s.measurement.values[spec.name] > high),
                  self_measured=True,
                  label=f"{s.measurement.time.astimezone(DISPLAY_ZONE):%d-%m-%Y %H:%M}: {shown_value(s.measurement, lang)}")
            for s in stored if s.measurement and spec.name in s.measurement.values
        ]
        series.append(Series(gettext(spec.label), kind.unit.label, points, low, high))
    if sum(len(s.points) for s in series) < 2:
        return None
    return render_chart(
        series, title=gettext(kind.label),
        description=gettext(N_("Your measurements over time. Squares are values you measured yourself. The band is your target range.")),
        band_label=gettext(N_("your target range")),
        self_label=gettext(N_("measured yourself")), out_label=gettext(N_("outside your target range")))


# -- measurements -----------------------------------------------------------------------------
@router.get("/measurements")
async def measurements_page(request: Request, user: CurrentUser, type: str | None = None) -> Response:
    return await _measurements_page(request, user, type)


async def _measurements_page(request: Request, user: User, type: str | None, *, target_errors=None,
                             target_values=None, status: int = 200) -> Response:
    data = own_data(request, user)
    chosen = type if type in meas.TYPES else None
    stored = await run_in_threadpool(data.measurements, chosen)
    targets = await run_in_threadpool(data.targets) if chosen else {}
    kind = meas.TYPES[chosen] if chosen else None
    if kind is not None:
        for s in stored:
            m = s.measurement
            for spec in kind.fields:
                low, high = targets.get((kind.key, spec.name), (None, None))
                value = m.values.get(spec.name) if m else None
                if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
                    s.outside = True
    chart = _chart(request, list(reversed(stored)), kind, targets) if kind else None
    lang = language_of(request)
    values = target_values
    if values is None and kind is not None:
        values = {}
        for spec in kind.fields:
            low, high = targets.get((kind.key, spec.name), (None, None))
            values[f"low-{spec.name}"] = number_text(low)
            values[f"high-{spec.name}"] = number_text(high)
    return render(request, "measurements.html", status, types=meas.TYPES, chosen=chosen, kind=kind,
                  stored=stored[:200], chart=chart, value_of=lambda m: shown_value(m, lang), when_local=_when,
                  target_values=values or {}, target_errors=target_errors or {},
                  has_target=any(k[0] == chosen for k in targets))


@router.post("/measurements/targets")
async def save_targets(request: Request, user: CurrentUser, type: str = "") -> Response:
    kind = meas.TYPES.get(type)
    if kind is None:
        return see_other("/measurements")
    values = _form_values(await request.form())
    data = own_data(request, user)
    gettext = gettext_for(request)
    errors: dict[str, str] = {}
    ranges = {}
    for spec in kind.fields:
        low, high = values.get(f"low-{spec.name}", ""), values.get(f"high-{spec.name}", "")
        if not low.strip() and not high.strip():
            ranges[spec.name] = None
            continue
        try:
            ranges[spec.name] = meas.check_target(kind.key, spec.name, low, high)
        except meas.MeasurementError as exc:
            for name, text in exc.errors.items():
                errors[f"{name}-{spec.name}"] = gettext(text)
    if errors:
        return await _measurements_page(request, user, kind.key, target_errors=errors, target_values=values,
                                        status=422)
    for name, found in ranges.items():
        if found is None:
            await run_in_threadpool(data.remove_target, kind.key, name)
        else:
            await run_in_threadpool(data.save_target, kind.key, name, *found)
    return see_other(f"/measurements?type={kind.key}&target=1")


def _when(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M")


def _form_values(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _render_form(request: Request, kind: meas.MeasurementType, values: dict[str, str], *, errors=None,
                 warnings=None, action: str, status: int = 200, editing: Stored | None = None) -> Response:
    gettext = gettext_for(request)
    options = {
        "unit": [(u.code, u.label) for u in kind.units],
        "position": [(k, gettext(v[3])) for k, v in meas.POSITIONS.items()],
        "arm": [(k, gettext(v[3])) for k, v in meas.ARMS.items()],
        "moment": [(k, gettext(v[3])) for k, v in meas.MOMENTS.items()],
    }
    return render(request, "measurement_form.html", status, kind=kind, values=values, errors=errors or {},
                  warnings=warnings or {}, action=action, editing=editing, options=options)


def _measurement_values(m: meas.Measurement) -> dict[str, str]:
    values = {name: number_text(v) for name, v in m.values.items()}
    values.update(time=local_input(m.time), unit=m.kind.unit.code, position=m.position or "", arm=m.arm or "",
                  moment=m.moment or "", comment=m.comment)
    return values


@router.get("/measurements/new")
def new_measurement(request: Request, user: CurrentUser, type: str = "blood_pressure") -> Response:
    kind = meas.TYPES.get(type)
    if kind is None or kind.key == "bmi":
        return see_other("/measurements")
    return _render_form(request, kind, {"time": local_input(), "unit": kind.unit.code, "position": "sitting"},
                        action=f"/measurements/new?type={kind.key}")


async def _save(request: Request, user: User, kind: meas.MeasurementType, action: str,
                row_id: str | None = None) -> Response:
    form = await request.form()
    values = _form_values(form)
    raw = {spec.name: values.get(spec.name, "") for spec in kind.fields}
    unit = values.get("unit") or None
    try:
        m = meas.check(kind.key, raw, unit=unit, time=parse_local_time(values.get("time")),
                       position=values.get("position") or None, arm=values.get("arm") or None,
                       moment=values.get("moment") or None, comment=values.get("comment", ""),
                       confirmed=values.get("confirmed") == "yes")
    except meas.MeasurementError as exc:
        editing = None
        return _render_form(request, kind, values, errors=_messages(request, kind.key, exc.errors, raw, unit),
                            warnings=_messages(request, kind.key, exc.warnings, raw, unit), action=action,
                            status=422, editing=editing)
    data = own_data(request, user)
    try:
        if row_id is None:
            new_id = await run_in_threadpool(data.save_measurement, m)
        else:
            new_id = await run_in_threadpool(data.update_measurement, row_id, m)
    except NotFound:
        raise HTTPException(404) from None
    return see_other(f"/measurements?type={kind.key}&saved={new_id}")


@router.post("/measurements/new")
async def create_measurement(request: Request, user: CurrentUser, type: str = "blood_pressure") -> Response:
    kind = meas.TYPES.get(type)
    if kind is None or kind.key == "bmi":
        return see_other("/measurements")
    return await _save(request, user, kind, f"/measurements/new?type={kind.key}")


async def _load_measurement(request: Request, user: User, row_id: str) -> Stored:
    try:
        return await run_in_threadpool(own_data(request, user).measurement, row_id)
    except NotFound:
        raise HTTPException(404) from None


@router.get("/measurements/{row_id}")
async def measurement_page(request: Request, user: CurrentUser, row_id: str) -> Response:
    try:
        current, history = await run_in_threadpool(own_data(request, user).measurement_history, row_id)
    except NotFound:
        raise HTTPException(404) from None
    lang = language_of(request)
    return render(request, "measurement.html", current=current, history=list(reversed(history)),
                  value_of=lambda m: shown_value(m, lang), when_local=_when, positions=meas.POSITIONS,
                  arms=meas.ARMS, moments=meas.MOMENTS, deleted=current.measurement.status == "entered-in-error")


@router.get("/measurements/{row_id}/edit")
async def edit_measurement(request: Request, user: CurrentUser, row_id: str) -> Response:
    current = await _load_measurement(request, user, row_id)
    assert current.measurement is not None
    kind = current.measurement.kind
    if kind.key == "bmi":
        return see_other(f"/measurements/{row_id}")
    return _render_form(request, kind, _measurement_values(current.measurement),
                        action=f"/measurements/{row_id}/edit", editing=current)


@router.post("/measurements/{row_id}/edit")
async def update_measurement(request: Request, user: CurrentUser, row_id: str) -> Response:
    current = await _load_measurement(request, user, row_id)
    assert current.measurement is not None
    return await _save(request, user, current.measurement.kind, f"/measurements/{row_id}/edit", row_id)


@router.post("/measurements/{row_id}/delete")
async def delete_measurement(request: Request, user: CurrentUser, row_id: str) -> Response:
    current = await _load_measurement(request, user, row_id)
    await run_in_threadpool(own_data(request, user).delete_measurement, row_id)
    assert current.measurement is not None
    return see_other(f"/measurements?type={current.measurement.type}&deleted=1")


# -- diary ------------------------------------------------------------------------------------
def _diary_chart(request: Request, stored: list[Stored]) -> Any:
    gettext = gettext_for(request)
    points = [Point(s.entry.time.astimezone(DISPLAY_ZONE).replace(tzinfo=None), Decimal(s.entry.severity),
                    self_measured=True, label=f"{_when(s.entry.time)}: {s.entry.severity} ({', '.join(s.entry.symptoms)})")
              for s in stored if s.entry]
    if len(points) < 2:
        return None
    return render_chart([Series(gettext(N_("Severity")), "0-10", points)],
                        title=gettext(N_("Severity over time")),
                        description=gettext(N_("How bad your complaints were, from 0 (not at all) to 10 (very bad), per diary entry.")),
                        band_label="", self_label=gettext(N_("your diary")), out_label="",
                        scale=(Decimal(0), Decimal(10)))


def _render_diary_form(request: Request, values: dict[str, str], *, errors=None, status=200, action="/diary",
                       editing: Stored | None = None, page: dict[str, Any] | None = None) -> Response:
    gettext = gettext_for(request)
    translated = {k: gettext(v) for k, v in (errors or {}).items()}
    return render(request, "diary.html" if editing is None else "diary_edit.html", status, values=values,
                  errors=translated, action=action, editing=editing, when_local=_when, **(page or {}))


async def _diary_page_values(request: Request, user: User, q: str) -> dict[str, Any]:
    stored = await run_in_threadpool(own_data(request, user).entries, q)
    return {"entries": stored[:200], "q": q, "chart": _diary_chart(request, list(reversed(stored)))}


@router.get("/diary")
async def diary_page(request: Request, user: CurrentUser, q: str = "") -> Response:
    q = q[:100]
    return _render_diary_form(request, {"time": local_input(), "severity": ""},
                              page=await _diary_page_values(request, user, q))


def _check_entry(values: dict[str, str]) -> diary_mod.DiaryEntry:
    return diary_mod.check(time=parse_local_time(values.get("time")), severity=values.get("severity", ""),
                           symptoms=values.get("symptoms", ""), text=values.get("text", ""),
                           tags=values.get("tags", ""))


@router.post("/diary")
async def create_entry(request: Request, user: CurrentUser) -> Response:
    values = _form_values(await request.form())
    try:
        entry = _check_entry(values)
    except diary_mod.DiaryError as exc:
        return _render_diary_form(request, values, errors=exc.errors, status=422,
                                  page=await _diary_page_values(request, user, ""))
    await run_in_threadpool(own_data(request, user).save_entry, entry)
    return see_other("/diary?saved=1")


def _entry_values(entry: diary_mod.DiaryEntry) -> dict[str, str]:
    return {"time": local_input(entry.time), "severity": str(entry.severity), "symptoms": ", ".join(entry.symptoms),
            "text": entry.text, "tags": ", ".join(entry.tags)}


@router.get("/diary/{row_id}")
async def entry_page(request: Request, user: CurrentUser, row_id: str) -> Response:
    try:
        current, history = await run_in_threadpool(own_data(request, user).entry_history, row_id)
    except NotFound:
        raise HTTPException(404) from None
    assert current.entry is not None
    return _render_diary_form(request, _entry_values(current.entry), action=f"/diary/{row_id}", editing=current,
                              page={"history": list(reversed(history)),
                                    "deleted": current.entry.status == "entered-in-error"})


@router.post("/diary/{row_id}")
async def update_entry(request: Request, user: CurrentUser, row_id: str) -> Response:
    data = own_data(request, user)
    try:
        current, history = await run_in_threadpool(data.entry_history, row_id)
    except NotFound:
        raise HTTPException(404) from None
    values = _form_values(await request.form())
    try:
        entry = _check_entry(values)
    except diary_mod.DiaryError as exc:
        return _render_diary_form(request, values, errors=exc.errors, status=422, action=f"/diary/{row_id}",
                                  editing=current, page={"history": list(reversed(history)), "deleted": False})
    await run_in_threadpool(data.update_entry, row_id, entry)
    return see_other(f"/diary/{row_id}?saved=1")


@router.post("/diary/{row_id}/delete")
async def delete_entry(request: Request, user: CurrentUser, row_id: str) -> Response:
    try:
        await run_in_threadpool(own_data(request, user).delete_entry, row_id)
    except NotFound:
        raise HTTPException(404) from None
    return see_other("/diary?deleted=1")
