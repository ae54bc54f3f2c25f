"""Kill -9 the web process and the worker at seeded random points during an import (the
upload page), a collection (against the sandbox), an export (the download), an account
deletion (the page; the worker finishing deletions) and a scheduled re-collect (a
long-lived consent's refresh token, run by the worker as a job), then restart them and check.

Shared by the suite (tests/reliability/test_process_crashes.py, about ten kills) and the long
run (scripts/reliability/process_crash_loop.py, 50 and more). ``mode="fork"`` forks the
already started Python process for each start of `regie serve`'s app and of the worker (fast);
``mode="cli"`` starts the real `regie serve` and `regie worker` commands.

A kill "landed" when the request (or the job) was still running when the process died.
After every attempt, with the processes started again:

- every uploaded file is fully present or absent, nothing complete before is gone;
- stored resources equal the sum the import audit entries report (every file and every
  collected response is stored in one transaction with its audit entry);
- no orphan rows; on SQLite ``PRAGMA integrity_check`` is ``ok``;
- a killed collection ends ``interrupted`` (with "try again"), ``done`` or ``failed``, never
  stays running; a killed job goes back to the queue and is run to the end (or is failed);
- a killed scheduled re-collect: its job runs again to the end, its collection ends ``done``
  or ``interrupted``/``failed`` with a receipt, and the consent stays usable (kept, not
  refused; at the end one more re-collect with it runs to ``done``);
- a killed account deletion leaves the account either whole (its record as before) or
  without its key, and then the worker's clean-up removes every row that names it;
- the other account's record is never touched.

At the end the owner's uploaded files equal a clean import of exactly the files that
completed, into a second account.
"""
from __future__ import annotations

import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

