"""Load on `regie serve` over loopback: many users, one and two web processes (issue 9,
benchmarks 3 and 5).

    .venv/bin/python bench/bench_load.py [--users 1000] [--items 2000] [--seconds 20]
        [--clients 32] [--processes 1,2] [--database-url URL]

1. Builds the data on PostgreSQL (a fresh schema, dropped at the end): ``users`` accounts
   with TOTP, each with ``items`` record items imported through the normal import path
   (bench_viewer's synthetic mix, one bundle per user).
2. For each process count: starts `regie serve --workers N` and a `regie worker`, then a
   bounded async load generator (httpx, ``clients`` concurrent virtual users) logs each
   virtual user in (password + TOTP, over HTTP) and runs two phases of ``seconds`` each:
   HTML (overview and category pages) and JSON record-item reads (/api/v1/record/items/{id}).
   Reports requests/s (total and per web process), p50/p99, errors, and the peak RSS
   (VmHWM) of each web process and of the worker.
3. The limit measured in the same run: the same generator against a trivial endpoint
   (/healthz, one query) gives what this machine, generator included, can do at most.

Argon2 runs with light parameters here (``REGIE_ARGON2_*``): log-ins are part of the mix
but their hashing cost is a deliberate, configurable delay, not a throughput figure.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pyotp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bench_viewer import resource  # noqa: E402
from regie.fhir import FhirVersion  # noqa: E402
from regie.store.db import Database  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from regie.store.record_models import RecordResource  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "paars-fietsje-wandelt-42"
PAGES = ["/", "/record/results", "/record/vital_signs", "/record/medication", "/record/journal"]
FAST_ARGON2 = {"REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "1024", "REGIE_ARGON2_PARALLELISM": "1"}


@dataclass
class Account:
    email: str
    secret: str
    items: list[str] = field(default_factory=list)


def _env(home: Path, url: str) -> dict[str, str]:
    env = {**os.environ, **FAST_ARGON2, "REGIE_HOME": str(home), "REGIE_DATABASE_URL": url,
           "REGIE_LOG_LEVEL": "WARNING", "REGIE_THROTTLE_DELAY_BASE_SECONDS": "0", "REGIE_JOBS_IN_WEB": "0",
           "REGIE_PUBLIC_URL": "http://127.0.0.1:8000", "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def build(env: dict[str, str], users: int, items: int) -> tuple[list[Account], float]:
    """Accounts (password + TOTP) and their records, through the services the CLI uses."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("REGIE_")})
    from regie.cli._common import open_accounts
    from regie.cli.user import create_enrolled_user
    from regie.store.ingest import RecordService

    accounts = open_accounts()
    service = RecordService(accounts.db, accounts.keyring)
    rng = random.Random(9)
    made: list[Account] = []
    started = time.perf_counter()
    for n in range(users):
        created = create_enrolled_user(accounts, f"load-{n}@voorbeeld.nl", PASSWORD)
        with accounts.db.session() as session:
            user = accounts.by_email(session, created["email"])
        keys = service.keys(user)
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": resource(i, rng)} for i in range(items)]}
        outcome = service.import_bytes(keys, orjson.dumps(bundle), name="load.json", source="Huisarts",
                                       fhir_version=FhirVersion.STU3, channel="cli")
        if not outcome.ok:
            raise SystemExit(outcome.error)
        with accounts.db.session() as session:
            ids = session.scalars(select(RecordResource.id).where(RecordResource.user_id == user.id)
                                  .where(RecordResource.group_id == RecordResource.id).limit(200)).all()
        made.append(Account(created["email"], created["totp_secret"], list(ids)))
        if n and n % 50 == 0:
            print(f"  {n} users built ({time.perf_counter() - started:.0f} s)", flush=True)
    accounts.db.dispose()
    return made, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The web worker processes uvicorn spawned (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Stats:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors = 0

    def summary(self, seconds: float) -> dict[str, float]:
        ordered = sorted(self.times) or [0.0]
        return {"requests": len(self.times), "rps": len(self.times) / seconds, "errors": self.errors,
                "p50_ms": statistics.median(ordered) * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000}


async def login(client: httpx.AsyncClient, account: Account) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text).group(1)
    first = await client.post("/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert first.headers.get("location") == "/login/second-factor", (first.status_code, first.text[:200])
    page = await client.get("/login/second-factor")
    token = CSRF.search(page.text).group(1)
    done = await client.post("/login/second-factor",
                             data={"code": pyotp.TOTP(account.secret).now(), "csrf_token": token})
    assert done.status_code == 303 and "/login" not in done.headers.get("location", ""), done.text[:200]


async def phase(clients: list[tuple[httpx.AsyncClient, Account]], seconds: float, kind: str) -> Stats:
    stats = Stats()
    deadline = time.perf_counter() + seconds
    rng = random.Random(kind)

    async def one(client: httpx.AsyncClient, account: Account) -> None:
        while time.perf_counter() < deadline:
            if kind == "html":
                path = rng.choice(PAGES)
            elif kind == "json":
                path = f"/api/v1/record/items/{rng.choice(account.items)}"
            else:
                path = "/healthz"
            started = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                stats.times.append(time.perf_counter() - started)
            else:
                stats.errors += 1

    await asyncio.gather(*(one(c, a) for c, a in clients))
    return stats


async def load(port: int, accounts: list[Account], clients: int, seconds: float) -> dict[str, dict[str, float]]:
    chosen = random.Random(3).sample(accounts, min(clients, len(accounts)))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) for _ in chosen]
    try:
        started = time.perf_counter()
        logins = Stats()
        for client, account in zip(pool, chosen):
            t0 = time.perf_counter()
            await login(client, account)
            logins.times.append(time.perf_counter() - t0)
        results = {"login": logins.summary(time.perf_counter() - started)}
        pairs = list(zip(pool, chosen))
        for kind in ("trivial", "html", "json"):
            await phase(pairs, min(2.0, seconds), kind)  # warm up
            results[kind] = (await phase(pairs, seconds, kind)).summary(seconds)
        return results
    finally:
        for client in pool:
            await client.aclose()


