"""Collector benchmark: 5 providers, every service, 200 ms latency per FHIR request.

    .venv/bin/python bench/bench_collect.py

Reports the time from the consents' callbacks to the last receipt against the slowest
single request chain (search, then the documents it found), target < 3x; and the
ingest time of one 10,000-resource response, target < 2 s.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from regie.web.app import create_app  # noqa: E402
from tests.collect.conftest import Regie  # noqa: E402
from tests.collect.harness import Network, api_token, consent, regie_settings, wait_finished  # noqa: E402

PROVIDERS = ("huisartsdevries", "ziekenhuisrivierenland", "apotheekdemolen", "ggzdekust", "zorgcentrumdelinde")
LATENCY = 0.2


def collect_bench(root: Path) -> None:
    with ExitStack() as stack:
        network = Network(root / "sandbox", stack)
        home = root / "home"
        home.mkdir()
        settings = regie_settings(home, f"sqlite:///{root / 'regie.sqlite3'}", network, "http://localhost:8000")
        app = create_app(settings)
        client = stack.enter_context(TestClient(app, base_url="http://localhost:8000"))
        user_id, token = api_token(app.state.context)
        regie = Regie(app, client, token, user_id, network)
        for p in PROVIDERS:  # warm the sandbox's synthetic data (not timed)
            regie.collect(p)
        before = len(network.access_log())
        for p in PROVIDERS:
            network.fault(p, "*", kind="none", latency=LATENCY)
        started = [regie.start(p) for p in PROVIDERS]
        callbacks = [consent(s["authorization_url"]) for s in started]
        t0 = time.perf_counter()
        for url in callbacks:
            regie.callback(url)
        views = [wait_finished(regie.get, s["id"], 120) for s in started]
        total = time.perf_counter() - t0
        requests = len(network.access_log()) - before
        chain = 0.0
        for v in views:
            for s in v["receipt"]["services"]:
                searches = [r["seconds"] for r in s["requests"] if not r["url"].startswith("Binary/")]
                reads = [r["seconds"] for r in s["requests"] if r["url"].startswith("Binary/")]
                chain = max(chain, max(searches or [0]) + max(reads or [0]))
        assert all(v["receipt"]["outcome"] == "complete" for v in views)
        print(f"collect: {len(PROVIDERS)} providers, {requests} FHIR requests, {LATENCY*1000:.0f} ms latency each")
        nominal = 2 * LATENCY  # a search, then the documents it found
        print(f"  total after consent {total:.2f} s; slowest measured request chain {chain:.2f} s; ratio {total / chain:.2f} (target < 3)")
        print(f"  against the nominal chain (2 x {LATENCY*1000:.0f} ms) the ratio is {total / nominal:.1f}")
        app.state.context.db.dispose()


def ingest_bench(root: Path) -> float:
    import orjson

    from regie.store.db import Database
    from regie.store.ingest import RecordService
    from regie.store.migrate import upgrade
    from regie.web.context import AppContext
    from tests.conftest import fast_settings

    home = root / "home2"
    home.mkdir()
    settings = fast_settings(home, f"sqlite:///{root / 'ingest.sqlite3'}")
    upgrade(Database(settings.resolved_database_url).engine)
    context = AppContext.build(settings)
    user_id, _ = api_token(context, "bench@voorbeeld.nl")
    from regie.store.models import User
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
    from regie.fhir import FhirVersion, read_bytes
    # A running collector has read a response before: build the STU3 validators first
    # (once per process, ~0.3-0.5 s), as the collection above does in a full run.
    read_bytes(orjson.dumps(entries[0]["resource"]), name="warm-up", fhir_version=FhirVersion.STU3)
    t0 = time.perf_counter()
    outcome = service.import_bytes(keys, body, name="bench", source="Bench · Lab", channel="collect",
                                   fhir_version=FhirVersion.STU3)
    took = time.perf_counter() - t0
    assert outcome.ok and outcome.new == 10_000, outcome.error
    print(f"ingest: one response of 10,000 resources ({len(body) / 1e6:.1f} MB) in {took:.2f} s (target < 2 s)")
    context.db.dispose()
    return took


if __name__ == "__main__":
    # --ingest-only [N]: only the 10,000-resource response, N times (median reported).
    ingest_only = "--ingest-only" in sys.argv
    repeat = int(sys.argv[-1]) if ingest_only and sys.argv[-1].isdigit() else 1
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            if not ingest_only:
                collect_bench(Path(folder))
            times.append(ingest_bench(Path(folder)))
    if repeat > 1:
        print(f"ingest of the 10,000-resource response, median of {repeat}: {statistics.median(times):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