from regie.config import Settings
from tests.processes import local_client, local_get
from tests.reliability.crashes import (
    CLEAN, OWNER, PASSWORD, import_into, make_files, storage_problems, summary,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OPERATIONS = ("import", "collect", "export", "delete", "worker", "recollect")
SERVICES = ["49", "51", "904"]
OK_STATUS = {"import": 200, "collect": 200, "export": 200, "delete": 303}


@dataclass
class ProcessCrashRun:
    """Figures of one loop (written as JSON for docs/reliability.md)."""

    database: str
    mode: str
    seed: int
    attempts: int = 0
    kills: int = 0  # landed while the request or job ran
    survived: int = 0  # kills after which every check passed
    finished_before_kill: int = 0
    by_operation: dict[str, dict[str, int]] = field(default_factory=dict)
    collections_interrupted: int = 0
    collections_never_authorized: int = 0  # killed before the callback was taken in
    jobs_resumed: int = 0
    recollects_interrupted: int = 0  # scheduled re-collects marked interrupted after a kill
    restarts: int = 0
    files: int = 0
    files_complete: int = 0
    resources: int = 0
    data_lost: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": "process_crash_loop", **asdict(self)}

    def count(self, operation: str, what: str) -> None:
        row = self.by_operation.setdefault(operation, {"attempts": 0, "kills": 0, "survived": 0})
        row[what] += 1


# --- the processes -----------------------------------------------------------------
def _serve_child(settings_json: str, port: int) -> None:
    import uvicorn

    from regie.web.app import create_app

    settings = Settings.model_validate_json(settings_json)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _worker_child(settings_json: str) -> None:
    from regie.jobs.tasks import JobContext
    from regie.jobs.worker import Worker
    from regie.store.db import Database

    settings = Settings.model_validate_json(settings_json)
    Worker(JobContext(settings, Database(settings.resolved_database_url)), schedule=False).run()


def _upgraded(settings: Settings) -> None:
    """`regie db upgrade` before each start, as a deployment does: while a long loop runs,
    the code it tests may gain a migration, which the processes would then refuse to run without."""
    from regie.store.db import Database
    from regie.store.migrate import upgrade

    database = Database(settings.resolved_database_url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()


class Process:
    """`regie serve` or `regie worker`, as a fork of this process or as the real command."""

    def __init__(self, kind: str, settings: Settings, mode: str, env: dict[str, str], port: int, log: Path) -> None:
        self.kind, self.settings, self.mode, self.env, self.port, self.log = kind, settings, mode, env, port, log
        self.handle: multiprocessing.Process | subprocess.Popen | None = None

    def start(self) -> None:
        _upgraded(self.settings)
        if self.mode == "fork":
            fork = multiprocessing.get_context("fork")
            target, args = ((_serve_child, (self.settings.model_dump_json(), self.port)) if self.kind == "web"
                            else (_worker_child, (self.settings.model_dump_json(),)))
            self.handle = fork.Process(target=target, args=args, daemon=True)
            self.handle.start()
        else:
            command = ([sys.executable, "-m", "regie.cli.main", "serve", "--host", "127.0.0.1", "--port",
                        str(self.port)] if self.kind == "web" else [sys.executable, "-m", "regie.cli.main", "worker"])
            with self.log.open("ab") as out:
                self.handle = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if self.kind == "web":
            self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the web process stopped: {self.log.read_text()[-2000:] if self.log.exists() else ''}")
            try:
                if local_get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the web process did not answer")

    def alive(self) -> bool:
        if self.handle is None:
            return False
        if isinstance(self.handle, subprocess.Popen):
            return self.handle.poll() is None
        return self.handle.is_alive()

    def kill(self) -> None:
        if self.handle is None:
            return
        try:
            os.kill(self.handle.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if isinstance(self.handle, subprocess.Popen):
            self.handle.wait(30)
        else:
            self.handle.join(30)
        self.handle = None

    def stop(self) -> None:
        if self.handle is None:
            return
        os.kill(self.handle.pid, signal.SIGTERM)
        if isinstance(self.handle, subprocess.Popen):
            try:
                self.handle.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self.handle.join(30)
            if self.handle.is_alive():
                self.kill()
        self.handle = None


class Request:
    """One HTTP request in a thread: the kill lands while it runs, or after."""

    def __init__(self, call) -> None:
        self.done = threading.Event()
        self.finished_at = 0.0
        self.status: int | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call) -> None:
        try:
            self.status = call()
        except httpx.HTTPError as exc:
            self.error = type(exc).__name__
        finally:
            self.finished_at = time.monotonic()
            self.done.set()


# --- the world ------------------------------------------------------------------------
class World:
    """The sandbox, the database, the two accounts, Regie's web process and its worker."""

    def __init__(self, stack: ExitStack, folder: Path, database_url: str, mode: str) -> None:
        from regie.accounts import tokens
        from regie.cli._common import open_accounts
        from regie.cli.user import create_enrolled_user
        from tests.collect.harness import Network, regie_settings
        from tests.processes import environment
        from tests.sandbox.live import free_port

        self.folder = folder
        self.network = Network(folder / "sandbox", stack)
        home = folder / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        self.port = free_port()
        self.settings = regie_settings(
            home, database_url, self.network, f"http://localhost:{self.port}",
            collect_concurrency_per_provider=2, collect_heartbeat_seconds=0.2, collect_stale_after_seconds=1.0,
            jobs_in_web=False, jobs_poll_seconds=0.1, jobs_stale_after_seconds=1.5, jobs_grace_seconds=2.0,
            step_up_minutes=120, log_level="WARNING")
        accounts = open_accounts(self.settings)
        self.owner = create_enrolled_user(accounts, OWNER, PASSWORD)
        create_enrolled_user(accounts, CLEAN, PASSWORD)
        with accounts.db.session() as session:
            self.token = tokens.create(session, self.owner["id"], "crash loop", _client()).token
        accounts.db.dispose()
        env = environment(self.settings)
        self.web = Process("web", self.settings, mode, env, self.port, folder / "serve.log")
        self.worker = Process("worker", self.settings, mode, env, self.port, folder / "worker.log")
        stack.callback(self.web.stop)
        stack.callback(self.worker.stop)
        base = f"http://127.0.0.1:{self.port}"
        self.api = stack.enter_context(local_client(base_url=base, timeout=60,
                                                    headers={"Authorization": f"Bearer {self.token}"}))
        self.page = stack.enter_context(local_client(base_url=base, timeout=60))
        self.leavers = 0

    def start(self) -> None:
        self.web.start()
        self.worker.start()

    def sign_in(self, client: httpx.Client, email: str, codes: list[str]) -> None:
        """Password, a recovery code (no TOTP step to wait for), then the step-up with another."""
        first = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
        assert first.headers.get("location") == "/login/second-factor", first.text[:300]
        done = client.post("/login/recovery", data={"code": codes.pop(), "csrf_token": _csrf(client, "/login/recovery")})
        assert done.status_code == 303 and "/login" not in done.headers.get("location", ""), done.text[:300]
        confirmed = client.post("/account/confirm", data={"code": codes.pop(), "next": "/account",
                                                          "csrf_token": _csrf(client, "/account/confirm")})
        assert confirmed.status_code == 303, confirmed.text[:300]

    def stored_equals_audited(self) -> tuple[int, int]:
        """(stored resources, sum of the import audit entries) of the owner."""
        written, cursor = 0, None
        while True:
            page = self.api.get("/api/v1/audit", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
            for entry in page["entries"]:
                if entry["action"] == "import":
                    written += int(entry["target"].split()[0])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return self.api.get("/api/v1/record/summary").json()["resources"], written


def _client():
    from regie.accounts.activity import ClientInfo

    return ClientInfo(ip="", user_agent="crash loop")


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


# --- the operations: each returns the request (or job) to kill during ------------------------
def start_upload(world: World, folder: Path, names: list[str]) -> Request:
    token = _csrf(world.page, "/record/upload")
    files = [("files", (name, (folder / name).read_bytes(), "application/fhir+json")) for name in names]
    return Request(lambda: world.page.post("/record/upload", data={"csrf_token": token}, files=files).status_code)


def start_collection(world: World) -> tuple[Request, str]:
    from tests.collect.harness import GP, consent

    started = world.api.post("/api/v1/collections", json={"provider": GP, "services": SERVICES})
    assert started.status_code == 201, started.text
    back = httpx.URL(consent(started.json()["authorization_url"]))
    cid = started.json()["id"]

    def callback_then_wait() -> int:
        answer = world.api.get(f"{back.path}?{back.query.decode()}")
        assert answer.status_code == 200, answer.text[:300]
        # Until it has ended: "queued" too (waiting for a slot, or between the callback and its
        # start), or a kill then counts as after the end and the restart does not wait for the
        # collection's heartbeat to go stale, which the start-up sweep needs.
        while world.api.get(f"/api/v1/collections/{cid}").json()["state"] in ("pending", "queued", "running"):
            time.sleep(0.05)
        return 200
    return Request(callback_then_wait), cid


def start_export(world: World) -> Request:
    token = _csrf(world.page, "/export")

    def download() -> int:
        with world.page.stream("POST", "/export/download", data={"csrf_token": token, "format": "archive"}) as r:
            for _ in r.iter_bytes():
                pass
            return r.status_code
    return Request(download)


def leaver_file(folder: Path, observations: int) -> Path:
    """One file with many resources: deleting its account takes long enough to be killed."""
    make_files(folder / "leaver", 1, observations)
    return folder / "leaver" / "file-0000.json"


def make_leaver(world: World, paths: list[Path]) -> dict:
    """An account with a record, to be deleted."""
    from regie.cli._common import open_accounts
    from regie.cli.user import create_enrolled_user

    world.leavers += 1
    accounts = open_accounts(world.settings)
    leaver = create_enrolled_user(accounts, f"vertrek-{world.leavers}@voorbeeld.nl", PASSWORD)
    accounts.db.dispose()
    import_into(world.settings, leaver["email"], paths)
    return leaver


def start_deletion(world: World, leaver: dict, client: httpx.Client) -> Request:
    world.sign_in(client, leaver["email"], list(leaver["recovery_codes"]))
    token = _csrf(client, "/account/delete")
    return Request(lambda: client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD,
                                                                "understood": "1"}).status_code)


def shredded_leaver(world: World, paths: list[Path]) -> dict:
    """A deletion that stopped after its first step (key destroyed), and the clean-up job
    that finishes it: the worker's part of an account deletion."""
    from regie.jobs.queue import JobQueue
    from regie.leaving.erase import shred
    from regie.store.db import Database

    leaver = make_leaver(world, paths)
    database = Database(world.settings.resolved_database_url)
    with database.session() as session:
        shred(session, leaver["id"])
    leaver["job"] = JobQueue(database).enqueue("cleanup", max_attempts=3)
    database.dispose()
    return leaver


def rows_naming(database_url: str, user_id: str) -> int:
    """Rows in every table that names the user (the erasure's own list, from the metadata)."""
    from regie.leaving.erase import user_columns
    from regie.store.models import User

    engine = create_engine(database_url)
    total = 0
    try:
        with engine.connect() as connection:
            for table, columns in user_columns():
                condition = columns[0] == user_id
                for column in columns[1:]:
                    condition = condition | (column == user_id)
                total += connection.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
            total += connection.execute(select(func.count()).select_from(User).where(User.id == user_id)).scalar_one()
    finally:
        engine.dispose()
    return total


def key_state(database_url: str, user_id: str) -> str:
    """"whole" (the key is there), "shredded", or "gone" (no user row)."""
    from regie.leaving.erase import SHREDDED
    from regie.store.models import User

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            key = connection.execute(select(User.wrapped_data_key).where(User.id == user_id)).scalar_one_or_none()
    finally:
        engine.dispose()
    return "gone" if key is None else "shredded" if bytes(key) == SHREDDED else "whole"


def job_state(database_url: str, job_id: str) -> str | None:
    from regie.store.jobs_models import Job

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(Job.state).where(Job.id == job_id)).scalar_one_or_none()
    finally:
        engine.dispose()


