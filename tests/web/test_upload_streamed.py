"""The upload page streams a big searchset/collection Bundle in parts (regie.fhir.stream), as
`regie import` does, instead of reading it whole (issue 9, benchmark 5: bench/bench_memory.py
measures the memory). Here the threshold is lowered so a small file counts as big."""
from __future__ import annotations

import re

import orjson
import pytest

from regie.fhir import stream
from regie.web.pages import record as record_pages
from tests.reliability.crashes import make_files
from tests.web.helpers import Browser

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_big_bundle_is_imported_in_parts_under_its_own_name(browser: Browser, tmp_path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "LARGE_FILE_BYTES", 10_000)
    monkeypatch.setattr(record_pages, "LARGE_FILE_BYTES", 10_000)
    monkeypatch.setattr(stream, "PART_ENTRIES", 50)
    big = orjson.loads((make_files(tmp_path, 1, 120) and tmp_path / "file-0000.json").read_bytes())
    small = orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": big["entry"][:3]})
    browser.register()
    token = CSRF.search(browser.client.get("/record/upload").text).group(1)
    calls: list[str] = []
    real_parts = stream.bundle_parts
    monkeypatch.setattr(record_pages, "bundle_parts",
                        lambda path, entries=50: (calls.append(path.name), real_parts(path, entries))[1])
    answer = browser.client.post("/record/upload", data={"csrf_token": token}, files=[
        ("files", ("groot.json", orjson.dumps(big), "application/fhir+json")),
        ("files", ("klein.json", small, "application/fhir+json"))])
    assert answer.status_code == 200, answer.text[-2000:]
    assert calls == ["groot.json"]  # only the big file went through the streaming reader
    assert "groot.json (part 1)" in answer.text and "groot.json (part 3)" in answer.text
    summary = browser.client.get("/api/v1/record/summary").json()
    # One source per file, whole: 121 resources of the big file (the Patient once), 3 of the small.
    assert summary["sources"] == {"groot.json": 121, "klein.json": 3}
