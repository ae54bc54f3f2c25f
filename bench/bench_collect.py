"""Collector benchmark: 5 providers, every service, 200 ms latency per request.

    .venv/bin/python bench/bench_collect.py [--runs N] [--ingest-only N] [--postgres] [--bound N]
        [--providers N] [--ingest-resources N]

The sandbox runs in a process of its own (as a provider would: its serving does not
take Regie's CPU or GIL); Regie runs in this process (TestClient; SQLite, or PostgreSQL
with ``--postgres``). Each run times two first-time collections of all 5 providers
(the warm-up ran as another patient), as two new patients:

- **every request** (the issue's wording): 200 ms on the token exchange and on every FHIR
  request. The slowest single chain is then the code exchange, the longest FHIR chain
  (a search, then a document it found) after it;
- **FHIR only**: 200 ms on the FHIR requests, none on the token exchange; the chain is
  the FHIR chain alone (a stricter reading: the same total work against a shorter chain).

Reported per case: **total**, from the consents' callbacks (code exchange included) to
the last receipt; the **slowest single chain, alone**, fetched after the collection
request after request with a plain HTTP client and the same latency; their ratio
(target < 3). Then figures that hold on a busy machine, where wall time does not:

- **rounds**: from a timeline of every request Regie sent (start and end in Regie's
  process), the longest sequence of requests each starting after the previous ended,
  per provider plus the token exchange: how many latencies deep the collection is. The
  chain alone is its number of requests deep; rounds / chain is the ratio a machine with
  free CPU reaches, within the ingest and event-loop overhead;
- the most requests **in flight** at once at one provider (the per-provider bound);
- **ingest busy** (the summed ``import_bytes`` time), Regie's and the sandbox's **CPU
  time**, and the load average.

Then the ingest of one 10,000-resource response (``import_bytes`` as the collector calls
it), target < 2 s, reported as a median of ``--ingest-only N`` runs.

``--providers`` (the first N of the five) and ``--ingest-resources`` make the run smaller
for the smoke test; the figures and targets are for the defaults.
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

    def oauth_latency(self, provider: str, seconds: float) -> None:
        """Latency on the provider's authorization and token endpoints."""
        response = self.admin.patch(f"/_admin/faults/{provider}", json={"latency_ms": int(seconds * 1000)})
        assert response.status_code == 200, response.text


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


def _chain_alone(network: RemoteNetwork, chain: list[str], provider: str, services: tuple[str, ...],
                 with_token: bool) -> float:
    """Fetch one chain's requests one after the other with a token of its own; with
    *with_token*, the code exchange (with its latency) counts as the chain's first request."""
    from tests.sandbox.test_admin_faults import get_token

    exchange = {"seconds": 0.0}

    def started(request: httpx.Request) -> None:
        if request.url.path.endswith("/oauth/token"):
            request.extensions["bench_t0"] = time.perf_counter()

    def answered(response: httpx.Response) -> None:
        if "bench_t0" in response.request.extensions:
            exchange["seconds"] = time.perf_counter() - response.request.extensions["bench_t0"]

    hooks = {"request": [started], "response": [answered]}
    with httpx.Client(base_url=network.base_url, timeout=30, event_hooks=hooks) as http:
        token = get_token(http, provider, services).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        t0 = time.perf_counter()
        for url in chain:
            response = http.get(f"/{url}", headers=headers)
            assert response.status_code == 200, (url, response.status_code)
        return time.perf_counter() - t0 + (exchange["seconds"] if with_token else 0.0)


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


