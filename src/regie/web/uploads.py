"""Limits on every page that takes files, in one table, and the Dutch-first pages that refuse.

Three layers, outermost first:
1. The request body (BodyLimitMiddleware, limits from :func:`body_limits`): a body over its path's
   limit is refused before the route runs; on a page the visitor gets :func:`too_large_page`
   (HTML in their language), on the API a problem document.
2. Count and size of the files in the form (:func:`refusal`, called by each upload route right after
   the form is read): too many files, or one file over its limit, and nothing is read or stored.
3. What is inside a file: the readers' own limits (FHIR reader, CSV reader, PDF check) and, for
   archives, the zip limits of regie.portability (members, unpacked size, compression ratio).
"""
from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from regie.fhir.reader import DEFAULT_MAX_BYTES as FHIR_MAX_BYTES
from regie.owndata.csv_import import MAX_BYTES as CSV_MAX_BYTES
from regie.share.documents import MAX_PDF_BYTES
from regie.web.i18n import LANGUAGE_COOKIE, N_, pick_language, translations

#: Room for the other form fields and the multipart framing around the files.
FORM_OVERHEAD = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimit:
    form: str  # the page with the form, where "go back" leads
    max_files: int
    max_file_bytes: int | None  # None: the body limit decides (the archive has limits of its own)
    # The largest plain form field: the CSV import sends the file back as base64 when it imports.
    max_field_bytes: int = 1024 * 1024


#: Every page route that takes files. tests/security/test_upload_limits.py checks each one, and
#: that no other route of the app reads an uploaded file.
LIMITS: dict[str, UploadLimit] = {
    "/record/upload": UploadLimit("/record/upload", 100, FHIR_MAX_BYTES),
    "/export/import": UploadLimit("/export/import", 1, None),
    "/measurements/import": UploadLimit("/measurements/import", 1, CSV_MAX_BYTES,
                                        max_field_bytes=(CSV_MAX_BYTES + 2) // 3 * 4),
    "/measurements/import/fhir": UploadLimit("/measurements/import", 1, CSV_MAX_BYTES * 4),
    "/send/document": UploadLimit("/send/document", 1, MAX_PDF_BYTES),
}


def body_limits(upload_max_bytes: int) -> dict[str, int]:
    """Request body limits of the paths that may send more than the default."""
    limits = {"/record/upload": upload_max_bytes, "/export/import": upload_max_bytes,
              # Sending a document: the PDF, base64 in the API's JSON.
              "/api/v1/sends": 16 * 1024 * 1024}
    for path, limit in LIMITS.items():
        if path not in limits and limit.max_file_bytes is not None:
            limits[path] = max(limit.max_files * limit.max_file_bytes, limit.max_field_bytes) + FORM_OVERHEAD
    return limits


def form_options(path: str) -> dict[str, int]:
    """Limits for the form parser (the CSRF guard reads the body first, and the form is read once).

    One file more than allowed, so the parser stops early yet :func:`refusal` still sees the excess
    and says so in the visitor's language; other paths keep the parser's defaults."""
    limit = LIMITS.get(path)
    if limit is None:
        return {}
    return {"max_files": limit.max_files + 1, "max_part_size": limit.max_field_bytes}


def _megabytes(size: int, language: str) -> str:
    """The limit in MB as the visitor writes numbers, rounded down to one decimal ("3,6")."""
    return format_decimal(int(size * 10 / (1024 * 1024)) / 10, locale=language)


def refusal(request: Request, form: FormData) -> Response | None:
    """A page refusing the upload when it breaks its path's limits, else None (go on)."""
    limit = LIMITS[request.url.path]
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    language = pick_language(request.cookies.get(LANGUAGE_COOKIE))
    gettext = translations(language).gettext
    if len(files) > limit.max_files:
        text = (gettext(N_("You can send at most {count} files at once. Nothing was stored.")).format(count=limit.max_files)
                if limit.max_files > 1 else gettext(N_("Send one file at a time. Nothing was stored.")))
        return _refused_page(request, 400, text, limit)
    for upload in files:
        if limit.max_file_bytes is not None and (upload.size or 0) > limit.max_file_bytes:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:100]
            text = gettext(N_("The file {name} is larger than {size} MB. Nothing was stored.")).format(
                name=name, size=_megabytes(limit.max_file_bytes, language))
            return _refused_page(request, 413, text, limit)
    return None


def _refused_page(request: Request, status: int, text: str, limit: UploadLimit) -> Response:
    from regie.web.templating import render  # templating imports the narrative filter; keep this lazy

    gettext = translations(pick_language(request.cookies.get(LANGUAGE_COOKIE))).gettext
    return render(request, "error.html", status, title=gettext(N_("The upload was refused")), text=text,
                  back=limit.form)


def too_large_page(scope: Scope, max_bytes: int) -> bytes:
    """A small page (no session, the middleware answers before it) saying the upload is too large."""
    from regie.web.templating import environment

    request = Request(scope)
    language = pick_language(request.cookies.get(LANGUAGE_COOKIE))
    gettext = translations(language).gettext
    path = scope.get("path", "/")
    back = LIMITS[path].form if path in LIMITS else "/"
    return environment.get_template("upload_too_large.html").render(
        lang=language, title=gettext(N_("The upload is too large")), back=back, back_text=gettext(N_("Go back")),
        text=gettext(N_("What you sent is larger than {size} MB. Choose a smaller file, or fewer files at once. "
                        "Nothing was stored.")).format(size=_megabytes(max_bytes, language)),
    ).encode()


async def send_too_large(scope: Scope, send: Send, max_bytes: int) -> None:
    """The 413 answer for a page (HTML); the middleware keeps its problem document for the API."""
    body = too_large_page(scope, max_bytes)
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
