"""`regie import` and `regie record`: exit codes, summary, counts as JSON."""
from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from regie.cli.main import app
from tests.fhir.fixtures import SKIP_REASON, available
from tests.store.record_helpers import expected_counts, resolve_into

STANDARD = "SelfMeasurements-2-0"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {
        "REGIE_HOME": str(tmp_path / "home"),
        "REGIE_DATABASE_URL": database_url,
        "REGIE_ARGON2_TIME_COST": "1",
        "REGIE_ARGON2_MEMORY_COST_KIB": "8",
        "REGIE_ARGON2_PARALLELISM": "1",
    }
    assert run(env, "db", "upgrade").exit_code == 0
    created = run(env, "user", "create", "patient@voorbeeld.nl", "--password-stdin", stdin="paars-fietsje-wandelt-42\n")
    assert created.exit_code == 0, created.output
    return env


def run(env: dict[str, str], *args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def _record(env) -> dict:
    result = run(env, "record", "--user", "patient@voorbeeld.nl", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.skipif(not available(), reason=SKIP_REASON)
def test_import_folder_then_record_json(env, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    files = resolve_into(folder, {STANDARD})[STANDARD]
    result = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "stu3", str(folder))
    assert result.exit_code == 0, result.output
    assert "Import summary" in result.output and "Files imported" in result.output
    assert f"{len(files)}" in result.output and "vital_signs" in result.output
    summary = _record(env)
    expected = expected_counts(STANDARD)
    assert summary["by_type"] == dict(sorted(expected.items()))
    assert summary["resources"] == sum(expected.values())
    assert sum(summary["sources"].values()) == summary["resources"]
    assert set(summary) == {"resources", "by_type", "categories", "sources"}
    again = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "stu3", "--source", "x", str(files[0]))
    assert again.exit_code == 0
    assert _record(env)["sources"]["x"] >= 1


def test_import_exit_status_and_errors(env, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "male"}))
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps({"resourceType": "Patient", "id": "p2", "gender": "onbekend"}))
    mixed = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "stu3", str(good), str(bad))
    assert mixed.exit_code == 1
    assert "Files with errors" in mixed.output and "bad.json" in mixed.output and "Patient/p2" in mixed.output
    assert _record(env)["resources"] == 1
    repeated = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "stu3", str(good))
    assert repeated.exit_code == 0 and _record(env)["resources"] == 1
    unknown = run(env, "import", "--user", "niemand@voorbeeld.nl", str(good))
    assert unknown.exit_code != 0 and "no account" in unknown.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(env, "import", "--user", "patient@voorbeeld.nl", str(empty)).exit_code == 1


def test_fhir_version_option_takes_names_and_numbers_and_refuses_others(env, tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"  # valid in STU3 and R4 alike: only the option decides
    patient.write_bytes(orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "female"}))
    wrong = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "R5", str(patient))
    assert wrong.exit_code == 2
    assert "unknown FHIR version 'R5'" in wrong.output and "Traceback" not in wrong.output
    assert _record(env)["resources"] == 0
    undetectable = run(env, "import", "--user", "patient@voorbeeld.nl", str(patient))
    assert undetectable.exit_code == 1 and "cannot tell whether this is FHIR STU3 or R4" in undetectable.output
    for given in ("4.0.1", "r4"):
        result = run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", given, str(patient))
        assert result.exit_code == 0, result.output
    assert _record(env)["by_type"] == {"Patient": 1}


def test_db_upgrade_leaves_the_rebuild_to_the_worker_or_does_it_when_asked(env, tmp_path: Path) -> None:
    from sqlalchemy import delete, func, select

    from regie.store.db import Database
    from regie.store.record_models import RecordLink, RecordReindexPending

    bundle = tmp_path / "bundle.json"  # an encounter and a journal line that points at it
    bundle.write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                      "class": {"code": "AMB"}, "subject": {"reference": "Patient/p1"}}},
        {"resource": {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "S-regel"},
                      "context": {"reference": "Encounter/e1"}, "valueString": "hoofdpijn"}}]}))
    assert run(env, "import", "--user", "patient@voorbeeld.nl", "--fhir-version", "STU3", str(bundle)).exit_code == 0
    db = Database(env["REGIE_DATABASE_URL"])
    try:
        with db.session() as session:  # as stored by a Regie before migration 0017
            user_id = session.scalar(select(RecordLink.user_id))
            session.execute(delete(RecordLink))
            session.add(RecordReindexPending(user_id=user_id))
        upgraded = run(env, "db", "upgrade")  # migrates only: the worker rebuilds (docs/decisions/0010)
        assert upgraded.exit_code == 0, upgraded.output
        assert "1 account(s) wait for a rebuild" in upgraded.output and "Record indexes built" not in upgraded.output
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(RecordReindexPending)) == 1
        upgraded = run(env, "db", "upgrade", "--reindex-now")
        assert upgraded.exit_code == 0, upgraded.output
        assert "Record indexes built for 1 account(s)" in upgraded.output and "1 links" in upgraded.output
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(RecordLink)) == 1
            assert session.scalar(select(func.count()).select_from(RecordReindexPending)) == 0
        again = run(env, "db", "upgrade").output
        assert "Record indexes built" not in again and "wait for a rebuild" not in again  # nothing waits
        one = run(env, "db", "reindex", "--user", "patient@voorbeeld.nl")
        assert one.exit_code == 0 and "for 1 account(s)" in one.output and "0 links" in one.output
        unknown = run(env, "db", "reindex", "--user", "niemand@voorbeeld.nl")
        assert unknown.exit_code == 2 and "no account with e-mail address" in unknown.output
    finally:
        db.dispose()


def test_a_terminal_gets_a_progress_bar_and_a_pipe_does_not(env, tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"
    patient.write_bytes(orjson.dumps({"resourceType": "Patient", "id": "p1", "gender": "female"}))
    args = ("import", "--user", "patient@voorbeeld.nl", "--fhir-version", "R4", str(patient))
    piped = run(env, *args)
    assert piped.exit_code == 0 and "Importing" not in piped.output and "Import summary" in piped.output
    terminal = run({**env, "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}, *args)  # Rich: behave as a terminal
    assert terminal.exit_code == 0, terminal.output
    assert "Importing" in terminal.output and "1/1" in terminal.output
