"""Kill -9 an import at random (seeded) points, then check the record is consistent.

Shared by the suite (tests/reliability/test_crash_loop.py, a handful of kills) and the long
run (scripts/reliability/crash_loop.py, 50 and more). Each attempt imports a random mix of
new and already imported files in a child process and kills it (SIGKILL) after a random delay
within the time a whole import takes. After every kill:

- every file is either fully present (its source holds all its resources) or absent;
- nothing that was complete before the kill is gone;
- no orphan rows (resources without a source, sources without resources, links and old
  versions without their resource) and, on SQLite, ``PRAGMA integrity_check`` is ``ok``.

At the end the record (``regie record --json``) equals a clean import of exactly the files
that completed, into a second account.

``mode="fork"`` forks the already started Python process (fast: the suite); ``mode="cli"``
starts the real ``regie import`` command (the script's default).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

from regie.config import Settings
from regie.fhir import FhirVersion

PASSWORD = "paars-fietsje-wandelt-42"
OWNER = "crash@voorbeeld.nl"
CLEAN = "schoon@voorbeeld.nl"


@dataclass
class CrashRun:
    """Figures of one crash loop (written as JSON for docs/reliability.md)."""

    database: str
    mode: str
    seed: int
    attempts: int = 0
    kills: int = 0  # the process was still running when it was killed
    survived: int = 0  # kills after which every check passed
    finished_before_kill: int = 0
    files: int = 0
    files_complete: int = 0
    resources: int = 0
    data_lost: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": "crash_loop", **asdict(self)}


def make_files(folder: Path, count: int, observations: int) -> dict[str, int]:
    """``count`` FHIR STU3 Bundles of one Patient and ``observations`` Observations each, with
    resource ids of their own; returns file name -> resources it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, int] = {}
    for f in range(count):
        # The profile says STU3, so the upload page (which asks no version) reads them too.
        entries = [{"resource": {"resourceType": "Patient", "id": "pat", "gender": "female",
                                 "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]}}}]
        for i in range(observations):
            entries.append({"resource": {
                "resourceType": "Observation", "id": f"f{f}-o{i}", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                "subject": {"reference": "Patient/pat"},
                "effectiveDateTime": f"2020-{1 + f % 12:02d}-{1 + i % 28:02d}T10:00:00+01:00",
                "valueQuantity": {"value": 50 + (f + i) % 60, "unit": "/min",
                                  "system": "http://unitsofmeasure.org", "code": "/min"}}})
        name = f"file-{f:04d}.json"
        (folder / name).write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
        expected[name] = 1 + observations
    return expected


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_")}
    env.update({
        "REGIE_HOME": str(settings.home), "REGIE_DATABASE_URL": settings.database_url,
        "REGIE_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "REGIE_ARGON2_MEMORY_COST_KIB": str(settings.argon2_memory_cost_kib),
        "REGIE_ARGON2_PARALLELISM": str(settings.argon2_parallelism), "REGIE_LOG_LEVEL": "WARNING",
    })
    return env


def prepare(settings: Settings) -> None:
    """An up-to-date database with two enrolled accounts: the one killed, and the clean one."""
    from regie.cli._common import open_accounts
    from regie.cli.user import create_enrolled_user
    from regie.store.db import Database
    from regie.store.migrate import upgrade

    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    accounts = open_accounts(settings)
    for email in (OWNER, CLEAN):
        create_enrolled_user(accounts, email, PASSWORD)
    accounts.db.dispose()


def _service(settings: Settings, email: str):
    from regie.cli._common import open_accounts
    from regie.store.ingest import RecordService

    accounts = open_accounts(settings)
    with accounts.db.session() as session:
        user = accounts.by_email(session, email)
    service = RecordService(accounts.db, accounts.keyring)
    return accounts, service, service.keys(user)


def import_into(settings: Settings, email: str, paths: list[Path]) -> None:
    """What `regie import --fhir-version stu3` does, in this process."""
    accounts, service, keys = _service(settings, email)
    try:
        service.import_paths(keys, paths, channel="cli", fhir_version=FhirVersion.STU3)
    finally:
        accounts.db.dispose()


def summary(settings: Settings, email: str) -> dict:
    """What `regie record --json` prints."""
    accounts, service, keys = _service(settings, email)
    try:
        with service.open(keys) as repo:
            return json.loads(orjson.dumps(repo.summary()))
    finally:
        accounts.db.dispose()


ORPHANS = {
    "resources without their source": """SELECT count(*) FROM record_resources r WHERE NOT EXISTS
        (SELECT 1 FROM record_sources s WHERE s.user_id = r.user_id AND s.id = r.source_id)""",
    "sources without resources": """SELECT count(*) FROM record_sources s WHERE NOT EXISTS
        (SELECT 1 FROM record_resources r WHERE r.user_id = s.user_id AND r.source_id = s.id)""",
    "links without their resource": """SELECT count(*) FROM record_links l WHERE NOT EXISTS
        (SELECT 1 FROM record_resources r WHERE r.user_id = l.user_id AND r.id = l.row_id)""",
    "versions without their resource": """SELECT count(*) FROM record_resource_versions v WHERE NOT EXISTS
        (SELECT 1 FROM record_resources r WHERE r.user_id = v.user_id AND r.id = v.resource_id)""",
}


def storage_problems(database_url: str) -> list[str]:
    """Orphan rows, and (SQLite) what ``PRAGMA integrity_check`` finds."""
    engine = create_engine(database_url)
    problems: list[str] = []
    try:
        with engine.connect() as connection:
            for what, query in ORPHANS.items():
                count = connection.execute(text(query)).scalar_one()
                if count:
                    problems.append(f"{count} {what}")
            if engine.dialect.name == "sqlite":
                rows = [r[0] for r in connection.execute(text("PRAGMA integrity_check"))]
                if rows != ["ok"]:
                    problems.append(f"integrity_check: {rows[:5]}")
    finally:
        engine.dispose()
    return problems


def _child(settings_json: str, paths: list[str]) -> None:
    import_into(Settings.model_validate_json(settings_json), OWNER, [Path(p) for p in paths])


class Importer:
    """Starts one import of ``paths`` for the killed account, as a fork or as `regie import`."""

    def __init__(self, settings: Settings, mode: str) -> None:
        self.settings, self.mode = settings, mode
        self.env = environment(settings)

    def start(self, paths: list[Path]):
        if self.mode == "fork":
            process = multiprocessing.get_context("fork").Process(
                target=_child, args=(self.settings.model_dump_json(), [str(p) for p in paths]))
            process.start()
            return process
        return subprocess.Popen(
            [sys.executable, "-m", "regie.cli.main", "import", "--user", OWNER, "--fhir-version", "stu3",
             *map(str, paths)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def alive(process) -> bool:
        return process.is_alive() if isinstance(process, multiprocessing.process.BaseProcess) \
            else process.poll() is None

    @staticmethod
    def kill(process) -> None:
        os.kill(process.pid, signal.SIGKILL)
        if isinstance(process, multiprocessing.process.BaseProcess):
            process.join(30)
        else:
            process.wait(30)

    def wait(self, process) -> None:
        if isinstance(process, multiprocessing.process.BaseProcess):
            process.join(600)
        else:
            process.wait(600)


def crash_loop(settings: Settings, folder: Path, *, kills: int, seed: int, mode: str = "fork",
               files: int = 30, observations: int = 20, per_attempt: int = 12,
               max_attempts: int | None = None, log=lambda line: None) -> CrashRun:
    """Kill imports until ``kills`` landed while the import ran; check after each one."""
    rng = random.Random(seed)
    started = time.monotonic()
    run = CrashRun(database=settings.database_url.split(":")[0].split("+")[0], mode=mode, seed=seed)
    expected = make_files(folder, files, observations)
    run.files = files
    prepare(settings)
    importer = Importer(settings, mode)
    names = sorted(expected)

    # How long a whole import of ``per_attempt`` files takes (start-up included): the kill
    # delays are spread over it. These files are the data stored before: never to be lost.
    t0 = time.monotonic()
    process = importer.start([folder / n for n in names[:per_attempt]])
    importer.wait(process)
    span = time.monotonic() - t0
    complete: dict[str, int] = {}
    max_attempts = max_attempts or kills * 4
    while run.kills < kills and run.attempts < max_attempts:
        run.attempts += 1
        chosen = rng.sample(names, per_attempt)
        delay = rng.uniform(0.05, span * 1.1)
        process = importer.start([folder / n for n in chosen])
        time.sleep(delay)
        killed = importer.alive(process)
        if killed:
            importer.kill(process)
            run.kills += 1
        else:
            run.finished_before_kill += 1
            importer.wait(process)
        problems = _check(settings, expected, complete)
        run.problems += [f"attempt {run.attempts} (kill after {delay:.2f} s): {p}" for p in problems]
        run.data_lost += sum(1 for p in problems if "data lost" in p or "half imported" in p)
        if killed and not problems:
            run.survived += 1
        log(f"attempt {run.attempts}: {'killed' if killed else 'finished'} after {delay:.2f} s, "
            f"complete files {len(complete)}, problems {len(problems)}")
    # The end: the record equals a clean import of exactly the files that completed.
    import_into(settings, CLEAN, [folder / n for n in sorted(complete)])
    mine, clean = summary(settings, OWNER), summary(settings, CLEAN)
    run.files_complete, run.resources = len(complete), mine["resources"]
    if mine != clean:
        run.problems.append(f"the record differs from a clean import of the complete files: {mine} != {clean}")
    run.seconds = round(time.monotonic() - started, 1)
    return run


def _check(settings: Settings, expected: dict[str, int], complete: dict[str, int]) -> list[str]:
    """The checks after one kill; ``complete`` grows with the files now fully present."""
    problems = storage_problems(settings.database_url)
    sources = summary(settings, OWNER)["sources"]
    for name, count in sources.items():
        if name not in expected:
            problems.append(f"unknown source {name}")
        elif count != expected[name]:
            problems.append(f"{name} half imported: {count} of {expected[name]} resources")
    for name, count in complete.items():
        if sources.get(name) != count:
            problems.append(f"{name} was complete, now {sources.get(name, 0)} of {count}: data lost")
    for name, count in sources.items():
        if expected.get(name) == count:
            complete[name] = count
    return problems
