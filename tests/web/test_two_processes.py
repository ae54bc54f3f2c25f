"""Nothing a request needs lives in one process's memory: two `regie serve` processes on
one PostgreSQL schema, every request sent to the other one (round robin), and a visitor
registers, enrols TOTP, logs out, logs in (password, then a recovery code) and reads
pages; /metrics of each process counts only its own half. The processes are forks of the
test process running the real command line (tests/processes.py), started before any of
the visitor's requests."""
from __future__ import annotations

import base64
import itertools
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pyotp
import pytest

from tests.conftest import migrate
from tests.processes import local_get, regie, wait_answering
from tests.web.helpers import Browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _requests_counted(port: int) -> float:
    """The requests the process at *port* counted in its /metrics."""
    text = local_get(f"http://127.0.0.1:{port}/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("regie_http_request_duration_seconds_count{"))


class RoundRobin(httpx.BaseTransport):
    """Sends each request to the next server in turn; records which one answered."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = itertools.cycle(ports)
        self.inner = httpx.HTTPTransport()
        self.used: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        port = next(self.ports)
        self.used.append(port)
        request.url = request.url.copy_with(port=port)
        request.headers["host"] = f"127.0.0.1:{port}"
        return self.inner.handle_request(request)


class RealClock:
    """TOTP codes at the servers' real time."""

    def __call__(self) -> float:
        return time.time()

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).now()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_login_and_pages_across_two_web_processes(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {**os.environ, "REGIE_HOME": str(home), "REGIE_DATABASE_URL": database_url,
           "REGIE_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1",
           "REGIE_THROTTLE_DELAY_BASE_SECONDS": "0", "REGIE_LOG_LEVEL": "WARNING",
           "REGIE_PUBLIC_URL": "http://127.0.0.1:8000", "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # Migrated in this process (tests/cli covers `regie db upgrade`): one start-up fewer to wait for.
    migrate(database_url)
    ports = [_free_port()]
    while len(ports) < 2:  # two different ports: the kernel may hand out a freed one again
        if (port := _free_port()) not in ports:
            ports.append(port)
    processes = [regie(["serve", "--port", str(port)], env, tmp_path / f"serve-{port}.log") for port in ports]
    try:
        for port, process in zip(ports, processes):
            wait_answering(f"http://127.0.0.1:{port}/readyz", process, tmp_path / f"serve-{port}.log")
        # What each process counted before the visitor came (a fork starts with the test
        # process's counters): only what it counts from here on is its own half.
        started = [_requests_counted(port) for port in ports]
        transport = RoundRobin(ports)
        with httpx.Client(transport=transport, base_url="http://127.0.0.1:8000") as client:
            browser = Browser(client, SimpleNamespace(accounts=SimpleNamespace(), settings=SimpleNamespace(home=home)), RealClock())  # type: ignore[arg-type]
            account = browser.register()  # form, TOTP secret, confirmation, codes: each on the other process
            assert client.get("/").status_code == 200
            browser.logout()
            assert client.get("/timeline", follow_redirects=False).status_code == 303
            first = browser.password_step(account)
            assert first.headers["location"] == "/login/second-factor", first.text
            done = browser.post_form("/login/recovery", {"code": account.recovery_codes[0]}, token_from="/login/recovery")
            assert done.status_code == 303 and done.headers["location"] not in ("/login", "/login/recovery")
            for path in ("/", "/timeline", "/search?q=bloeddruk", "/account", "/api/v1/record/summary", "/api/v1/audit"):
                for _ in range(2):  # once on each process
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
        assert set(transport.used) == set(ports) and len(transport.used) > 20
        # Each process measured its own requests (separate processes, no shared metrics dir).
        counts = [_requests_counted(port) - before for port, before in zip(ports, started)]
        assert all(count >= 10 for count in counts), counts
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                # uvicorn shuts down gracefully, then re-raises the signal it caught.
                assert process.wait(timeout=15) in (0, -signal.SIGTERM)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