class Timeline:
    """Start and end (Regie's clock) of every FHIR request and token exchange Regie sends."""

    def __init__(self) -> None:
        import regie.collect.engine as engine
        import regie.medmij.oauth as oauth

        self.spans: list[tuple[str, float, float]] = []  # (provider, start, end)
        timeline = self
        fetch, exchange = engine.get_fhir, oauth.exchange_code

        async def timed_fetch(http, url, **kwargs):
            t0 = time.perf_counter()
            try:
                return await fetch(http, url, **kwargs)
            finally:
                timeline.spans.append((_provider_of(url), t0, time.perf_counter()))

        async def timed_exchange(http, url, **kwargs):
            t0 = time.perf_counter()
            try:
                return await exchange(http, url, **kwargs)
            finally:
                timeline.spans.append((_provider_of(url) + " token", t0, time.perf_counter()))

        engine.get_fhir = timed_fetch
        oauth.exchange_code = timed_exchange

    def reset(self) -> None:
        self.spans = []

    def rounds(self, with_token: bool) -> tuple[int, str]:
        """The deepest provider: its FHIR requests (and with *with_token* its token
        exchange), in requests one after the other (each starting after the one before
        it ended)."""
        deepest, name = 0, ""
        for provider in {p for p, _, _ in self.spans if not p.endswith(" token")}:
            names = (provider, provider + " token") if with_token else (provider,)
            spans = sorted((s, e) for p, s, e in self.spans if p in names)
            depth: list[int] = []
            for i, (start, _end) in enumerate(spans):
                depth.append(1 + max((depth[j] for j in range(i) if spans[j][1] <= start), default=0))
            if max(depth) > deepest:
                deepest, name = max(depth), provider
        return deepest, name


def _provider_of(url: str) -> str:
    path = httpx.URL(url).path.strip("/").split("/")
    return path[0] if path else "?"


def _timed_collection(network: RemoteNetwork, app, client, email: str, clock: IngestClock,
                      timeline: Timeline, token_latency: bool, providers: tuple[str, ...] = PROVIDERS) -> dict:
    """One patient collecting all *providers* for the first time, with 200 ms latency."""
    from tests.collect.conftest import Regie
    from tests.collect.harness import api_token, consent, wait_finished

    user_id, token = api_token(app.state.context, email)
    regie = Regie(app, client, token, user_id, network)  # type: ignore[arg-type]
    before = len(network.access_log())
    started = [regie.start(p) for p in providers]
    callbacks = [consent(s["authorization_url"]) for s in started]  # DigiD and consent: not timed
    for p in providers:
        network.fault(p, "*", kind="none", latency=LATENCY)
        network.oauth_latency(p, LATENCY if token_latency else 0)
    clock.reset()
    timeline.reset()
    slots = app.state.collect_runner._provider_slots  # made during the warm-up
    for slot in slots.values():
        slot.in_flight_max = 0
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
    longest: tuple[int, list[str], dict] | None = None
    for v in views:
        for chain in _chains(v):
            if longest is None or len(chain) > longest[0]:
                longest = (len(chain), chain, v)
    assert longest is not None
    length, chain, view = longest
    provider = view["provider"].split("@")[0]
    alone = min(_chain_alone(network, chain, provider, tuple(view["services"]), token_latency) for _ in range(3))
    rounds, deepest = timeline.rounds(token_latency)
    in_flight = max(slot.in_flight_max for slot in slots.values())
    for p in providers:
        network.oauth_latency(p, 0)
    network.clear_faults()
    return {"requests": requests, "total": total, "alone": alone,
            "chain_requests": length + (1 if token_latency else 0), "rounds": rounds, "deepest": deepest,
            "in_flight": in_flight, "ingest": clock.seconds, "ingest_calls": clock.calls, "cpu": cpu,
            "sandbox_cpu": sandbox_cpu, "load": (load_before + os.getloadavg()[0]) / 2}


