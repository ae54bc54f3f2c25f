"""Collections whose process stopped are reported interrupted while the server runs.

A process that crashes and is restarted within ``collect_stale_after_seconds`` (systemd
does so in about a second), or is not restarted at all while others run, used to leave
its collections queued or running until some web process started again. Every web
process now sweeps every ``collect_sweep_seconds``, leaving out what it runs itself; a
late finish or heartbeat of a swept collection never writes a second outcome.
"""
from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from regie.store.collect_models import Collection
from regie.store.types import utcnow
from regie.web.app import create_app
from tests.collect.conftest import Regie
from tests.collect.harness import GP, Network, api_token, regie_settings


@pytest.fixture
def sweeping(tmp_path: Path, database_url: str, network: Network):
    home = tmp_path / "home"
    home.mkdir()
    settings = regie_settings(home, database_url, network, "http://localhost:8000",
                              collect_sweep_seconds=0.1, collect_stale_after_seconds=1.0)
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as client:
        user_id, token = api_token(app.state.context)
        yield Regie(app, client, token, user_id, network)
    app.state.context.db.dispose()


def _left_by_a_stopped_process(regie: Regie, state: str = "running") -> str:
    """A collection as a killed process leaves it: running (or queued), heartbeat long ago."""
    started = regie.start(GP, ["49"])
    with regie.app.state.context.db.session() as session:
        row = session.get(Collection, (regie.user_id, started["id"]))
        row.state = state
        row.state_hash = None
        row.heartbeat_at = utcnow() - timedelta(minutes=10)
        row.progress = json.dumps({"services": {"49": {"done": 2, "total": 7, "resources": 5}}, "resources": 5})
    return started["id"]


def _collect_audit(regie: Regie, cid: str) -> list[dict]:
    entries = regie.get("/api/v1/audit", params={"limit": 200}).json()["entries"]
    return [e for e in entries if e["action"].startswith("collect-") and e["target"] == cid]


def _receipt(outcome: str = "complete") -> dict:
    return {"version": 1, "outcome": outcome, "services": [],
            "totals": {"resources": 0, "new": 0, "updated": 0, "unchanged": 0, "counts": {}}}


@pytest.mark.parametrize("state", ["running", "queued"])
def test_a_stopped_process_s_collection_is_reported_while_the_server_runs(sweeping: Regie, state: str) -> None:
    cid = _left_by_a_stopped_process(sweeping, state)  # after start-up: only the periodic sweep finds it
    deadline = time.monotonic() + 10
    while (view := sweeping.get(f"/api/v1/collections/{cid}").json())["state"] == state:
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    assert view["state"] == "interrupted" and view["error"]["code"] == "interrupted", view
    assert "opnieuw" in view["error"]["message"]
    assert view["receipt"]["outcome"] == "interrupted"
    assert len(_collect_audit(sweeping, cid)) == 1


def test_the_sweep_leaves_what_this_process_runs(regie: Regie) -> None:
    cid = _left_by_a_stopped_process(regie)
    collections = regie.app.state.collections
    assert collections.sweep_interrupted(keep=frozenset({cid})) == 0
    assert collections.get(regie.user_id, cid)["state"] == "running"
    assert collections.sweep_interrupted() == 1
    assert collections.get(regie.user_id, cid)["state"] == "interrupted"


def test_a_late_finish_keeps_the_one_interrupted_outcome(regie: Regie) -> None:
    cid = _left_by_a_stopped_process(regie)
    collections = regie.app.state.collections
    assert collections.sweep_interrupted() == 1
    # The process was only slow, not gone: its heartbeat and finish come after the sweep.
    collections.heartbeat(regie.user_id, cid, {"services": {}, "resources": 9})
    assert collections.finish(regie.user_id, cid, _receipt(), {"services": {}, "resources": 9}) is False
    view = regie.get(f"/api/v1/collections/{cid}").json()
    assert view["state"] == "interrupted" and view["receipt"]["outcome"] == "interrupted", view
    assert len(_collect_audit(regie, cid)) == 1  # one outcome, one audit entry set


def test_a_swept_queued_collection_does_not_start(regie: Regie) -> None:
    cid = _left_by_a_stopped_process(regie, "queued")
    collections = regie.app.state.collections
    assert collections.sweep_interrupted() == 1
    assert collections.mark_running(regie.user_id, cid) is False
    assert collections.get(regie.user_id, cid)["state"] == "interrupted"


def test_finish_writes_the_outcome_of_a_running_collection(regie: Regie) -> None:
    """The guard above must not stop the usual finish."""
    cid = _left_by_a_stopped_process(regie)
    collections = regie.app.state.collections
    assert collections.finish(regie.user_id, cid, _receipt(), {"services": {}, "resources": 0}) is True
    assert collections.get(regie.user_id, cid)["state"] == "done"
    assert [e["action"] for e in _collect_audit(regie, cid)] == ["collect-complete"]
