"""Upload limits on every page that takes files (regie.web.uploads), each refused in Dutch with
nothing stored: too many files, one file too large, a body over the path's limit (declared or
streamed), and zip bombs in the archive import (compression ratio, unpacked size, entry count).
"""
from __future__ import annotations

import inspect
import io
import struct
import zipfile
from collections.abc import Iterator

import pytest
from babel.numbers import format_decimal
from fastapi.routing import APIRoute

from regie.portability.layout import MAX_MEMBERS
from regie.web.i18n import translations
from regie.web.pages.portability import REFUSALS
from regie.web.uploads import FORM_OVERHEAD, LIMITS, body_limits
from tests.security.conftest import Owner

NOTHING_STORED = "Er is niets bewaard."
FIELD = {"/record/upload": "files", "/export/import": "archive", "/measurements/import": "file",
         "/measurements/import/fhir": "fhir_file", "/send/document": "file"}
PDF = b"%PDF-1.4\n%%EOF\n"


def _snapshot(owner: Owner) -> tuple:
    client = owner.person.client
    return (client.get("/api/v1/record/summary").json(), client.get("/api/v1/measurements").json()["items"],
            client.get("/api/v1/sends").json()["sends"])


def _post(owner: Owner, path: str, files: list[tuple[str, tuple[str, bytes, str]]], **kwargs):
    data = {"csrf_token": owner.person.csrf, "provider": "x", "title": "t", "name": "n", "type": "body_weight"}
    return owner.person.client.post(path, data=data, files=files, follow_redirects=False, **kwargs)