def collect_bench(root: Path, clock: IngestClock, timeline: Timeline, postgres: bool = False,
                  bound: int | None = None, providers: tuple[str, ...] = PROVIDERS) -> dict:
    from fastapi.testclient import TestClient

    from regie.web.app import create_app
    from tests.collect.conftest import Regie
    from tests.collect.harness import api_token, regie_settings

    with ExitStack() as stack:
        network = RemoteNetwork(root / "sandbox", stack)
        home = root / "home"
        home.mkdir()
        url = stack.enter_context(database(root, postgres))
        overrides = {} if bound is None else {"collect_concurrency_per_provider": bound}
        settings = regie_settings(home, url, network, "http://localhost:8000", **overrides)
        app = create_app(settings)
        client = stack.enter_context(TestClient(app, base_url="http://localhost:8000"))
        user_id, token = api_token(app.state.context)
        regie = Regie(app, client, token, user_id, network)  # type: ignore[arg-type]
        for p in providers:  # warm the sandbox's synthetic data and the validators (not timed)
            regie.collect(p, timeout=120)
        every = _timed_collection(network, app, client, "eerste-keer@voorbeeld.nl", clock, timeline, True,
                                  providers)
        fhir_only = _timed_collection(network, app, client, "tweede@voorbeeld.nl", clock, timeline, False,
                                      providers)
        app.state.context.db.dispose()
        return {"every": every, "fhir_only": fhir_only}


def ingest_bench(root: Path, resources: int = 10_000) -> tuple[float, float]:
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
    }, "search": {"mode": "match"}} for i in range(resources)]
    body = orjson.dumps({"resourceType": "Bundle", "type": "searchset", "total": resources, "entry": entries})
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
    assert outcome.ok and outcome.new == resources, outcome.error
    context.db.dispose()
    return took, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="collection runs (each with a fresh sandbox)")
    parser.add_argument("--ingest-only", type=int, default=0, metavar="N",
                        help="only the 10,000-resource ingest, N times")
    parser.add_argument("--postgres", action="store_true",
                        help="collect into PostgreSQL (REGIE_TEST_POSTGRES_URL, a schema of its own)")
    parser.add_argument("--bound", type=int, default=None, metavar="N",
                        help="requests in flight per provider (default: the setting's default)")
    parser.add_argument("--providers", type=int, default=len(PROVIDERS), metavar="N",
                        help=f"collect from the first N of the {len(PROVIDERS)} providers (smaller runs)")
    parser.add_argument("--ingest-resources", type=int, default=10_000, metavar="N",
                        help="resources in the one response the ingest figure imports")
    args = parser.parse_args()
    providers = PROVIDERS[:max(1, args.providers)]
    if not args.ingest_only:
        clock, timeline = IngestClock(), Timeline()
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                both = collect_bench(Path(folder), clock, timeline, args.postgres, args.bound, providers)
            print(f"collect run {run + 1} ({'PostgreSQL' if args.postgres else 'SQLite'}): "
                  f"{len(providers)} providers, {LATENCY * 1000:.0f} ms latency")
            for label, r in (("every request", both["every"]), ("FHIR only", both["fhir_only"])):
                print(f"  [{label}] {r['requests']} FHIR requests, load {r['load']:.1f}: total after consent "
                      f"{r['total']:.2f} s; slowest single chain ({r['chain_requests']} requests) alone "
                      f"{r['alone']:.2f} s: ratio {r['total'] / r['alone']:.2f} (target < 3)")
                print(f"    rounds {r['rounds']} ({r['deepest']}) against the chain's {r['chain_requests']}: "
                      f"{r['rounds'] / r['chain_requests']:.2f}; at most {r['in_flight']} requests in flight "
                      f"at one provider")
                # Regie's CPU time is what the run costs on one free core: the event loop
                # and the ingest share the GIL, so a quiet machine needs at least this.
                print(f"    ingest busy {r['ingest']:.2f} s over {r['ingest_calls']} responses; CPU time of "
                      f"Regie's process {r['cpu']:.2f} s ({r['cpu'] / r['alone']:.2f} x the chain), "
                      f"of the sandbox's {r['sandbox_cpu']:.2f} s")
    runs = max(1, args.ingest_only)
    times, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            took, cpu = ingest_bench(Path(folder), args.ingest_resources)
        times.append(took)
        cpus.append(cpu)
    print(f"ingest: one response of {args.ingest_resources:,} resources, median of {runs}: "
          f"{statistics.median(times):.2f} s "
          f"(target < 2 s; runs: {', '.join(f'{t:.2f}' for t in times)}; load {os.getloadavg()[0]:.1f}); "
          f"CPU time median {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