def job_seconds(database_url: str, job_id: str) -> float:
    from regie.store.jobs_models import Job

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            started, finished = connection.execute(
                select(Job.started_at, Job.finished_at).where(Job.id == job_id)).one()
    finally:
        engine.dispose()
    return max(0.01, (finished - started).total_seconds()) if started and finished else 0.5


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.05)


def keep_consent(world: World) -> str:
    """A collection with long-lived consent (a refresh token from the sandbox): the consent
    the scheduled re-collects use. Its id."""
    from tests.collect.harness import GP, consent

    started = world.api.post("/api/v1/collections", json={"provider": GP, "services": SERVICES, "long_lived": True})
    assert started.status_code == 201, started.text
    back = httpx.URL(consent(started.json()["authorization_url"]))
    answer = world.api.get(f"{back.path}?{back.query.decode()}")
    assert answer.status_code == 200, answer.text[:300]
    cid = started.json()["id"]
    wait_for(lambda: world.api.get(f"/api/v1/collections/{cid}").json()["state"] not in ("pending", "queued", "running"),
             120, "the long-lived collection to end")
    [kept] = world.api.get("/api/v1/consents").json()["consents"]
    return kept["id"]


def start_recollect(world: World, consent_id: str) -> str:
    """Make the consent's re-collect due and queue its job, as the worker's fan-out does."""
    from sqlalchemy import update

    from regie.jobs.queue import JobQueue
    from regie.jobs.tasks import RECOLLECT
    from regie.store.collect_models import MedMijConsent
    from regie.store.db import Database
    from regie.store.types import utcnow

    database = Database(world.settings.resolved_database_url)
    try:
        with database.session() as session:
            session.execute(update(MedMijConsent).where(MedMijConsent.id == consent_id)
                            .values(next_run_at=utcnow() - timedelta(minutes=1)))
        job = JobQueue(database).enqueue(RECOLLECT, {"consent": consent_id, "user": world.owner["id"]},
                                         singleton=f"recollect:{consent_id}")
    finally:
        database.dispose()
    assert job is not None, "a re-collect job of this consent was still unfinished"
    return job


