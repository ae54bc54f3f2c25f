"""Record viewer render times with one user holding many record items (default 50,000).

    .venv/bin/python bench/bench_viewer.py [items] [--rounds N] [--database-url URL]
    .venv/bin/python bench/bench_viewer.py 50000 --rounds 20 --compare-index

``--compare-index`` times only the pages the encrypted search index serves (trend, search)
with and without it, alternately in the same run (without: the user is marked as waiting
for the reindex, so the pages read every row as before), in wall time and CPU time.
``--index-cost ROUNDS`` instead imports ``items`` resources for a fresh user ROUNDS times
with and without writing the search index, alternately, and reports the CPU seconds.

Builds a record through the normal import path (FHIR JSON bundles of 500 resources: lab
results, vital signs, medication, journal lines, encounters, problems, vaccinations,
allergies, documents; about 1 % of the lab results withdrawn as entered-in-error; 1 in 250
lab results is a rarer test, albumin), then renders each page ``rounds`` times in-process on one worker
(TestClient, the whole ASGI stack: session, audit writes, templates) and reports p50/p95
and the ratio to a trivial signed-in page measured in the same run.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from regie.fhir import FhirVersion  # noqa: E402
from regie.store.db import Database  # noqa: E402
from regie.store.ingest import RecordService  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from regie.web.app import create_app  # noqa: E402
from tests.conftest import fast_settings  # noqa: E402
from tests.web.helpers import Browser  # noqa: E402

LABS = [("59261-8", "HbA1c", "mmol/mol", 20, 42, 35, 70), ("14749-6", "Glucose", "mmol/L", 4, 7.8, 4, 12),
        ("718-7", "Hemoglobine", "mmol/L", 7.5, 10, 6, 11), ("2160-0", "Kreatinine", "umol/L", 50, 90, 40, 140)]
RARE_LAB = ("1751-7", "Albumine", "g/L", 35, 50, 25, 60)
VITALS = [("29463-7", "Lichaamsgewicht", "kg", 60, 95), ("8867-4", "Hartfrequentie", "/min", 55, 100)]


def _day(rng: random.Random) -> date:
    return date(2024, 6, 15) - timedelta(days=rng.randrange(0, 365 * 15))


def resource(n: int, rng: random.Random) -> dict:
    day = _day(rng).isoformat()
    kind = rng.random()
    subject = {"reference": "Patient/bench", "display": "Bench Patiënt"}
    if kind < 0.40:
        code, name, unit, low, high, vmin, vmax = rng.choice(LABS)
        if n % 250 == 0:  # a test done now and then (~80 values at 50,000 items): a realistic trend
            code, name, unit, low, high, vmin, vmax = RARE_LAB
        # About 1 in 100 withdrawn by the lab: the pages leave them out of lists and counts.
        status = "entered-in-error" if n % 97 == 0 else "final"
        return {"resourceType": "Observation", "id": f"lab-{n}", "status": status,
                "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-LaboratoryTestResult-Observation"]},
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
                "subject": subject, "effectiveDateTime": f"{day}T09:{n % 60:02d}:00+01:00",
                "valueQuantity": {"value": round(rng.uniform(vmin, vmax), 1), "unit": unit,
                                  "system": "http://unitsofmeasure.org", "code": unit},
                "referenceRange": [{"low": {"value": low, "unit": unit}, "high": {"value": high, "unit": unit}}]}
    if kind < 0.65:
        code, name, unit, vmin, vmax = rng.choice(VITALS)
        return {"resourceType": "Observation", "id": f"vs-{n}", "status": "final",
                "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
                "subject": subject, "effectiveDateTime": f"{day}T08:{n % 60:02d}:00+01:00",
                "valueQuantity": {"value": round(rng.uniform(vmin, vmax), 1), "unit": unit,
                                  "system": "http://unitsofmeasure.org", "code": unit}}
    if kind < 0.80:
        return {"resourceType": "MedicationStatement", "id": f"med-{n}", "status": rng.choice(["active", "completed"]),
                "medicationCodeableConcept": {"coding": [{"system": "urn:oid:2.16.840.1.113883.2.4.4.7",
                                                          "code": str(1000 + n % 50), "display": f"MEDICIJN {n % 50} TABLET"}]},
                "subject": subject, "effectivePeriod": {"start": day}, "taken": "y"}
    if kind < 0.90:
        return {"resourceType": "Observation", "id": f"jr-{n}", "status": "final",
                "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/gp-JournalEntry"]},
                "code": {"coding": [{"system": "http://fhir.nl/fhir/NamingSystem/journaalregeltypen",
                                     "code": "S", "display": "Subjectief"}]},
                "subject": subject, "effectiveDateTime": day, "valueString": f"Klachten sinds een week ({n})."}
    if kind < 0.95:
        return {"resourceType": "Encounter", "id": f"enc-{n}", "status": "finished", "subject": subject,
                "class": {"system": "http://hl7.org/fhir/v3/ActCode", "code": "AMB"},
                "period": {"start": day, "end": day}}
    if kind < 0.97:
        return {"resourceType": "Condition", "id": f"cond-{n}", "subject": subject,
                "clinicalStatus": rng.choice(["active", "resolved"]), "verificationStatus": "confirmed",
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icpc-1-nl", "code": "K86", "display": "Hypertensie"}]},
                "onsetDateTime": day}
    if kind < 0.98:
        return {"resourceType": "Immunization", "id": f"imm-{n}", "status": "completed", "notGiven": False,
                "primarySource": True, "patient": subject, "date": day,
                "vaccineCode": {"coding": [{"system": "http://snomed.info/sct", "code": "836379009", "display": "HPV-vaccin"}]}}
    if kind < 0.99:
        return {"resourceType": "AllergyIntolerance", "id": f"al-{n}", "patient": subject, "assertedDate": day,
                "clinicalStatus": "active", "verificationStatus": "confirmed",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91935009", "display": "Pinda"}]}}
    return {"resourceType": "DocumentReference", "id": f"doc-{n}", "status": "current", "subject": subject,
            "type": {"coding": [{"system": "http://loinc.org", "code": "34797-1", "display": "Consult note"}]},
            "indexed": f"{day}T10:00:00+01:00",
            "content": [{"attachment": {"contentType": "application/pdf", "title": f"Brief {n}"}}]}


def build(client: TestClient, app, email: str, items: int) -> float:
    rng = random.Random(4)
    context = app.state.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    keys = service.keys(user)
    started = time.perf_counter()
    for start in range(0, items, 500):
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": resource(n, rng)} for n in range(start, min(items, start + 500))]}
        source = ("Huisarts", "Ziekenhuis", "Apotheek", "Zelf gemeten")[(start // 500) % 4]
        outcome = service.import_bytes(keys, orjson.dumps(bundle), name=f"bench-{start}.json", source=source,
                                       fhir_version=FhirVersion.STU3, channel="cli")
        if not outcome.ok:
            raise SystemExit(outcome.error)
    return time.perf_counter() - started


def measure(client: TestClient, path: str, rounds: int) -> list[float]:
    client.get(path)  # warm up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times


def measure_cpu(client: TestClient, path: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one request; the app runs in this process (TestClient)."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return time.perf_counter() - wall, time.process_time() - cpu


def compare_index(client: TestClient, app, email: str, pages: list[str], rounds: int) -> None:
    from regie.store.record_models import RecordReindexPending

    db = app.state.context.db
    with db.session() as session:
        user_id = app.state.context.accounts.by_email(session, email).id

    def use_index(on: bool) -> None:
        with db.session() as session:
            session.query(RecordReindexPending).filter_by(user_id=user_id).delete()
            if not on:
                session.add(RecordReindexPending(user_id=user_id))

    print("\n| Page | without index: p50 / p95 wall, mean CPU | with index: p50 / p95 wall, mean CPU | CPU ratio |")
    print("|---|---|---|---|")
    for path in pages:
        times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for on in (False, True):  # warm up both
            use_index(on)
            measure_cpu(client, path)
        for _ in range(rounds):
            for on in (False, True):  # alternately, so load changes hit both alike
                use_index(on)
                times[on].append(measure_cpu(client, path))
        use_index(True)
        cells = []
        for on in (False, True):
            wall = [w for w, _ in times[on]]
            cells.append(f"{statistics.median(wall) * 1000:,.1f} / {p95(wall) * 1000:,.1f} ms, "
                         f"{statistics.mean(c for _, c in times[on]) * 1000:,.1f} ms")
        ratio = statistics.mean(c for _, c in times[False]) / statistics.mean(c for _, c in times[True])
        print(f"| `{path}` | {cells[0]} | {cells[1]} | {ratio:.1f}x |")


def index_cost(items: int, rounds: int) -> None:
    """Import CPU with and without the search index writes (alternately, a fresh user each)."""
    from regie.store import record as record_module
    from tests.store.record_helpers import new_user, service_for

    folder = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{folder / 'cost.sqlite3'}")
    upgrade(db.engine)
    service, keyring = service_for(db)
    rng = random.Random(4)
    bundles = [orjson.dumps({"resourceType": "Bundle", "type": "collection",
                             "entry": [{"resource": resource(n, rng)} for n in range(s, min(items, s + 500))]})
               for s in range(0, items, 500)]
    real_add, real_entry = record_module.RecordRepository._add_search_segment, record_module.entry_for
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for on in (False, True):
            record_module.RecordRepository._add_search_segment = real_add if on else (lambda self, e, now: None)
            record_module.entry_for = real_entry if on else (lambda row_id, items: None)
            keys = service.keys(new_user(db, keyring))
            started = time.process_time()
            for i, data in enumerate(bundles):
                outcome = service.import_bytes(keys, data, name=f"b{i}.json", fhir_version=FhirVersion.STU3,
                                               channel="cli")
                assert outcome.ok, outcome.error
            cpu[on].append(time.process_time() - started)
    record_module.RecordRepository._add_search_segment, record_module.entry_for = real_add, real_entry
    for on in (False, True):
        print(f"search index {'written' if on else 'not written'}: {statistics.mean(cpu[on]):.2f} CPU s mean, "
              f"{items / min(cpu[on]):,.0f} resources per CPU s (best of {rounds})")
    print(f"cost of the index: {sum(cpu[True]) / sum(cpu[False]) - 1:+.1%} CPU")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("items", nargs="?", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url")
    parser.add_argument("--index-cost", type=int, metavar="ROUNDS",
                        help="import CPU with and without writing the search index, alternately")
    parser.add_argument("--compare-index", action="store_true",
                        help="time the trend and search pages with and without the search index")
    args = parser.parse_args()
    if args.index_cost:
        return index_cost(args.items, args.index_cost)
    folder = Path(tempfile.mkdtemp())
    home = folder / "home"
    home.mkdir()
    settings = fast_settings(home, args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}")
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost") as client:
        browser = Browser(client, app.state.context)
        account = browser.register()
        seconds = build(client, app, account.email, args.items)
        print(f"built {args.items} items in {seconds:.0f} s")
        if args.compare_index:
            compare_index(client, app, account.email, ["/results/1751-7", "/results/59261-8",
                                                       "/results/59261-8?compare=14749-6", "/search?q=bloeddruk",
                                                       "/search?q=albumine", "/search?q=hba1c"], args.rounds)
            return
        pages = ["/record/upload", "/", "/record/results", "/record/medication", "/record/problems", "/timeline",
                 "/timeline?period=2020", "/results/59261-8", "/search?q=bloeddruk"]
        results = {path: measure(client, path, args.rounds) for path in pages}
    trivial = p95(results["/record/upload"])
    print(f"\n| Page | p50 | p95 | p95 / trivial page |\n|---|---|---|---|")
    for path, times in results.items():
        print(f"| `{path}` | {statistics.median(times) * 1000:.1f} ms | {p95(times) * 1000:.1f} ms | "
              f"{p95(times) / trivial:.1f}x |")


if __name__ == "__main__":
    main()
