"""One patient's collected responses are stored one at a time across processes
(regie.collect.writelock): a PostgreSQL advisory lock per user, on SQLite a lock on the
whole database (it has one writer anyway)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import orjson
from sqlalchemy import func, select

from regie.collect.writelock import IngestLock
from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.ingest import RecordService
from regie.store.migrate import upgrade
from regie.store.models import User
from regie.store.record_models import RecordResource
from regie.web.context import AppContext
from tests.collect.harness import api_token
from tests.conftest import fast_settings

HOLD_SECONDS = 1.0
CHILD = textwrap.dedent("""
    import sys, time
    from regie.collect.writelock import IngestLock
    from regie.store.db import Database
    db = Database(sys.argv[1])
    with IngestLock(db).hold(sys.argv[2]):
        print("held", flush=True)
        time.sleep(float(sys.argv[3]))
    db.dispose()
""")


def _waited(db: Database, user_id: str) -> float:
    started = time.monotonic()
    with IngestLock(db).hold(user_id):
        return time.monotonic() - started


def test_another_process_waits_for_the_lock(database_url: str) -> None:
    db = Database(database_url)
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, "patient-a", str(HOLD_SECONDS)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        held_at = time.monotonic()
        waited = _waited(db, "patient-a")
        # The other process held it for HOLD_SECONDS: this one got it only after that.
        assert time.monotonic() - held_at >= HOLD_SECONDS * 0.8 and waited >= HOLD_SECONDS * 0.5, waited
    finally:
        child.wait(timeout=10)
    assert child.returncode == 0
    # A process that dies releases it (PostgreSQL: with its connection; SQLite: flock).
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, "patient-a", "60"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    child.kill()
    child.wait(timeout=10)
    assert _waited(db, "patient-a") < 5
    db.dispose()


def test_other_patients_do_not_wait_on_postgresql(database_url: str) -> None:
    db = Database(database_url)
    if db.engine.dialect.name != "postgresql":
        db.dispose()
        return  # SQLite: one writer for everyone, by design (see the module)
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, "patient-a", str(HOLD_SECONDS)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        assert _waited(db, "patient-b") < HOLD_SECONDS / 2
    finally:
        child.wait(timeout=10)
    db.dispose()


def _bundle(run: int) -> bytes:
    """Responses that overlap: every one carries the same Patient and Medication."""
    shared = [{"resourceType": "Patient", "id": "p1", "name": [{"family": "Jansen"}]},
              {"resourceType": "Medication", "id": "m1",
               "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.2.4.4.10", "code": "1234"}]}}]
    own = [{"resourceType": "Observation", "id": f"o{run}-{i}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-02",
            "valueQuantity": {"value": i, "unit": "mmol/L"}} for i in range(20)]
    return orjson.dumps({"resourceType": "Bundle", "type": "searchset",
                         "entry": [{"resource": r} for r in shared + own]})


def test_overlapping_responses_from_two_processes_are_stored_once(database_url: str, tmp_path: Path) -> None:
    """Two "processes" (own engines and connection pools) store overlapping responses of
    one patient at the same moment, each holding the lock: none fails, nothing doubles."""
    settings = fast_settings(tmp_path, database_url)
    upgrade(Database(database_url).engine)
    context = AppContext.build(settings)
    user_id, _ = api_token(context)
    with context.db.session() as session:
        user = session.get(User, user_id)
    engines = [Database(database_url) for _ in range(2)]
    outcomes, errors = [], []

    def worker(db: Database, offset: int) -> None:
        service, lock = RecordService(db, context.accounts.keyring), IngestLock(db)
        keys = service.keys(user)
        try:
            for run in range(offset, offset + 4):
                with lock.hold(user_id):
                    outcomes.append(service.import_bytes(
                        keys, _bundle(run), name=f"run {run}", source="Huisarts · Basisgegevens",
                        channel="collect", fhir_version=FhirVersion.STU3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(db, i * 4)) for i, db in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(outcomes) == 8 and all(o.ok for o in outcomes), [o.error for o in outcomes]
    with context.db.session() as session:
        count = session.scalar(select(func.count()).select_from(RecordResource)
                               .where(RecordResource.user_id == user_id))
    assert count == 2 + 8 * 20  # one Patient, one Medication, every Observation once
    for db in engines:
        db.dispose()
    context.db.dispose()


HOLD_UNTIL_TOLD = textwrap.dedent("""
    import sys
    from regie.collect.writelock import IngestLock
    from regie.store.db import Database
    db = Database(sys.argv[1])
    with IngestLock(db).hold(sys.argv[2]):
        print("held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    db.dispose()
""")


def test_a_collection_waits_for_the_patients_lock_held_elsewhere(regie) -> None:
    """The collector takes the lock around each response it stores: while another process
    holds the patient's lock, nothing of the collection is stored; then all of it is."""
    from tests.collect.harness import GP, consent, wait_finished

    url = regie.app.state.context.settings.resolved_database_url
    child = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_TOLD, url, regie.user_id],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        started = regie.start(GP, ["904"])
        regie.callback(consent(started["authorization_url"]))
        deadline = time.monotonic() + 30
        while regie.get(f"/api/v1/collections/{started['id']}").json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.5)  # the responses have arrived (the sandbox answers at once) and wait
        view = regie.get(f"/api/v1/collections/{started['id']}").json()
        assert view["state"] == "running", view
        assert regie.get("/api/v1/record/summary").json()["resources"] == 0
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
    view = wait_finished(regie.get, started["id"])
    assert view["state"] == "done" and view["receipt"]["totals"]["new"] > 0, view
    assert regie.get("/api/v1/record/summary").json()["resources"] > 0