def scheduled_collections(world: World) -> list[dict]:
    """The owner's scheduled collections, newest first."""
    rows = world.api.get("/api/v1/collections", params={"limit": 200}).json()["collections"]
    return [row for row in rows if row["channel"] == "schedule"]


def _recollect_problems(world: World, run: ProcessCrashRun, consent_id: str, before: int) -> list[str]:
    """After the job ended: at most one new scheduled collection (none when the kill came
    before the job took the consent and its rerun found it no longer due), ended with a
    receipt; the consent kept."""
    problems: list[str] = []
    if consent_id not in {c["id"] for c in world.api.get("/api/v1/consents").json()["consents"]}:
        problems.append("the long-lived consent is gone: no longer usable")
    rows = scheduled_collections(world)
    if len(rows) > before + 1:
        problems.append(f"{len(rows) - before} scheduled collections for one due run")
    if len(rows) == before:
        return problems
    cid = rows[0]["id"]
    try:
        wait_for(lambda: world.api.get(f"/api/v1/collections/{cid}").json()["state"]
                 in ("done", "failed", "interrupted"), 30, "the scheduled collection to end")
    except AssertionError as exc:
        return problems + [f"stuck scheduled collection: {exc}"]
    view = world.api.get(f"/api/v1/collections/{cid}").json()
    if not view.get("receipt"):
        problems.append(f"a scheduled collection ended {view['state']} without a receipt")
    if view["state"] == "interrupted":
        run.recollects_interrupted += 1
        if "Probeer het opnieuw" not in (view.get("error") or {}).get("message", ""):
            problems.append(f"an interrupted re-collect without 'try again': {view.get('error')}")
    elif view["state"] == "failed":  # a refused refresh token: the consent was lost
        problems.append(f"the scheduled re-collect failed: {view.get('error')}")
    return problems


