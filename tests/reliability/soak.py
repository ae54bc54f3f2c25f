"""Provider faults soak: every fault type of the sandbox at every service of a provider, with
several users collecting at once, for a bounded time.

Round after round, one (fault, service) pair is set over the sandbox's HTTP admin API and
every user starts a collection of all services at once. Checked per round: every collection
finishes in time (no stuck job), every service that did not complete has its failure on the
receipt (error code, reference, message), and nothing stored before is lost. Over the run:
no unhandled exception in the logs, no collection left running, and the process's RSS at
start and end (memory flat within a tolerance). Used by tests/reliability/test_soak.py
(~40 s) and scripts/reliability/soak.py (10 minutes and more).
"""
from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from regie.web.app import create_app
from tests.collect.harness import GP, Network, api_token, consent, regie_settings, wait_finished

FAST = dict(collect_timeout_seconds=1.0, collect_deadline_seconds=1.5, collect_attempts=2,
            collect_retry_base_seconds=0.05, collect_max_response_bytes=1_000_000,
            collect_retry_after_max_seconds=2.0, log_level="WARNING")

FAULTS: list[dict] = [
    {"kind": "error", "status": 500}, {"kind": "error", "status": 502},
    {"kind": "error", "status": 503, "retry_after": 1}, {"kind": "error", "status": 429, "retry_after": 1},
    {"kind": "error", "status": 504}, {"kind": "error", "status": 401}, {"kind": "error", "status": 400},
    {"kind": "error", "status": 403}, {"kind": "error", "status": 404}, {"kind": "reset"},
    {"kind": "hang", "seconds": 3}, {"kind": "truncated"}, {"kind": "malformed"},
    {"kind": "operation-outcome"}, {"kind": "huge", "size": 2_000_000}, {"kind": "wrong-content-type"},
    {"kind": "slow-drip", "chunk": 1, "seconds": 1}, {"kind": "none", "latency": 0.3},
]


@dataclass
class SoakRun:
    database: str
    users: int
    seconds_planned: float
    seconds: float = 0.0
    rounds: int = 0
    collections: int = 0
    faults_injected: int = 0
    fault_kinds: int = 0
    services: int = 0
    failed_services_on_receipt: int = 0
    stuck_jobs: int = 0
    unhandled_exceptions: int = 0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    data_lost: int = 0
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": "soak", **asdict(self)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Errors(logging.Handler):
    """Counts log records of ERROR and above (an unhandled exception is logged as one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("uvicorn"):
            self.records.append(f"{record.name}: {record.getMessage()}")


def soak(folder: Path, database_url: str, *, seconds: float, users: int = 3, log=lambda line: None) -> SoakRun:
    run = SoakRun(database=database_url.split(":")[0].split("+")[0], users=users, seconds_planned=seconds)
    errors = _Errors()
    # Regie's loggers do not propagate to the root (regie.ops.logs): listen on both, after the
    # app configured logging. The sandbox's own server (uvicorn) logs the faults it injects
    # on purpose ("Exception in ASGI application"); those are not Regie's and not counted.
    listened = [logging.getLogger(), logging.getLogger("regie")]
    try:
        with ExitStack() as stack:
            network = Network(folder / "sandbox", stack)
            home = folder / "home"
            home.mkdir(exist_ok=True)
            settings = regie_settings(home, database_url, network, "http://localhost:8000", **FAST)
            app = create_app(settings)
            for logger in listened:
                logger.addHandler(errors)
            stack.callback(app.state.context.db.dispose)
            client = stack.enter_context(
                TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False))
            tokens = [api_token(app.state.context, f"soak{i}@voorbeeld.nl")[1] for i in range(users)]

            def get(token: str):
                return lambda path: client.get(path, headers={"Authorization": f"Bearer {token}"})

            def collect_all() -> list[dict]:
                started = []
                for token in tokens:  # all users start before any waits: they collect at once
                    response = client.post("/api/v1/collections", json={"provider": GP},
                                           headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 201, response.text
                    back = httpx_path(consent(response.json()["authorization_url"]))
                    answer = client.get(back, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
                    assert answer.status_code == 200, answer.text
                    started.append((token, response.json()["id"]))
                views = []
                for token, cid in started:
                    try:
                        views.append(wait_finished(get(token), cid, timeout=60))
                    except AssertionError as exc:
                        run.stuck_jobs += 1
                        run.problems.append(f"round {run.rounds}: {exc}")
                run.collections += len(started)
                return views

            warm = collect_all()  # complete, all services: the data every round must keep
            services = sorted(s["id"] for s in warm[0]["receipt"]["services"])
            run.services = len(services)
            kept = [get(t)("/api/v1/record/summary").json()["resources"] for t in tokens]
            run.rss_start_mb = round(rss_mb(), 1)
            started = time.monotonic()
            # Every (fault, service) pair once; the fault kind changes every round, so a short
            # run still sees every kind.
            pairs = [(f, services[(j + shift) % len(services)])
                     for shift in range(len(services)) for j, f in enumerate(FAULTS)]
            while time.monotonic() - started < seconds:
                fault, service = pairs[run.rounds % len(pairs)]
                network.clear_faults()
                network.fault(GP, service, **fault)
                run.faults_injected += 1
                run.rounds += 1
                for view in collect_all():
                    _check_receipt(run, view, fault)
                for i, token in enumerate(tokens):
                    now = get(token)("/api/v1/record/summary").json()["resources"]
                    if now < kept[i]:
                        run.data_lost += kept[i] - now
                        run.problems.append(f"round {run.rounds}: {kept[i] - now} resources lost")
                log(f"round {run.rounds}: {fault['kind']} {fault.get('status', '')} at {service}, "
                    f"rss {rss_mb():.0f} MB")
            network.clear_faults()
            run.fault_kinds = len({(f["kind"], f.get("status")) for f, _ in pairs[:run.rounds]})
            running = [v for t in tokens for v in get(t)("/api/v1/collections").json().get("collections", [])
                       if v.get("state") not in ("done", "failed", "interrupted")]
            run.stuck_jobs += len(running)
            run.rss_end_mb = round(rss_mb(), 1)
            run.seconds = round(time.monotonic() - started, 1)
    finally:
        for logger in listened:
            logger.removeHandler(errors)
    run.unhandled_exceptions = len(errors.records)
    run.problems += [f"logged error: {r}" for r in errors.records[:20]]
    return run


def httpx_path(url: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _check_receipt(run: SoakRun, view: dict, fault: dict) -> None:
    receipt = view.get("receipt")
    if view["state"] not in ("done", "failed") or receipt is None:
        run.problems.append(f"round {run.rounds}: collection {view['state']} without a receipt: {view.get('error')}")
        return
    for service in receipt["services"]:
        if service["state"] == "complete":
            continue
        failed = [r for r in service["requests"] if not r["ok"]]
        if not failed or not all(r["error"] and r["reference"].startswith("RGE-") and r["message"] for r in failed):
            run.problems.append(f"round {run.rounds}: service {service['id']} {service['state']} "
                                f"without its failure on the receipt")
        else:
            run.failed_services_on_receipt += 1