def _endpoints(routes) -> Iterator[APIRoute]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _endpoints(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_route_that_reads_a_file_has_limits(owner: Owner) -> None:
    routes = list(_endpoints(owner.app.routes))
    assert len(routes) > 100
    readers = {route.path for route in routes if "UploadFile" in inspect.getsource(route.endpoint)}
    assert readers == set(LIMITS) == set(FIELD), readers ^ set(LIMITS)
    for route in routes:
        if route.path in LIMITS and "POST" in route.methods:
            assert "refusal(request, form)" in inspect.getsource(route.endpoint), route.path


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_too_many_files_are_refused(owner: Owner, path: str) -> None:
    before = _snapshot(owner)
    count = LIMITS[path].max_files + 1
    files = [(FIELD[path], (f"bestand-{n}.csv", b"datum,gewicht\n", "text/csv")) for n in range(count)]
    response = _post(owner, path, files)
    assert response.status_code == 400, (path, response.status_code)
    assert NOTHING_STORED in response.text and "tegelijk" in response.text
    assert f'href="{LIMITS[path].form}"' in response.text
    assert _snapshot(owner) == before


@pytest.mark.parametrize("path", sorted(p for p, limit in LIMITS.items() if limit.max_file_bytes is not None
                                        and limit.max_file_bytes + FORM_OVERHEAD <= body_limits(50 << 20)[p]))
def test_one_file_over_its_limit_is_refused(owner: Owner, path: str) -> None:
    before = _snapshot(owner)
    size = LIMITS[path].max_file_bytes
    body = PDF[:-6] + b" " * (size + 1 - len(PDF)) + PDF[-6:]
    response = _post(owner, path, [(FIELD[path], ("groot.pdf", body, "application/pdf"))])
    assert response.status_code == 413, (path, response.status_code)
    assert f"Het bestand groot.pdf is groter dan {size // (1 << 20)} MB. {NOTHING_STORED}" in response.text
    assert _snapshot(owner) == before


@pytest.mark.parametrize("path", sorted(LIMITS))
def test_a_body_over_the_path_limit_gets_a_page_in_the_visitors_language(owner: Owner, path: str) -> None:
    limit = body_limits(owner.app.state.context.settings.upload_max_bytes)[path]
    before = _snapshot(owner)
    # Declared too large: refused before a byte is read.
    response = owner.person.client.post(path, content=b"x", headers={
        "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(limit + 1)})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "De upload is te groot" in response.text and NOTHING_STORED in response.text
    megabytes = format_decimal(int(limit * 10 / (1 << 20)) / 10, locale="nl")
    assert f"groter dan {megabytes} MB" in response.text and '<html lang="nl">' in response.text
    owner.person.client.cookies.set("regie_lang", "en")
    try:
        english = owner.person.client.post(path, content=b"x", headers={
            "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(limit + 1)})
    finally:
        owner.person.client.cookies.delete("regie_lang")
    assert "The upload is too large" in english.text and "Nothing was stored." in english.text
    assert _snapshot(owner) == before


def test_a_streamed_body_over_the_limit_is_cut_off(owner: Owner) -> None:
    path = "/measurements/import"
    limit = body_limits(owner.app.state.context.settings.upload_max_bytes)[path]
    before = _snapshot(owner)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        yield (f"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{owner.person.csrf}\r\n"
               "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n").encode()
        for _ in range(limit // (256 * 1024) + 2):
            yield b"2024-01-01,70\n" * (256 * 1024 // 14)

    response = owner.person.client.post(path, content=chunks(),
                                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and "De upload is te groot" in response.text
    assert _snapshot(owner) == before


def test_the_api_keeps_its_problem_document(owner: Owner) -> None:
    response = owner.person.client.post("/api/v1/diary", content=b"x", headers={
        "X-CSRF-Token": owner.person.csrf, "Content-Type": "application/json", "Content-Length": str(50 << 20)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


# -- zip bombs through the archive import --------------------------------------------------------

def _zip(members: dict[str, bytes], level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _forge_sizes(data: bytes, compressed: int, unpacked: int) -> bytes:
    """Every central directory entry claims these sizes (what a crafted archive can say)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<II", out, at + 20, compressed, unpacked)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _ratio_bomb() -> bytes:
    # 64 MiB of newlines packs to about 64 KiB: a ratio near 1000, far over the limit of 200.
    return _zip({"manifest.json": b"{}", "records/resources.ndjson": b"\n" * (64 << 20)})


def _size_bomb() -> bytes:
    # Three members each saying 1.5 GiB unpacked from 10 MiB (ratio 150, under the ratio limit):
    # 4.5 GiB together, over the total limit.
    members = {"manifest.json": b"{}", "records/resources.ndjson": b"{}\n", "own-data/resources.ndjson": b"{}\n"}
    return _forge_sizes(_zip(members), 10 << 20, 1536 << 20)


def _count_bomb() -> bytes:
    return _zip({f"account/x{n}.json": b"{}" for n in range(MAX_MEMBERS + 1)} | {"manifest.json": b"{}"})


@pytest.mark.parametrize(("make", "code"), [(_ratio_bomb, "zip-bomb"), (_size_bomb, "too-large"),
                                            (_count_bomb, "too-large")])
def test_zip_bombs_are_refused_before_anything_is_stored(owner: Owner, make, code: str) -> None:
    before = _snapshot(owner)
    archive = make()
    response = _post(owner, "/export/import", [("archive", ("export.zip", archive, "application/zip"))])
    assert response.status_code == 422, response.status_code
    assert translations("nl").gettext(REFUSALS[code]) in response.text.replace("&#39;", "'")
    assert _snapshot(owner) == before


def test_a_csv_within_its_limit_is_imported_from_the_preview(owner: Owner) -> None:
    """The preview sends the file back as base64 in a form field: past the parser's default of
    1 MB per field that was refused with a general error (regie.web.uploads.form_options)."""
    import base64

    rows = "".join(f"2023-{1 + n % 12:02d}-{1 + n % 28:02d} 0{n % 10}:{n % 60:02d},{60 + n % 30},"
                   f"{'x' * 280}\n" for n in range(4000))
    data = ("datum,gewicht,notitie\n" + rows).encode()
    assert 1 << 20 < len(base64.b64encode(data)) and len(data) < LIMITS["/measurements/import"].max_file_bytes
    client = owner.person.client
    before = len(client.get("/api/v1/measurements").json()["items"])
    response = client.post("/measurements/import", data={
        "csrf_token": owner.person.csrf, "type": "body_weight", "content": base64.b64encode(data).decode(),
        "step": "preview", "do": "import", "column-0": "time", "column-1": "value", "column-2": "ignore"})
    assert response.status_code == 200, response.status_code
    assert len(client.get("/api/v1/measurements").json()["items"]) > before
