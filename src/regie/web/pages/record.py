"""The upload page: add FHIR files (several at once) to your health record."""
from __future__ import annotations

import shutil
import tempfile
from itertools import chain
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from regie.fhir import FhirVersion
from regie.fhir.errors import FhirReadError
from regie.fhir.reader import read_bytes
from regie.fhir.stream import LARGE_FILE_BYTES, bundle_parts, is_large_bundle
from regie.store.ingest import FileOutcome, RecordService
from regie.store.models import User
from regie.web.guards import page_owner
from regie.web.sessions import context_of
from regie.web.templating import render
from regie.web.uploads import refusal

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
UPLOAD_PATH = "/record/upload"
MAX_FILES = 100


@router.get(UPLOAD_PATH)
def upload_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "record_upload.html", outcomes=None, too_many=False, max_files=MAX_FILES)


@router.post(UPLOAD_PATH)
async def upload(request: Request, user: CurrentUser) -> Response:
    form = await request.form(max_files=MAX_FILES)
    if (refused := refusal(request, form)) is not None:  # count and size limits (regie.web.uploads)
        return refused
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files or len(files) > MAX_FILES:
        return render(request, "record_upload.html", 400, outcomes=None, too_many=len(files) > MAX_FILES,
                      nothing=not files, max_files=MAX_FILES)
    with tempfile.TemporaryDirectory(prefix="regie-upload-") as folder:
        # Big searchset/collection Bundles are streamed in parts (regie.fhir.stream), as by
        # `regie import`: copied in chunks to a private file under their own name, never read whole.
        uploads: list[tuple[str, bytes]] = []
        large: list[Path] = []
        for f in files:
            name = _safe_name(f.filename or "file")
            if (f.size or 0) >= LARGE_FILE_BYTES and name.lower().endswith(".json") and name not in {p.name for p in large}:
                path = Path(folder) / name
                await run_in_threadpool(_copy, f, path)
                if is_large_bundle(path):
                    large.append(path)
                    continue
                path.unlink()
                await f.seek(0)
            uploads.append((name, await f.read()))
        context = context_of(request)
        service = RecordService(context.db, context.accounts.keyring)

        def work() -> list[FileOutcome]:
            keys = service.keys(user)
            outcomes = service.import_many(keys, uploads, channel="web")  # atomic per file
            for path in large:  # atomic per part; one source, the file's name
                parts = bundle_parts(path)
                first = next(parts, None)
                if first is None:
                    continue
                outcomes += service.import_many(keys, chain([first], parts), source=path.name, channel="web",
                                                fhir_version=_version_of(*first), batch_files=1)
            return outcomes

        outcomes = await run_in_threadpool(work)
    status = 200 if all(o.ok for o in outcomes) else 422
    return render(request, "record_upload.html", status, outcomes=outcomes, too_many=False, max_files=MAX_FILES)


def _version_of(name: str, data: bytes) -> FhirVersion | None:
    """The FHIR version of a streamed Bundle, from its first part: the page asks none, and a
    later part may hold no entry with a profile that tells (one Bundle, one version)."""
    try:
        return read_bytes(data, name=name).fhir_version
    except FhirReadError:
        return None  # the first part's import reports why


def _copy(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with path.open("xb") as out:  # inside a folder only this process can read (mode 0700)
        shutil.copyfileobj(upload.file, out, 1024 * 1024)


def _safe_name(name: str) -> str:
    """The base name only (browsers may send a path); control characters removed."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:200] or "file"
