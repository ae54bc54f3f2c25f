"""`regie backup` / `regie restore`: a backup restored into a fresh REGIE_HOME that holds
the same key file gives the same record summary; the master key is never in the backup;
a restore refuses a database that is not empty and a key that does not open the data."""
from __future__ import annotations

import base64
import json
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from regie.cli.main import app
from tests.conftest import POSTGRES_URL
from tests.web.test_logs import _record

EMAIL = "patient@voorbeeld.nl"
FAST = {"REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1"}


def run(env: dict[str, str], *args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def _summary(env: dict[str, str]) -> dict:
    result = run(env, "record", "--user", EMAIL, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def fresh_postgres():
    """A second, empty PostgreSQL database (a restore target); dropped afterwards."""
    name = f"regie_restore_{secrets.token_hex(5)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _target_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | None:
    if database_url.startswith("sqlite"):
        return None  # the default: regie.sqlite3 in the new REGIE_HOME
    # The same schema (search_path option) in another, empty database.
    return make_url(database_url).set(database=request.getfixturevalue("fresh_postgres")).render_as_string(
        hide_password=False)


def test_backup_and_restore_into_a_fresh_home(tmp_path: Path, database_url: str, request) -> None:
    home = tmp_path / "home"
    env = {**FAST, "REGIE_HOME": str(home), "REGIE_DATABASE_URL": database_url}
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "user", "create", EMAIL, "--password-stdin", stdin="paars-fietsje-wandelt-42\n").exit_code == 0
    upload = tmp_path / "huisarts.json"
    upload.write_bytes(_record())
    imported = run(env, "import", "--user", EMAIL, str(upload))
    assert imported.exit_code == 0, imported.output
    before = _summary(env)
    assert before["resources"] >= 3

    target = tmp_path / "backups" / "regie.backup"
    done = run(env, "backup", str(target))
    assert done.exit_code == 0, done.output
    assert "does not contain the master key" in done.output
    data = target.read_bytes()
    key_text = (home / "master.key").read_text().strip()
    for secret in (key_text.encode(), base64.b64decode(key_text)):
        assert secret not in data
    assert target.stat().st_mode & 0o077 == 0
    assert run(env, "backup", str(target)).exit_code == 1  # never overwrites

    # A fresh home with only the key file.
    new_home = tmp_path / "restored"
    new_home.mkdir(mode=0o700)
    shutil.copy2(home / "master.key", new_home / "master.key")
    new_env = {**FAST, "REGIE_HOME": str(new_home)}
    url = _target_url(database_url, tmp_path, request)
    if url is not None:
        new_env["REGIE_DATABASE_URL"] = url
    restored = run(new_env, "restore", str(target))
    assert restored.exit_code == 0, restored.output
    assert _summary(new_env) == before
    if url is not None:  # the planner has statistics at once (a dump holds none)
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as connection:
            analyzed = connection.execute(text(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'record_resources'"
                " AND schemaname = current_schema()")).scalar()
            head_statistics = connection.execute(text(
                "SELECT count(*) FROM pg_statistic_ext_data d JOIN pg_statistic_ext s ON s.oid = d.stxoid"
                " WHERE s.stxname = 'st_record_resources_group_heads' AND d.stxdexpr IS NOT NULL")).scalar()
        engine.dispose()
        assert analyzed and head_statistics == 1
    # Not into a database that holds data.
    again = run(new_env, "restore", str(target))
    assert again.exit_code == 1 and "empty" in again.output


def test_restore_with_another_key_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**FAST, "REGIE_HOME": str(home)}
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "user", "create", EMAIL, "--password-stdin", stdin="paars-fietsje-wandelt-42\n").exit_code == 0
    target = tmp_path / "regie.backup"
    assert run(env, "backup", str(target)).exit_code == 0
    other = tmp_path / "other"
    no_key = run({**FAST, "REGIE_HOME": str(other)}, "restore", str(target))
    assert no_key.exit_code == 1 and "master key" in no_key.output
    assert not (other / "master.key").exists()  # restore never invents a key
    wrong = {**FAST, "REGIE_HOME": str(other), "REGIE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode()}
    refused = run(wrong, "restore", str(target))
    assert refused.exit_code == 1 and "does not open this backup" in refused.output
    assert not (other / "regie.sqlite3").exists()  # nothing half-restored left behind
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup at all")
    assert "not a Regie backup" in run(wrong, "restore", str(junk)).output