def consent_usable(world: World, consent_id: str) -> list[str]:
    """One more re-collect with the consent, not killed: it must run to "done"."""
    before = len(scheduled_collections(world))
    job = start_recollect(world, consent_id)
    wait_for(lambda: job_state(world.settings.database_url, job) in ("done", "failed"), 120, "the last re-collect")
    rows = scheduled_collections(world)
    if len(rows) != before + 1:
        return [f"the last re-collect made {len(rows) - before} collections"]
    view = world.api.get(f"/api/v1/collections/{rows[0]['id']}").json()
    return [] if view["state"] == "done" else [f"the consent is no longer usable: {view['state']} {view.get('error')}"]


# --- the loop ---------------------------------------------------------------------------
def process_crash_loop(folder: Path, database_url: str, *, kills: int, seed: int, mode: str = "fork",
                       files: int = 24, observations: int = 10, per_attempt: int = 6,
                       operations: tuple[str, ...] = OPERATIONS, max_attempts: int | None = None,
                       leaver_observations: int = 1500, latency: float = 0.15,
                       log=lambda line: None) -> ProcessCrashRun:
    rng = random.Random(seed)
    started = time.monotonic()
    run = ProcessCrashRun(database=database_url.split(":")[0].split("+")[0], mode=mode, seed=seed, files=files)
    with ExitStack() as stack:
        world = World(stack, folder, database_url, mode)
        expected = make_files(folder / "files", files, observations)
        names = sorted(expected)
        big = leaver_file(folder, leaver_observations)
        # Every FHIR request of the GP waits: a collection runs for seconds, long enough to be killed.
        world.network.fault("huisartsdevries", "*", kind="none", latency=latency)
        world.start()
        world.sign_in(world.page, OWNER, list(world.owner["recovery_codes"]))
        complete: dict[str, int] = {}
        # Spans: how long each operation takes whole (the kill delays are spread over it).
        spans: dict[str, float] = {}
        t0 = time.monotonic()
        request = start_upload(world, folder / "files", names[:per_attempt])
        request.done.wait(300)
        spans["import"] = time.monotonic() - t0
        _file_problems(world, expected, complete)  # the files stored before: never to be lost
        t0 = time.monotonic()
        request, _cid = start_collection(world)
        request.done.wait(300)
        spans["collect"] = time.monotonic() - t0
        t0 = time.monotonic()
        start_export(world).done.wait(300)
        spans["export"] = time.monotonic() - t0
        spans["delete"] = spans["worker"] = 0.5  # set by the first attempt of each
        consent_id = ""
        if "recollect" in operations:
            consent_id = keep_consent(world)
            t0 = time.monotonic()
            job = start_recollect(world, consent_id)
            wait_for(lambda: job_state(world.settings.database_url, job) in ("done", "failed"), 120,
                     "the first re-collect")
            spans["recollect"] = time.monotonic() - t0
        baseline_clean = summary(world.settings, CLEAN)
        max_attempts = max_attempts or kills * 4
        while run.kills < kills and run.attempts < max_attempts:
            run.attempts += 1
            operation = operations[(run.attempts - 1) % len(operations)]
            run.count(operation, "attempts")
            problems, killed, note = _attempt(world, run, operation, rng, spans, expected, complete, names,
                                              per_attempt, folder, big, consent_id)
            if summary(world.settings, CLEAN) != baseline_clean:
                problems.append("the other account's record changed")
            run.problems += [f"attempt {run.attempts} ({operation}{note}): {p}" for p in problems]
            run.data_lost += sum(1 for p in problems if "data lost" in p or "half imported" in p)
            if killed:
                run.kills += 1
                run.count(operation, "kills")
                if not problems:
                    run.survived += 1
                    run.count(operation, "survived")
            else:
                run.finished_before_kill += 1
            log(f"attempt {run.attempts}: {operation} {'killed' if killed else 'finished'}{note}, "
                f"problems {len(problems)}")
        if consent_id:  # after every kill, the consent still gives a whole re-collect
            run.problems += [f"the end: {p}" for p in consent_usable(world, consent_id)]
        stored, audited = world.stored_equals_audited()
        run.resources = stored
        world.web.stop()
        world.worker.stop()
    # The end: the uploaded files equal a clean import of exactly the files that completed.
    import_into(world.settings, CLEAN, [folder / "files" / n for n in sorted(complete)])
    mine, clean = summary(world.settings, OWNER), summary(world.settings, CLEAN)
    uploaded = {k: v for k, v in mine["sources"].items() if k in expected}
    if uploaded != clean["sources"]:
        run.problems.append(f"the uploaded files differ from a clean import of the complete files: "
                            f"{uploaded} != {clean['sources']}")
    run.files_complete = len(complete)
    run.seconds = round(time.monotonic() - started, 1)
    return run


