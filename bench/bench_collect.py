"""Collector benchmark: 5 providers, every service, 200 ms latency per FHIR request.

    .venv/bin/python bench/bench_collect.py [--runs N] [--ingest-only N] [--postgres]

The sandbox runs in a process of its own (as a provider would: its serving does not
take Regie's CPU or GIL); Regie runs in this process (TestClient; SQLite, or PostgreSQL with ``--postgres``). Reported:

- **total**: from the consents' callbacks (code exchange included) to the last receipt,
  for a patient collecting for the first time (the warm-up ran as another patient);
- **slowest single chain, alone**: in the same run, after the collection, the longest
  request chain (a search, its next pages, then a document it found) fetched on its own,
  request after request with a plain HTTP client and the same latency: what one chain
  costs with nothing else going on. Target: total < 3x this.
- the ratio against the nominal chain (its number of requests x 200 ms) and against the
  slowest chain as measured inside the collection (the receipts' per-request times,
  which include waiting for the per-provider bound);
- **ingest busy**: the summed time of the responses' ingest (one at a time per patient),
  which bounds the total from below when it exceeds the network time;
- the load average, since the machine is shared.

Then the ingest of one 10,000-resource response (``import_bytes`` as the collector calls
it), target < 2 s, reported as a median of ``--ingest-only N`` runs.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

PROVIDERS = ("huisartsdevries", "ziekenhuisrivierenland", "apotheekdemolen", "ggzdekust", "zorgcentrumdelinde")
LATENCY = 0.2


# --- the sandbox in its own process ------------------------------------------------------
def _serve_sandbox(state_dir: str, port: int, ready) -> None:
    import uvicorn

    from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
    from regie.sandbox.config import default_config

    app = create_sandbox_app(default_config(port=port), Path(state_dir), fhir_app_factory=load_fhir_app_factory())
    ready.put(str(app.state.publisher.trust_anchor_path))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


class RemoteNetwork:
    """The harness's ``Network`` interface over HTTP, for a sandbox in another process."""

    def __init__(self, state_dir: Path, stack: ExitStack) -> None:
        from tests.sandbox.live import free_port

        self.port = free_port()
        context = multiprocessing.get_context("spawn")
        ready = context.Queue()
        process = context.Process(target=_serve_sandbox, args=(str(state_dir), self.port, ready), daemon=True)
        process.start()
        self.pid = process.pid
        stack.callback(process.join, 10)
        stack.callback(process.terminate)
        self.key_path = Path(ready.get(timeout=60))
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.admin = stack.enter_context(httpx.Client(base_url=self.base_url, timeout=30))
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.admin.get("/_sandbox/fhir/access-log.json").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.1)

    def access_log(self, provider: str | None = None, service: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("provider", provider), ("service", service)) if v}
        return self.admin.get("/_sandbox/fhir/access-log.json", params=params).json()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the sandbox's process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def fault(self, provider: str, service: str, **fault) -> None:
        response = self.admin.put(f"/_admin/faults/{provider}/fhir/{service}", json=fault)
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        self.admin.delete("/_admin/faults")


