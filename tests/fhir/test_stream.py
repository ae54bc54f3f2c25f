"""Large JSON Bundles are read entry by entry (regie.fhir.stream) and `regie import`
stores them in parts under one source, with the same result as a small file."""
from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from regie.cli.main import app
from regie.fhir import stream


def _bundle(count: int, kind: str = "searchset", **extra) -> dict:
    return {"resourceType": "Bundle", "type": kind, **extra, "entry": [
        {"fullUrl": f"urn:uuid:00000000-0000-0000-0000-{n:012d}", "resource": {
            "resourceType": "Observation", "id": f"w{n}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Gewicht"}]},
            "effectiveDateTime": f"2024-03-{1 + n % 28:02d}T09:00:00+01:00",
            "valueQuantity": {"value": 80.10, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}}
        for n in range(count)]}


def test_parts_keep_entries_order_and_exact_numbers(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_bundle(5)).replace("80.1", "80.10"))
    assert stream.bundle_type(path) == "searchset"
    parts = list(stream.bundle_parts(path, entries=2))
    assert [name for name, _ in parts] == ["big.json (part 1)", "big.json (part 2)", "big.json (part 3)"]
    bundles = [orjson.loads(data) for _, data in parts]
    assert [len(b["entry"]) for b in bundles] == [2, 2, 1]
    assert all(b["type"] == "searchset" and b["resourceType"] == "Bundle" for b in bundles)
    assert [e["resource"]["id"] for b in bundles for e in b["entry"]] == [f"w{n}" for n in range(5)]
    assert b'"value":80.10' in parts[0][1]  # the decimal's precision is kept


def test_only_big_searchsets_and_collections_are_streamed(tmp_path: Path) -> None:
    document = tmp_path / "doc.json"
    document.write_bytes(orjson.dumps(_bundle(3, "document")))
    small = tmp_path / "small.json"
    small.write_bytes(orjson.dumps(_bundle(3)))
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ')
    assert not stream.is_large_bundle(document, threshold=10)
    assert not stream.is_large_bundle(small)  # below 32 MiB
    assert stream.is_large_bundle(small, threshold=10)
    with pytest.raises(ValueError):
        list(stream.bundle_parts(document))
    assert stream.bundle_type(tmp_path / "missing.json") is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_regie_import_streams_a_big_bundle(tmp_path: Path, database_url: str, monkeypatch) -> None:
    monkeypatch.setattr(stream, "LARGE_FILE_BYTES", 1024)
    monkeypatch.setattr(stream, "PART_ENTRIES", 7)
    calls = []
    original = stream.bundle_parts

    def counting(path, entries=None):
        for part in original(path, entries or stream.PART_ENTRIES):
            calls.append(part[0])
            yield part

    monkeypatch.setattr("regie.cli.record.bundle_parts", counting)
    env = {"REGIE_HOME": str(tmp_path / "home"), "REGIE_DATABASE_URL": database_url, "REGIE_ARGON2_TIME_COST": "1",
           "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(app, ["user", "create", "p@voorbeeld.nl", "--password-stdin"], env=env,
                         input="paars-fietsje-wandelt-42\n").exit_code == 0
    path = tmp_path / "export.json"
    path.write_bytes(orjson.dumps(_bundle(30)))
    for _ in range(2):  # idempotent: the second run changes nothing
        done = runner.invoke(app, ["import", "--user", "p@voorbeeld.nl", "--fhir-version", "r4", str(path)], env=env)
        assert done.exit_code == 0, done.output
    assert len(calls) == 2 * 5  # 30 entries in parts of 7
    summary = json.loads(runner.invoke(app, ["record", "--user", "p@voorbeeld.nl", "--json"], env=env).output)
    assert summary["resources"] == 30 and summary["sources"] == {"export.json": 30}