def _attempt(world: World, run: ProcessCrashRun, operation: str, rng: random.Random, spans: dict[str, float],
             expected: dict[str, int], complete: dict[str, int], names: list[str], per_attempt: int,
             folder: Path, big: Path, consent_id: str = "") -> tuple[list[str], bool, str]:
    url = world.settings.database_url
    problems: list[str] = []
    leaver: dict | None = None
    before = summary(world.settings, OWNER)
    t0 = time.monotonic()
    if operation == "import":
        request = start_upload(world, folder / "files", rng.sample(names, per_attempt))
    elif operation == "collect":
        request, cid = start_collection(world)
    elif operation == "export":
        request = start_export(world)
    elif operation == "delete":
        leaver = make_leaver(world, [folder / "files" / n for n in rng.sample(names, 2)] + [big])
        fresh = local_client(base_url=f"http://127.0.0.1:{world.port}", timeout=60)
        t0 = time.monotonic()
        request = start_deletion(world, leaver, fresh)
    elif operation == "recollect":
        scheduled_before = len(scheduled_collections(world))
        job = start_recollect(world, consent_id)
        # The kill is aimed at the job's run, not at the worker's idle polling before it.
        wait_for(lambda: job_state(url, job) != "queued", 30, "the worker to claim the re-collect")
        t0 = time.monotonic()
    else:
        leaver = shredded_leaver(world, [folder / "files" / n for n in rng.sample(names, 2)] + [big])
        # The kill is aimed at the job's run, not at the worker's idle polling before it.
        wait_for(lambda: job_state(url, leaver["job"]) != "queued", 30, "the worker to claim the job")
        t0 = time.monotonic()
    delay = rng.uniform(0.0, spans[operation] * 1.1)
    time.sleep(max(0.0, delay - (time.monotonic() - t0)))
    in_worker = operation in ("worker", "recollect")
    target = world.worker if in_worker else world.web
    if in_worker:
        job_id = leaver["job"] if operation == "worker" else job
        state = job_state(url, job_id)
        running = state == "running"
        if state == "done":  # the next delays are spread over how long the job took
            spans[operation] = job_seconds(url, job_id)
    else:
        running = not request.done.is_set()
    target.kill()
    if not in_worker:
        request.done.wait(60)
        if not running:  # the next delays are spread over how long this one took
            spans[operation] = request.finished_at - t0
    note = f" after {delay:.2f} s"
    if not in_worker and not running and request.status != OK_STATUS[operation]:
        problems.append(f"the {operation} finished before the kill but answered {request.status} ({request.error})")
    if operation == "delete":
        fresh.close()
    # Restart. A collection's last heartbeat must be stale before the web process starts, so
    # it is seen as interrupted; a job's before the worker starts, so it is queued again.
    time.sleep(max(world.settings.collect_stale_after_seconds, world.settings.jobs_stale_after_seconds) + 0.1
               if operation in ("collect", "worker", "recollect") and running else 0.0)
    target.start()
    run.restarts += 1

    problems += storage_problems(url)
    problems += _file_problems(world, expected, complete)
    stored, audited = world.stored_equals_audited()
    if stored != audited:
        problems.append(f"{stored} resources stored, the import audit entries say {audited}: half imported")
    after = summary(world.settings, OWNER)
    if after["resources"] < before["resources"]:
        problems.append(f"the record shrank from {before['resources']} to {after['resources']}: data lost")
    if operation == "export" and after != before:
        problems.append("the export changed the record")
    if operation == "collect":
        try:
            # "pending": the kill came before the callback was taken in; no job was started, and
            # the authorization expires like any the patient did not finish (the page offers a retry).
            wait_for(lambda: world.api.get(f"/api/v1/collections/{cid}").json()["state"]
                     in ("done", "failed", "interrupted", "pending"), 60, "the collection to end")
            view = world.api.get(f"/api/v1/collections/{cid}").json()
            if view["state"] == "pending":
                run.collections_never_authorized += 1
            if view["state"] == "interrupted":
                run.collections_interrupted += 1
                if "Probeer het opnieuw" not in (view.get("error") or {}).get("message", ""):
                    problems.append(f"an interrupted collection without 'try again': {view.get('error')}")
        except AssertionError as exc:
            problems.append(f"stuck collection: {exc}")
    if operation == "recollect":
        try:
            wait_for(lambda: job_state(url, job) in ("done", "failed"), 60, "the killed re-collect job to end")
            if running and job_state(url, job) == "done":
                run.jobs_resumed += 1
            if job_state(url, job) == "failed":
                problems.append("the re-collect job failed")
        except AssertionError as exc:
            problems.append(f"stuck job: {exc}")
        problems += _recollect_problems(world, run, consent_id, scheduled_before)
    if leaver is not None:
        if operation == "worker" and running:
            try:
                wait_for(lambda: job_state(url, leaver["job"]) in ("done", "failed"), 60, "the killed job to end")
                if job_state(url, leaver["job"]) == "done":
                    run.jobs_resumed += 1
            except AssertionError as exc:
                problems.append(f"stuck job: {exc}")
        problems += _leaver_problems(world, leaver)
    return problems, running, note


