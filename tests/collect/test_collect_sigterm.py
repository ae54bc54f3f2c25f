"""SIGTERM on `regie serve` (a process of its own, forked from the test process:
tests/processes.py) in the middle of a collection: a collection
that can finish within REGIE_COLLECT_SHUTDOWN_GRACE_SECONDS finishes (complete receipt)
before the process exits; one that cannot is interrupted at the bound, with "try again",
and the record stays consistent. Either way the process exits in bounded time."""
from __future__ import annotations

import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from regie.web.app import create_app
from tests.collect.harness import GP, Network, api_token, regie_settings
from tests.collect.test_collect_flow import _served_counts
from tests.collect.test_collect_killed import SERVICES, _collect_started, _consistent, _wait
from tests.processes import Server, environment
from tests.sandbox.live import free_port


def _terminated_while_running(tmp_path: Path, latency: float, grace: float) -> tuple[dict, float, int]:
    """Start a collection, SIGTERM the server once it is storing, and return the
    collection as the restarted server reports it, the seconds the process took to
    exit, and what the sandbox served."""
    with ExitStack() as stack:
        network = Network(tmp_path / "sandbox", stack)
        network.fault(GP, "*", kind="none", latency=latency)
        home = tmp_path / "home"
        home.mkdir()
        port = free_port()
        settings = regie_settings(
            home, f"sqlite:///{tmp_path / 'regie.sqlite3'}", network, f"http://localhost:{port}",
            collect_concurrency_per_provider=2, collect_heartbeat_seconds=0.2,
            collect_shutdown_grace_seconds=grace, log_level="WARNING")
        app = create_app(settings)
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
        assert running["state"] == "running", running  # the signal lands in the middle
        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            code = server.process.wait(timeout=grace + 30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"regie serve did not stop within {grace + 30} s") from None
        took = time.monotonic() - started
        # uvicorn re-raises the signal once it has shut down cleanly: exit by SIGTERM (or 0).
        assert code in (0, -signal.SIGTERM), (code, (tmp_path / "serve.log").read_text()[-2000:])

        network.clear_faults()
        server.start()
        view = http.get(f"/api/v1/collections/{cid}").json()
        view["_stored"] = _consistent(http)
        return view, took, sum(_served_counts(network, GP, SERVICES).values())


def test_sigterm_lets_a_running_collection_finish_within_the_grace_period(tmp_path: Path) -> None:
    # 0.4 s per request, two at a time: a few seconds left when the signal comes; 60 s grace.
    view, took, served = _terminated_while_running(tmp_path, latency=0.4, grace=60)
    assert view["state"] == "done" and view["receipt"]["outcome"] == "complete", view
    assert view["_stored"] == served
    assert took < 60


def test_sigterm_interrupts_what_cannot_finish_within_the_bound(tmp_path: Path) -> None:
    # 3 s per request: the collection needs far longer than the 1 s grace.
    view, took, served = _terminated_while_running(tmp_path, latency=3.0, grace=1)
    assert view["state"] == "interrupted", view
    assert view["error"]["code"] == "interrupted" and "Probeer het opnieuw" in view["error"]["message"], view
    assert 0 < view["_stored"] < served
    assert took < 1 + 20, took  # the grace, plus the requests in flight being dropped
