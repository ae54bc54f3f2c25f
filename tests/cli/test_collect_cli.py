"""`regie collect` against the live sandbox: prints the URL, waits for the running
Regie's callback, shows progress and the receipt."""
from __future__ import annotations

import io
import re
import threading
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner

from regie.cli import collect as collect_cli
from regie.cli.main import app as cli
from tests.collect.conftest import network, regie  # noqa: F401  (fixtures)
from tests.collect.harness import GP, consent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_regie_collect_prints_url_waits_and_shows_the_receipt(regie, monkeypatch):  # noqa: F811
    settings = regie.app.state.context.settings
    for name in ("home", "database_url", "public_url", "medmij_lists_url", "medmij_lists_key"):
        monkeypatch.setenv(f"REGIE_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setenv("REGIE_ALLOW_INSECURE_LOOPBACK", "1")
    with regie.app.state.context.db.session() as session:
        from regie.store.models import User
        email = session.get(User, regie.user_id).email
    buffer = io.StringIO()
    monkeypatch.setattr(collect_cli, "out", Console(file=buffer, width=200))
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", CliRunner().invoke(
        cli, ["collect", "--user", email, "--provider", GP, "--service", "904", "--timeout", "30"])))
    thread.start()
    deadline = time.monotonic() + 20
    while not (match := re.search(r"(http://sandbox\.localhost\S+)", buffer.getvalue())):
        assert time.monotonic() < deadline, buffer.getvalue()
        time.sleep(0.05)
    assert regie.callback(consent(match.group(1))).status_code == 200
    thread.join(30)
    text = buffer.getvalue()
    assert result["r"].exit_code == 0, (text, result["r"].output)
    assert "Klaar" in text and "Zelfmetingen" in text and "RGE-" in text