def _leaver_problems(world: World, leaver: dict) -> list[str]:
    """Whole (its record as imported) or, once the clean-up ran, no row naming it at all."""
    from regie.jobs.queue import JobQueue
    from regie.store.db import Database

    url = world.settings.database_url
    state = key_state(url, leaver["id"])
    if state == "whole":
        mine = summary(world.settings, leaver["email"])
        return [] if mine["resources"] == sum(mine["sources"].values()) and mine["resources"] > 0 \
            else [f"a deletion killed before it started left the account incomplete: {mine}"]
    if state == "shredded":  # the worker's clean-up finishes it
        database = Database(url)
        job = JobQueue(database).enqueue("cleanup", max_attempts=3)
        database.dispose()
        try:
            wait_for(lambda: job_state(url, job) in ("done", "failed"), 60, "the clean-up job")
        except AssertionError as exc:
            return [f"stuck clean-up: {exc}"]
    left = rows_naming(url, leaver["id"])
    return [f"{left} rows still name the deleted account"] if left else []


def _file_problems(world: World, expected: dict[str, int], complete: dict[str, int]) -> list[str]:
    problems: list[str] = []
    sources = summary(world.settings, OWNER)["sources"]
    for name, count in sources.items():
        if name in expected and count != expected[name]:
            problems.append(f"{name} half imported: {count} of {expected[name]} resources")
    for name, count in complete.items():
        if sources.get(name) != count:
            problems.append(f"{name} was complete, now {sources.get(name, 0)} of {count}: data lost")
    for name, count in sources.items():
        if expected.get(name) == count:
            complete[name] = count
    return problems
