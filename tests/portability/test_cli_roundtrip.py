"""`regie export` → `regie import` into a fresh instance (another REGIE_HOME and database):
the same record summary, own data, notes and history; importing twice adds nothing."""
from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regie.cli.main import app
from regie.config import Settings
from regie.cli._common import open_accounts
from regie.owndata import notes as notes_mod
from regie.owndata.measurements import Measurement
from regie.owndata.service import OwnData
from regie.portability.rows import PortableRecord
from regie.store.ingest import RecordService
from tests.fhir.fixtures import SKIP_REASON, available
from tests.store.record_helpers import resolve_into

EMAIL = "patient@voorbeeld.nl"
pytestmark = pytest.mark.skipif(not available(), reason=SKIP_REASON)


def _env(home: Path, database_url: str) -> dict[str, str]:
    env = {"REGIE_HOME": str(home), "REGIE_DATABASE_URL": database_url, "REGIE_ARGON2_TIME_COST": "1",
           "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1"}
    assert run(env, "db", "upgrade").exit_code == 0
    created = run(env, "user", "create", EMAIL, "--password-stdin", stdin="paars-fietsje-wandelt-42\n")
    assert created.exit_code == 0, created.output
    return env


def run(env: dict[str, str], *args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def _record(env) -> dict:
    result = run(env, "record", "--user", EMAIL, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _accounts(env):
    return open_accounts(Settings(home=Path(env["REGIE_HOME"]), database_url=env["REGIE_DATABASE_URL"]))


def _own_data_and_note(env) -> None:
    """A weight entered and then corrected (two versions), a diary-free own record, and a note."""
    accounts = _accounts(env)
    with accounts.db.session() as session:
        user = accounts.by_email(session, EMAIL)
    own = OwnData(accounts.db, accounts.keyring, user, "cli")
    when = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    row_id = own.save_measurement(Measurement("body_weight", {"value": Decimal("80.0")}, when, "kg"))
    own.update_measurement(row_id, Measurement("body_weight", {"value": Decimal("79.5")}, when, "kg"))
    service = RecordService(accounts.db, accounts.keyring)
    with service.open(service.keys(user)) as repo:
        items, _ = repo.page(category="allergies")
        assert notes_mod.add_note(repo, items[0]["id"], "Bij de tandarts melden") is not None
    accounts.db.dispose()


def _state(env) -> dict:
    """What the patient sees beyond counts: own data with history, notes with their item."""
    accounts = _accounts(env)
    with accounts.db.session() as session:
        user = accounts.by_email(session, EMAIL)
    own = OwnData(accounts.db, accounts.keyring, user, "cli")
    weights = own.measurements("body_weight")
    assert len(weights) == 1
    stored, history = own.measurement_history(weights[0].row_id)
    service = RecordService(accounts.db, accounts.keyring)
    with service.db.session() as session:
        repo = PortableRecord(session, service.keys(user))
        notes = [(note.text, target.resource_type, target.source) for note, target in repo.notes()]
        arrivals = sorted((s.name, s.resources) for s in repo.sources())
    accounts.db.dispose()
    return {"weight": str(stored.measurement.values["value"]), "version": stored.version,
            "history": [str(m.values["value"]) for _, m in history], "notes": notes, "sources": arrivals,
            "arrived": stored.arrived_at}


def test_export_then_import_into_a_fresh_instance(tmp_path: Path, database_url: str,
                                                 second_database_url: str) -> None:
    old = _env(tmp_path / "old", database_url)
    folder = tmp_path / "in"
    resolve_into(folder, {"BgZ-3-0"})
    assert run(old, "import", "--user", EMAIL, "--fhir-version", "stu3", str(folder)).exit_code == 0
    _own_data_and_note(old)
    archive = tmp_path / "export.zip"
    exported = run(old, "export", "--user", EMAIL, "--format", "archive", "-o", str(archive))
    assert exported.exit_code == 0, exported.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        assert {"manifest.json", "index.html", "portability.json", "records/resources.ndjson",
                "records/provenance.ndjson", "own-data/resources.ndjson", "own-data/notes.ndjson"} <= names
        first = json.loads(zipped.read("records/provenance.ndjson").splitlines()[0])
        assert first["fhir_version"] == "STU3" and first["file"].endswith(".xml") and first["arrived_at"]
        index = zipped.read("index.html").decode()
        assert "Waar de gegevens vandaan komen" in index and "Where the data came from" in index
    before, state = _record(old), _state(old)

    new = _env(tmp_path / "new", second_database_url)  # another REGIE_HOME: another master key
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zipped:
        zipped.writestr("../../etc/passwd", "x")
    refused = run(new, "import", "--user", EMAIL, str(broken))
    assert refused.exit_code == 1
    assert "outside the archive" in refused.output and "Nothing was imported" in refused.output
    assert _record(new)["resources"] == 0

    imported = run(new, "import", "--user", EMAIL, str(archive))
    assert imported.exit_code == 0, imported.output
    assert "Archive import" in imported.output and "Notes: 1 added" in imported.output
    assert _record(new) == before and before["resources"] > 50
    assert _state(new) == state
    assert float(state["weight"]) == 79.5 and state["version"] == 2
    assert [float(v) for v in state["history"]] == [80.0]
    assert state["notes"] == [("Bij de tandarts melden", "AllergyIntolerance", state["notes"][0][2])]

    again = run(new, "import", "--user", EMAIL, str(archive))
    assert again.exit_code == 0, again.output
    assert "Notes: 0 added, 1 already there" in again.output
    assert _record(new) == before

    # The other formats, from the same record.
    for fmt, start in (("fhir", b'{"resourceType"'), ("ips", b"{"), ("pdf", b"%PDF")):
        out = tmp_path / f"out.{fmt}"
        result = run(old, "export", "--user", EMAIL, "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(start)
    assert len((tmp_path / "out.fhir").read_bytes().splitlines()) == before["resources"]
    assert json.loads((tmp_path / "out.ips").read_bytes())["type"] == "document"
