"""Taking the record along: the export page and download, the portability report, and
importing an archive from another Regie (docs/portability.md)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from regie.portability.importer import ArchiveError, ImportReport
from regie.portability.pdf import DEFAULT_SECTIONS, SECTIONS as PDF_SECTIONS
from regie.portability.service import FORMATS, Portability
from regie.store.models import User
from regie.web.guards import page_owner, stepped_up
from regie.web.i18n import N_
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sessions import context_of
from regie.web.templating import language_of, render
from regie.web.uploads import refusal

router = APIRouter(include_in_schema=False)
# Why an archive was refused (ArchiveError.code), in words; the technical detail follows.
REFUSALS = {
    "not-zip": N_("This is not a zip file, or the file is damaged."),
    "unsafe": N_("The zip file holds a file in an unsafe place or a link. Regie does not open such files."),
    "too-large": N_("The zip file is too large or holds too many files."),
    "zip-bomb": N_("A file in the zip file unpacks to far more than its size. Regie does not open such files."),
    "not-regie": N_("This zip file was not made by Regie. Choose the file you downloaded under 'Take your data along'."),
    "newer-format": N_("This file was made by a newer version of Regie. Ask the administrator to update Regie."),
    "damaged": N_("The zip file is damaged or was changed after it was made. Download it again."),
    "invalid": N_("Something in the zip file cannot be read."),
}
# The owner of the record acted on (regie.access: export needs the export action; a delegate
# exporting is named in the owner's audit log by the record store).
CurrentUser = Annotated[User, Depends(page_owner)]
EXPORT_PATH = "/export"
IMPORT_PATH = "/export/import"


def _portability(request: Request) -> Portability:
    context = context_of(request)
    return Portability(context.settings, context.db, context.accounts.keyring)


def _export_page(request: Request, status: int = 200, problem: bool = False) -> Response:
    return render(request, "export.html", status, stepped_up=stepped_up(request), formats=FORMATS,
                  pdf_sections=PDF_SECTIONS, default_sections=DEFAULT_SECTIONS, problem=problem)


@router.get(EXPORT_PATH)
def export_page(request: Request, user: CurrentUser) -> Response:
    return _export_page(request)


@router.post(f"{EXPORT_PATH}/download")
async def download(request: Request, user: CurrentUser) -> Response:
    # Everything in one file is the most sensitive thing Regie hands out: only right after
    # the second factor was given again (as for API tokens).
    if not stepped_up(request):
        return see_other(f"/account/confirm?next={quote(EXPORT_PATH)}")
    form = await request.form()
    fmt = str(form.get("format") or "archive")
    sections = [s for s in form.getlist("section") if isinstance(s, str) and s in PDF_SECTIONS]
    if fmt not in FORMATS or (fmt == "pdf" and not sections):
        return _export_page(request, 422, problem=True)
    portability = _portability(request)
    made = await run_in_threadpool(portability.export, user, fmt, channel="web", sections=sections or None,
                                   language=language_of(request))
    headers = {
        "Content-Disposition": f'attachment; filename="{made.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    # A plain iterator: Starlette pulls each chunk in a worker thread, so a large record
    # streams out as it is read and compressed (never held whole in memory).
    return StreamingResponse(made.chunks, media_type=made.media_type, headers=headers)


@router.get(f"{EXPORT_PATH}/portability")
def portability_page(request: Request, user: CurrentUser) -> Response:
    providers = _portability(request).report(user)
    return render(request, "export_portability.html", providers=providers)


@router.get(IMPORT_PATH)
def import_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "export_import.html", report=None, error=None)


@router.post(IMPORT_PATH)
async def import_upload(request: Request, user: CurrentUser) -> Response:
    form = await request.form(max_files=1)
    if (refused := refusal(request, form)) is not None:  # count and size limits (regie.web.uploads)
        return refused
    upload = form.get("archive")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "export_import.html", 400, report=None, error="missing")
    portability = _portability(request)

    def work() -> ImportReport:
        # The upload is spooled to a temporary file by the form parser: read from there.
        return portability.import_archive(user, upload.file, channel="web")

    try:
        report = await run_in_threadpool(work)
    except ArchiveError as exc:
        reason = gettext_for(request)(REFUSALS.get(exc.code, REFUSALS["invalid"]))
        return render(request, "export_import.html", 422, report=None, error="refused", reason=reason,
                      detail=str(exc))
    return render(request, "export_import.html", report=report, error=None)
