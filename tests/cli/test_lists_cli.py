"""`regie lists refresh` / `regie lists status` against the in-process sandbox Stelselnode."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from regie.cli import lists as lists_cli
from regie.cli.main import app
from regie.medmij.lists import ListKind
from regie.medmij.lists_client import ListsClient
from tests.medmij.conftest import LISTS_URL, stelselnode  # noqa: F401 - fixture


@pytest.fixture
def env(tmp_path, database_url, stelselnode, monkeypatch):  # noqa: F811
    monkeypatch.setattr(
        lists_cli, "make_lists_client",
        lambda settings, database: ListsClient(settings, database, transport=stelselnode.transport),
    )
    return {
        "REGIE_HOME": str(tmp_path / "home"),
        "REGIE_DATABASE_URL": database_url,
        "REGIE_MEDMIJ_LISTS_URL": LISTS_URL,
        "REGIE_MEDMIJ_LISTS_KEY": str(stelselnode.publisher.trust_anchor_path),
    }


def run(env, *args):
    return CliRunner().invoke(app, list(args), env=env)


def test_refresh_and_status(env, stelselnode):  # noqa: F811
    assert run(env, "db", "upgrade").exit_code == 0
    result = run(env, "lists", "refresh")
    assert result.exit_code == 0, result.output
    assert "ZAL" in result.output and "installed" in result.output
    status = json.loads(run(env, "lists", "status", "--json").output)
    assert {s["kind"]: s["volgnummer"] for s in status}["ZAL"] == 1
    assert all(s["last_error"] is None for s in status)
    table = run(env, "lists", "status")
    assert table.exit_code == 0 and "WHITELIST" in table.output

    stelselnode.publisher.publish(ListKind.ZAL)
    stelselnode.publisher.faults.bad_signature.add(ListKind.ZAL)
    failed = run(env, "lists", "refresh", "--json")
    assert failed.exit_code == 1
    outcome = {o["kind"]: o for o in json.loads(failed.output)}["ZAL"]
    assert outcome["result"] == "failed" and outcome["volgnummer"] == 1


def test_unconfigured_lists_are_a_clear_error(tmp_path, database_url):
    env = {"REGIE_HOME": str(tmp_path / "home"), "REGIE_DATABASE_URL": database_url}
    assert run(env, "db", "upgrade").exit_code == 0
    result = run(env, "lists", "status")
    assert result.exit_code == 1 and "REGIE_MEDMIJ_LISTS_URL" in result.output