# --- measuring --------------------------------------------------------------------------
class IngestClock:
    """Sums the time spent in ``RecordService.import_bytes`` (the collector's ingest)."""

    def __init__(self) -> None:
        from regie.store.ingest import RecordService

        self.seconds = 0.0
        self.calls = 0
        original = RecordService.import_bytes
        clock = self

        def timed(service, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(service, *args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - t0
                clock.calls += 1

        RecordService.import_bytes = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


def _chains(view: dict) -> list[list[str]]:
    """The request chains of one collection, from its receipt: each search on its own,
    and the DocumentReference search followed by a document it found. (The sandbox
    answers every search in one page; with ``Bundle.link[next]`` pages the chain would
    be longer.)"""
    chains = []
    provider = view["provider"].split("@")[0]
    for service in view["receipt"]["services"]:
        base = f"{provider}/fhir/{service['id']}"
        searches = [r["url"] for r in service["requests"] if not r["url"].startswith("Binary/")]
        reads = [r["url"] for r in service["requests"] if r["url"].startswith("Binary/")]
        chains += [[f"{base}/{u}"] for u in searches]
        documents = [u for u in searches if u.startswith("DocumentReference")]
        if reads and documents:
            chains.append([f"{base}/{documents[0]}", f"{base}/{reads[0]}"])
    return chains


def _chain_alone(network: RemoteNetwork, chain: list[str], provider: str, services: tuple[str, ...]) -> float:
    """Fetch one chain's requests one after the other with a token of its own."""
    from tests.sandbox.test_admin_faults import get_token

    with httpx.Client(base_url=network.base_url, timeout=30) as http:
        token = get_token(http, provider, services).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        t0 = time.perf_counter()
        for url in chain:
            response = http.get(f"/{url}", headers=headers)
            assert response.status_code == 200, (url, response.status_code)
        return time.perf_counter() - t0


@contextmanager
def database(root: Path, postgres: bool):
    """SQLite in *root*, or a fresh schema of the test PostgreSQL (dropped afterwards)."""
    if not postgres:
        yield f"sqlite:///{root / 'regie.sqlite3'}"
        return
    import secrets

    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_URL

    schema = f"regie_bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def collect_bench(root: Path, clock: IngestClock, postgres: bool = False) -> dict:
    from fastapi.testclient import TestClient

    from regie.web.app import create_app
    from tests.collect.conftest import Regie
    from tests.collect.harness import api_token, consent, regie_settings, wait_finished

    with ExitStack() as stack:
        network = RemoteNetwork(root / "sandbox", stack)
        home = root / "home"
        home.mkdir()
        url = stack.enter_context(database(root, postgres))
        settings = regie_settings(home, url, network, "http://localhost:8000")
        app = create_app(settings)
        client = stack.enter_context(TestClient(app, base_url="http://localhost:8000"))
        user_id, token = api_token(app.state.context)
        regie = Regie(app, client, token, user_id, network)  # type: ignore[arg-type]
        for p in PROVIDERS:  # warm the sandbox's synthetic data and the validators (not timed)
            regie.collect(p, timeout=120)
        # Timed: a patient collecting for the first time (everything new, nothing to skip).
        user_id, token = api_token(app.state.context, "eerste-keer@voorbeeld.nl")
        regie = Regie(app, client, token, user_id, network)  # type: ignore[arg-type]
        before = len(network.access_log())
        for p in PROVIDERS:
            network.fault(p, "*", kind="none", latency=LATENCY)
        started = [regie.start(p) for p in PROVIDERS]
        callbacks = [consent(s["authorization_url"]) for s in started]
        clock.reset()
        load_before = os.getloadavg()[0]
        cpu0 = time.process_time()
        sandbox_cpu0 = network.cpu_seconds()
        t0 = time.perf_counter()
        for url in callbacks:
            regie.callback(url)
        views = [wait_finished(regie.get, s["id"], 300) for s in started]
        total = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        sandbox_cpu = network.cpu_seconds() - sandbox_cpu0
        if os.environ.get("BENCH_VERBOSE"):
            from datetime import datetime
            first = min(datetime.fromisoformat(v["started_at"]) for v in views)
            for v in views:
                seconds = sorted(r["seconds"] for s in v["receipt"]["services"] for r in s["requests"])
                print(f"    {v['provider']}: {len(seconds)} requests, started +"
                      f"{(datetime.fromisoformat(v['started_at']) - first).total_seconds():.2f} s, finished +"
                      f"{(datetime.fromisoformat(v['finished_at']) - first).total_seconds():.2f} s, request "
                      f"median {statistics.median(seconds):.2f} s max {seconds[-1]:.2f} s")
        requests = len(network.access_log()) - before
        assert all(v["receipt"]["outcome"] == "complete" for v in views), [v["receipt"]["outcome"] for v in views]
        in_run = 0.0
        longest: tuple[int, list[str], dict] | None = None
        for v in views:
            for s in v["receipt"]["services"]:
                searches = [r["seconds"] for r in s["requests"] if not r["url"].startswith("Binary/")]
                reads = [r["seconds"] for r in s["requests"] if r["url"].startswith("Binary/")]
                in_run = max(in_run, max(searches or [0]) + max(reads or [0]))
            for chain in _chains(v):
                if longest is None or len(chain) > longest[0]:
                    longest = (len(chain), chain, v)
        assert longest is not None
        length, chain, view = longest
        alone = min(_chain_alone(network, chain, view["provider"].split("@")[0], tuple(view["services"]))
                    for _ in range(3))
        result = {"providers": len(PROVIDERS), "requests": requests, "total": total, "alone": alone,
                  "chain_requests": length, "nominal": length * LATENCY, "in_run": in_run,
                  "ingest": clock.seconds, "ingest_calls": clock.calls, "cpu": cpu, "sandbox_cpu": sandbox_cpu,
                  "load": (load_before + os.getloadavg()[0]) / 2}
        app.state.context.db.dispose()
        return result


def ingest_bench(root: Path) -> tuple[float, float]:
    import orjson

    from regie.fhir import FhirVersion, read_bytes
    from regie.store.db import Database
    from regie.store.ingest import RecordService
    from regie.store.migrate import upgrade
    from regie.store.models import User
    from regie.web.context import AppContext
    from tests.collect.harness import api_token
    from tests.conftest import fast_settings

    home = root / "home2"
    home.mkdir()
    settings = fast_settings(home, f"sqlite:///{root / 'ingest.sqlite3'}")
    upgrade(Database(settings.resolved_database_url).engine)
    context = AppContext.build(settings)
    user_id, _ = api_token(context, "bench@voorbeeld.nl")
    with context.db.session() as session:
        user = session.get(User, user_id)
    entries = [{"fullUrl": f"urn:uuid:obs-{i}", "resource": {
        "resourceType": "Observation", "id": f"obs-{i}", "status": "final",
        "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "effectiveDateTime": f"2024-01-{1 + i % 28:02d}T08:00:00+01:00",
        "valueQuantity": {"value": 4 + (i % 30) / 10, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
    }, "search": {"mode": "match"}} for i in range(10_000)]
    body = orjson.dumps({"resourceType": "Bundle", "type": "searchset", "total": 10_000, "entry": entries})
    service = RecordService(context.db, context.accounts.keyring)
    keys = service.keys(user)
    # A running collector has read a response before: build the STU3 validators first
    # (once per process, ~0.3-0.5 s), as the collection does in a full run.
    read_bytes(orjson.dumps(entries[0]["resource"]), name="warm-up", fhir_version=FhirVersion.STU3)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    outcome = service.import_bytes(keys, body, name="bench", source="Bench · Lab", channel="collect",
                                   fhir_version=FhirVersion.STU3)
    took = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    assert outcome.ok and outcome.new == 10_000, outcome.error
    context.db.dispose()
    return took, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="collection runs (each with a fresh sandbox)")
    parser.add_argument("--ingest-only", type=int, default=0, metavar="N",
                        help="only the 10,000-resource ingest, N times")
    parser.add_argument("--postgres", action="store_true",
                        help="collect into PostgreSQL (REGIE_TEST_POSTGRES_URL, a schema of its own)")
    args = parser.parse_args()
    if not args.ingest_only:
        clock = IngestClock()
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                r = collect_bench(Path(folder), clock, args.postgres)
            print(f"collect run {run + 1} ({'PostgreSQL' if args.postgres else 'SQLite'}): {r['providers']} providers, {r['requests']} FHIR requests, "
                  f"{LATENCY * 1000:.0f} ms latency each, load {r['load']:.1f}")
            print(f"  total after consent {r['total']:.2f} s")
            print(f"  slowest single chain ({r['chain_requests']} requests) alone {r['alone']:.2f} s: "
                  f"ratio {r['total'] / r['alone']:.2f} (target < 3)")
            print(f"  against the nominal chain ({r['chain_requests']} x {LATENCY * 1000:.0f} ms = "
                  f"{r['nominal']:.1f} s): {r['total'] / r['nominal']:.2f}; against the slowest chain inside "
                  f"the run ({r['in_run']:.2f} s): {r['total'] / r['in_run']:.2f}")
            print(f"  ingest busy {r['ingest']:.2f} s over {r['ingest_calls']} responses; "
                  f"CPU time of Regie's process {r['cpu']:.2f} s, of the sandbox's {r['sandbox_cpu']:.2f} s")
            # Regie's CPU time is what the run costs on one free core: the total a quiet
            # machine would reach at best (the event loop and the ingest share the GIL).
            print(f"  CPU-bound floor: {r['cpu']:.2f} s / {r['alone']:.2f} s = {r['cpu'] / r['alone']:.2f}")
    runs = max(1, args.ingest_only)
    times, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            took, cpu = ingest_bench(Path(folder))
        times.append(took)
        cpus.append(cpu)
    print(f"ingest: one response of 10,000 resources, median of {runs}: {statistics.median(times):.2f} s "
          f"(target < 2 s; runs: {', '.join(f'{t:.2f}' for t in times)}; load {os.getloadavg()[0]:.1f}); "
          f"CPU time median {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
