"""A whole collection across two `regie serve` processes on one PostgreSQL database: the
collection starts at process A, DigiD and consent happen at the sandbox, the callback
lands at process B (which runs the collection: it holds the access token), and progress
and the receipt are read from both. Nothing of it lives in A's memory. The processes are forks
of the test process running the real command line (tests/processes.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from regie.web.app import create_app
from tests.collect.harness import FINISHED, GP, Network, api_token, consent, regie_settings
from tests.processes import regie, wait_answering
from tests.web.test_two_processes import _free_port


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_collection_across_two_web_processes(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    with ExitStack() as stack:
        network = Network(tmp_path / "sandbox", stack)
        public = "http://localhost:8000"
        settings = regie_settings(home, database_url, network, public)  # migrated, lists loaded
        context = create_app(settings).state.context  # the same REGIE_HOME: the same master key
        _user_id, token = api_token(context)
        context.db.dispose()
        env = {**os.environ, "REGIE_HOME": str(home), "REGIE_DATABASE_URL": database_url, "REGIE_PUBLIC_URL": public,
               "REGIE_MEDMIJ_LISTS_URL": network.base_url, "REGIE_MEDMIJ_LISTS_KEY": str(network.key_path),
               "REGIE_ALLOW_INSECURE_LOOPBACK": "1", "REGIE_LISTS_AUTO_REFRESH": "0", "REGIE_JOBS_IN_WEB": "0",
               "REGIE_COLLECT_RETRY_BASE_SECONDS": "0.05", "REGIE_COLLECT_HEARTBEAT_SECONDS": "0.5",
               "REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1",
               "REGIE_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        ports = [_free_port(), _free_port()]
        logs = [tmp_path / f"serve-{port}.log" for port in ports]
        processes = [regie(["serve", "--port", str(port)], env, log) for port, log in zip(ports, logs)]
        try:
            for port, process, log in zip(ports, processes, logs):
                wait_answering(f"http://127.0.0.1:{port}/readyz", process, log)
            headers = {"Authorization": f"Bearer {token}"}
            a, b = (stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30))
                    for port in ports)
            started = a.post("/api/v1/collections", json={"provider": GP})  # at A
            assert started.status_code == 201, started.text
            collection = started.json()
            back = urlsplit(consent(collection["authorization_url"]))  # DigiD + consent at the sandbox
            assert back.path == "/collect/callback" and "code=" in back.query
            landed = b.get(f"{back.path}?{back.query}", follow_redirects=False)  # the callback at B
            assert landed.status_code == 200, landed.text
            seen: list[dict] = []
            deadline = time.monotonic() + 90
            while True:
                for client in (a, b):  # progress from both
                    seen.append(client.get(f"/api/v1/collections/{collection['id']}").json())
                if seen[-1]["state"] in FINISHED and seen[-2]["state"] in FINISHED:
                    break
                assert time.monotonic() < deadline, seen[-1]
                time.sleep(0.2)
            from_a, from_b = seen[-2], seen[-1]
            assert from_a["state"] == from_b["state"] == "done", from_b
            assert from_a["receipt"] == from_b["receipt"] and from_b["receipt"]["outcome"] == "complete"
            assert from_b["receipt"]["totals"]["new"] > 0
            # The record the collection filled is the same through either process.
            summaries = [client.get("/api/v1/record/summary").json() for client in (a, b)]
            assert summaries[0] == summaries[1] and summaries[0]["resources"] == from_b["receipt"]["totals"]["new"]
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
