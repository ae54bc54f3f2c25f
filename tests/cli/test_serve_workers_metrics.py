"""`regie serve --workers 2`: JSON logs, and /metrics sums the counters of both processes
(prometheus-client multiprocess mode under $REGIE_HOME/metrics). `regie serve` is a new
interpreter, as deployed; `regie db upgrade` runs in this process."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.processes import local_get, upgraded


def _healthz_served_by(log_path: Path) -> list[int]:
    """The process ids in the JSON request log lines of /healthz."""
    return [record["process"] for line in log_path.read_text().splitlines() if line.startswith("{")
            if (record := json.loads(line)).get("message") == "request" and record.get("route") == "/healthz"]


def test_two_workers_share_metrics(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / "home"
    # As in production: each worker freezes its start-up objects (regie.ops.gc_pauses; the
    # suite turns that off for the apps it builds in its own processes).
    env = {**os.environ, "REGIE_HOME": str(home), "PYTHONUNBUFFERED": "1", "REGIE_GC_FREEZE": "1"}
    for name in ("REGIE_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    command = [sys.executable, "-m", "regie.cli.main"]
    upgraded(env)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", "2"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # start-up imports are slow on a busy machine
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if local_get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        # New connections: the kernel spreads them over both processes. At least 30, and on
        # until both processes served some (the second may still be starting), so the sum
        # below really adds two processes' counters.
        sent = 0
        while sent < 30 or len(set(_healthz_served_by(log_path))) < 2:
            assert local_get(f"{base}/healthz").status_code == 200
            sent += 1
            assert time.monotonic() < deadline, (sent, log_path.read_text()[-2000:])
        text = local_get(f"{base}/metrics").text
        line = next(line for line in text.splitlines()
                    if line.startswith('regie_http_request_duration_seconds_count{method="GET",route="/healthz"'))
        assert float(line.split()[-1]) == sent
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    assert (home / "metrics").is_dir()
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(r.get("message") == "request" and r.get("route") == "/healthz" for r in records)
    assert not any("GET /healthz HTTP" in r.get("message", "") for r in records)  # no uvicorn access log
    frozen = [r for r in records if r.get("message") == "start-up objects kept out of collections"]
    assert len({r["process"] for r in frozen}) == 2 and all(r["objects"] > 10_000 for r in frozen), frozen
