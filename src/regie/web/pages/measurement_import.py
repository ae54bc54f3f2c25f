"""Importing measurements from a CSV file (map the columns, preview, import) or a FHIR file.

The CSV travels with the preview form (base64 in a hidden field), so nothing is stored
before the user chooses "Import". Included before the measurement pages, so
``/measurements/import`` is not taken for a measurement id.
"""
from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from regie.fhir import FhirReadError, read_bytes
from regie.owndata import csv_import
from regie.owndata import measurements as meas
from regie.store.models import User
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for
from regie.web.pages.owndata import own_data, shown_value
from regie.web.templating import language_of, render
from regie.web.uploads import refusal

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
PREVIEW_ROWS = 20

TARGET_LABELS = {
    "ignore": N_("Do not use"), "time": N_("Date and time"), "date": N_("Date"), "clock": N_("Time"),
    "value": N_("Value"), "systolic": N_("Upper pressure (systolic)"), "diastolic": N_("Lower pressure (diastolic)"),
    "comment": N_("Note"),
}


def _types(request: Request) -> list[tuple[str, str]]:
    gettext = gettext_for(request)
    return [(key, gettext(kind.label)) for key, kind in meas.TYPES.items() if key != "bmi"]


def _page(request: Request, status: int = 200, **values) -> Response:
    gettext = gettext_for(request)
    values.setdefault("type_key", "body_weight")
    kind = meas.TYPES[values["type_key"]]
    targets = ["ignore", "time", "date", "clock",
               *[spec.name for spec in kind.fields], "comment"]
    return render(request, "measurement_import.html", status, types=_types(request),
                  targets=[(t, gettext(TARGET_LABELS[t])) for t in targets],
                  units=[(u.code, u.label) for u in kind.units], **values)


@router.get("/measurements/import")
def import_page(request: Request, user: CurrentUser) -> Response:
    return _page(request)


def _translate(request: Request, type_key: str, results, unit: str | None):
    gettext = gettext_for(request)
    for result in results:
        raw = dict(zip(("value", "systolic", "diastolic"), ("", "", "")))
        for name, text in list(result.errors.items()):
            try:
                values = meas.explain(type_key, name, text, {**raw, name: "?"}, unit)
                result.errors[name] = gettext(text).format(**values)
            except (KeyError, IndexError):
                result.errors[name] = gettext(text)
    return results


@router.post("/measurements/import")
async def import_csv(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    if (refused := refusal(request, form)) is not None:  # count and size limits (regie.web.uploads)
        return refused
    gettext = gettext_for(request)
    type_key = form.get("type") if form.get("type") in meas.TYPES and form.get("type") != "bmi" else "body_weight"
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(csv_import.MAX_BYTES + 1)
    else:
        try:
            data = base64.b64decode(str(form.get("content", "")), validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        return _page(request, 422, type_key=type_key, file_error=gettext(N_("Choose a CSV file.")))
    try:
        table = csv_import.read_table(data)
    except csv_import.CsvError as exc:
        return _page(request, 422, type_key=type_key, file_error=gettext(str(exc)))
    kind = meas.TYPES[type_key]
    unit = form.get("unit") if isinstance(form.get("unit"), str) and kind.unit_for(str(form.get("unit"))) else kind.unit.code
    mapping = [str(form.get(f"column-{i}", "")) for i in range(len(table.headers))]
    if form.get("step") != "preview" or not all(m in csv_import.TARGETS for m in mapping):
        mapping = csv_import.guess_mapping(table.headers, type_key)
    confirm = form.get("confirm_unusual") == "yes"
    problems = [gettext(p) for p in csv_import.mapping_problems(mapping, type_key)]
    results = [] if problems else _translate(
        request, type_key, csv_import.check_rows(table, mapping, type_key, unit, confirm_unusual=confirm), unit)
    content = base64.b64encode(data).decode()
    lang = language_of(request)
    if form.get("do") == "import" and not problems:
        good = [r.measurement for r in results if r.measurement is not None]
        data_service = own_data(request, user)
        if good:
            await run_in_threadpool(data_service.save_many, good)
        return _page(request, 200, type_key=type_key, imported=len(good),
                     failed=[r for r in results if r.errors], value_of=lambda m: shown_value(m, lang))
    return _page(request, 200, type_key=type_key, table=table, mapping=mapping, unit=unit, content=content,
                 problems=problems, results=results[:PREVIEW_ROWS], total=len(results),
                 good=sum(1 for r in results if r.measurement), bad=sum(1 for r in results if r.errors),
                 confirm=confirm, value_of=lambda m: shown_value(m, lang))


@router.post("/measurements/import/fhir")
async def import_fhir(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    if (refused := refusal(request, form)) is not None:  # count and size limits (regie.web.uploads)
        return refused
    gettext = gettext_for(request)
    upload = form.get("fhir_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, 422, fhir_error=gettext(N_("Choose a FHIR file.")))
    data = await upload.read(csv_import.MAX_BYTES * 4 + 1)
    try:
        doc = read_bytes(data, name=upload.filename[:200], max_bytes=csv_import.MAX_BYTES * 4)
    except FhirReadError as exc:
        return _page(request, 422, fhir_error=gettext(N_("This file cannot be read: {reason}")).format(reason=exc.reason))
    found = [res.data for res in doc.resources
             if res.resource_type == "Observation" and meas.from_fhir(dict(res.data)) is not None]
    if not found:
        return _page(request, 422, fhir_error=gettext(N_("This file has no measurements Regie knows.")))
    measurements = [m for res in found if (m := meas.from_fhir(dict(res))) is not None]
    await run_in_threadpool(own_data(request, user).save_many, measurements)
    lang = language_of(request)
    return _page(request, 200, imported=len(measurements), failed=[], value_of=lambda m: shown_value(m, lang))