def serve(env: dict[str, str], processes: int, log: Path) -> tuple[subprocess.Popen, subprocess.Popen, int]:
    port = _free_port()
    command = [sys.executable, "-m", "regie.cli.main"]
    web = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", str(processes)], env=env,
                           stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    worker = subprocess.Popen([*command, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    deadline = time.monotonic() + 300  # start-up imports take long on a busy machine
    last = "no answer"
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit(log.read_text()[-3000:])
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            last = f"{answer.status_code} {answer.text[:300]}"
            if answer.status_code == 200 and len(_children(web.pid)) >= (processes if processes > 1 else 0):
                return web, worker, port
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    stop(web)
    stop(worker)
    raise SystemExit(f"the web processes did not get ready ({last}):\n" + log.read_text()[-3000:])


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase; at most 60")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--database-url", help="PostgreSQL (default: the test server, a fresh schema)")
    args = parser.parse_args()
    seconds = min(args.seconds, 60.0)
    schema = None
    admin = None
    url = args.database_url
    if url is None:
        from tests.conftest import POSTGRES_URL

        schema = f"regie_bench_{secrets.token_hex(4)}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    folder = Path(tempfile.mkdtemp())
    home = folder / "home"
    home.mkdir(mode=0o700)
    env = _env(home, url)
    try:
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        accounts, built = build(env, args.users, args.items)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}; {args.users} users x {args.items} items built in {built:.0f} s; "
              f"{args.clients} virtual users, {seconds:.0f} s per phase")
        rows = []
        for processes in [int(p) for p in args.processes.split(",")]:
            web, worker, port = serve(env, processes, folder / "serve.log")
            try:
                results = asyncio.run(load(port, accounts, args.clients, seconds))
                pids = _children(web.pid) or [web.pid]
                web_peak = max(peak_rss_mb(pid) for pid in pids)
                worker_peak = peak_rss_mb(worker.pid)
            finally:
                stop(web)
                stop(worker)
            rows.append((processes, results, web_peak, worker_peak))
        print("\n| processes | phase | req/s | req/s per process | p50 | p99 | errors | share of the trivial limit |")
        print("|---|---|---|---|---|---|---|---|")
        for processes, results, _web, _worker in rows:
            limit = results["trivial"]["rps"] or 1
            for kind in ("login", "trivial", "html", "json"):
                r = results[kind]
                print(f"| {processes} | {kind} | {r['rps']:.0f} | {r['rps'] / processes:.0f} | {r['p50_ms']:.1f} ms | "
                      f"{r['p99_ms']:.1f} ms | {r['errors']} | {r['rps'] / limit:.2f} |")
        if len(rows) > 1:
            for kind in ("html", "json"):
                ratio = rows[-1][1][kind]["rps"] / max(rows[0][1][kind]["rps"], 1e-9)
                print(f"{kind}: {rows[-1][0]} processes / {rows[0][0]} = {ratio:.2f}x")
        for processes, _results, web_peak, worker_peak in rows:
            print(f"peak RSS with {processes} process(es): web {web_peak:.0f} MB (largest), worker {worker_peak:.0f} MB")
    finally:
        if schema is not None and admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
