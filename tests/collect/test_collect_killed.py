"""A Regie server killed (SIGKILL) in the middle of a collection.

Regie runs as a process of its own (`regie serve`, uvicorn; forked from the test process,
tests/processes.py); the sandbox (in this process)
adds latency to every FHIR request so the collection is still running when the process
is killed. After a restart the record is consistent — every response was stored in one
transaction with its audit entry, so the stored rows equal the sum the audit entries
report — and the collection is reported as interrupted, with "try again"; trying again
completes it without duplicates.
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from regie.web.app import create_app
from tests.collect.harness import GP, Network, api_token, consent, regie_settings
from tests.collect.test_collect_flow import _served_counts
from tests.processes import Server, environment
from tests.sandbox.live import free_port

SERVICES = ["49", "51", "904"]


def _consistent(http: httpx.Client) -> int:
    """Stored resources equal what the import audit entries say was written."""
    written, cursor = 0, None
    while True:
        page = http.get("/api/v1/audit", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        for entry in page["entries"]:
            if entry["action"] == "import":
                written += int(entry["target"].split()[0])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    stored = http.get("/api/v1/record/summary").json()["resources"]
    assert stored == written, f"{stored} resources stored, the audit entries say {written}"
    return stored


def _collect_started(http: httpx.Client) -> str:
    started = http.post("/api/v1/collections", json={"provider": GP, "services": SERVICES})
    assert started.status_code == 201, started.text
    back = consent(started.json()["authorization_url"])
    parts = httpx.URL(back)
    response = http.get(f"{parts.path}?{parts.query.decode()}")
    assert response.status_code == 200, response.text
    return started.json()["id"]


def _wait(http: httpx.Client, cid: str, until, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = http.get(f"/api/v1/collections/{cid}").json()
        if until(view):
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.05)


@pytest.mark.parametrize("restart", ["after-stale", "at-once"])
def test_killed_in_the_middle_leaves_a_consistent_record_and_an_interrupted_collection(tmp_path: Path, restart: str):
    """after-stale: the start-up sweep reports it. at-once (systemd restarts in about a
    second, before the heartbeat is stale): the periodic sweep of the running server does."""
    with ExitStack() as stack:
        network = Network(tmp_path / "sandbox", stack)
        # Every FHIR request of the GP waits; two at a time: the collection takes seconds.
        network.fault(GP, "*", kind="none", latency=0.6)
        home = tmp_path / "home"
        home.mkdir()
        port = free_port()
        settings = regie_settings(
            home, f"sqlite:///{tmp_path / 'regie.sqlite3'}", network, f"http://localhost:{port}",
            collect_concurrency_per_provider=2, collect_heartbeat_seconds=0.2, collect_stale_after_seconds=1.0,
            collect_sweep_seconds=0.2, log_level="WARNING")
        app = create_app(settings)  # the master key and an API token, then the process serves
        _user, token = api_token(app.state.context)
        app.state.context.db.dispose()

        server = Server(environment(settings), port, tmp_path / "serve.log")
        stack.callback(server.stop)
        server.start()
        http = stack.enter_context(httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=10))

        cid = _collect_started(http)
        running = _wait(http, cid, lambda v: v["state"] in ("done", "failed", "interrupted")
                        or (v["state"] == "running" and (v.get("progress") or {}).get("resources", 0) > 0))
        assert running["state"] == "running", running  # not finished yet: the kill lands in the middle
        server.kill()
        if restart == "after-stale":
            time.sleep(settings.collect_stale_after_seconds + 0.2)  # the last heartbeat is now stale
            server.start()
            view = http.get(f"/api/v1/collections/{cid}").json()
        else:
            server.start()
            view = _wait(http, cid, lambda v: v["state"] != "running",
                         timeout=settings.collect_stale_after_seconds + 10)
        assert view["state"] == "interrupted", view
        assert view["error"]["code"] == "interrupted" and "Probeer het opnieuw" in view["error"]["message"], view
        receipt = view["receipt"]
        assert receipt["outcome"] == "interrupted" and receipt["reference"] == view["reference"]
        assert all(s["state"] == "interrupted" for s in receipt["services"])
        stored = _consistent(http)
        served = sum(_served_counts(network, GP, SERVICES).values())
        assert 0 < stored < served  # something came in before the kill, not everything

        # Try again: completes, adds the rest, duplicates nothing.
        network.clear_faults()
        again = _collect_started(http)
        done = _wait(http, again, lambda v: v["state"] in ("done", "failed", "interrupted"))
        assert done["state"] == "done" and done["receipt"]["outcome"] == "complete", done
        assert _consistent(http) == served
