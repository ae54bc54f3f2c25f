"""The `regie` command: version, database, users, tokens, and refusing bad set-ups."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from regie.cli.main import app
from regie.web.app import create_app
from tests.conftest import fast_settings


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    home = tmp_path / "home"
    return {
        "REGIE_HOME": str(home),
        "REGIE_DATABASE_URL": database_url,
        "REGIE_ARGON2_TIME_COST": "1",
        "REGIE_ARGON2_MEMORY_COST_KIB": "8",
        "REGIE_ARGON2_PARALLELISM": "1",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("regie ")


def test_user_and_token_creation_end_to_end(env: dict[str, str], database_url: str) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    created = run(env, "user", "create", "patient@voorbeeld.nl", "--password-stdin", "--json", stdin="paars-fietsje-wandelt-42\n")
    assert created.exit_code == 0, created.output
    user = json.loads(created.output)
    assert user["email"] == "patient@voorbeeld.nl" and len(user["totp_secret"]) == 32
    assert len(user["recovery_codes"]) == 10
    issued = run(env, "token", "create", "--user", "patient@voorbeeld.nl", "--name", "script", "--json")
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.output)["token"]

    settings = fast_settings(Path(env["REGIE_HOME"]), database_url)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["email"] == user["email"]
        # The printed TOTP secret works for a real login, with the code an app shows right now.

        login = client.post(
            "/api/v1/auth/login",
            json={"email": user["email"], "password": "paars-fietsje-wandelt-42", "otp": pyotp.TOTP(user["totp_secret"]).now()},
        )
        assert login.status_code == 200, login.text


def test_bad_input_is_explained(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    weak = run(env, "user", "create", "a@voorbeeld.nl", "--password-stdin", stdin="1qaz2wsx3edc\n")
    assert weak.exit_code != 0 and "Many people use this password" in weak.output
    bad_email = run(env, "user", "create", "geen-adres", "--password-stdin", stdin="paars-fietsje-wandelt-42\n")
    assert bad_email.exit_code != 0 and "not a valid e-mail address" in bad_email.output
    unknown = run(env, "token", "create", "--user", "niemand@voorbeeld.nl", "--name", "x")
    assert unknown.exit_code != 0 and "no account" in unknown.output


def test_commands_refuse_an_old_database_and_a_loose_key(env: dict[str, str]) -> None:
    stale = run(env, "serve", "--port", "1")
    assert stale.exit_code == 1 and "regie db upgrade" in stale.output
    assert run(env, "db", "upgrade").exit_code == 0
    os.chmod(Path(env["REGIE_HOME"]) / "master.key", 0o644)
    loose = run(env, "serve", "--port", "1")
    assert loose.exit_code == 1 and "chmod 600" in loose.output
