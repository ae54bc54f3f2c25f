"""Load on `regie serve` over loopback: many users, one and two web processes (issue 9,
benchmarks 3 and 5).

    .venv/bin/python bench/bench_load.py [--users 1000] [--items 2000] [--seconds 20]
        [--clients 32] [--processes 1,2] [--generator auto|wrk|python] [--warm-up 2] [--database-url URL]
        [--rate R] [--page-cache-mb MB] [--fresh-share F]

1. Builds the data on PostgreSQL (a fresh schema, dropped at the end): ``users`` accounts
   with TOTP, each with ``items`` record items stored through the record store's normal
   write path (bench_viewer's synthetic mix). A few bundles are read and validated once and
   stored for every user under that user's own keys (reading the same bytes again would
   measure the reader a thousand times, not the load); the build runs in one process per
   core, so 1,000 x 2,000 takes minutes, not hours. Then VACUUM (ANALYZE), as autovacuum
   would on a server (:func:`settle`).
2. For each process count: starts `regie serve --workers N` and a `regie worker`, logs
   ``clients`` virtual users in over HTTP with the Python client (password + TOTP), then runs
   phases of ``seconds`` each (at most 60) with the load generator: **trivial** (/healthz,
   one query: what this machine, generator included, can do at most; the limit of the same
   run), **html** (overview and category pages) and **json** (/api/v1/record/items/{id}),
   each request with one of the logged-in sessions (cookies rotated) and, for JSON, one of
   that user's own item ids.
3. The generator is `wrk` when it is installed (C, a small share of the CPU; a Lua script
   rotates the sessions and item ids and counts every non-200 answer as an error), else an
   async httpx client (which costs about as much CPU as the server: it halves what the
   server gets on a small machine).
4. Per phase: requests/s (total and per web process), p50/p99, errors, the share of the
   trivial limit, and the **CPU time of the web processes per request** (utime + stime from
   /proc, in ms; the same number is CPU seconds per 1,000 requests). CPU per request is the
   figure to compare on a shared machine: wall-clock rates measure the neighbours too.

With ``--rate R`` each virtual user waits between its requests so that all of them together
send about R requests/s: p50/p99 then show the latency at that rate, not at saturation.
Without it the 32 virtual users send as fast as answers come, and by Little's law the p99
follows the rate (at 500/s the mean wait alone is 64 ms). The rate reached is reported:
a user waits ``clients / R`` seconds after each answer, so slow answers lower it.

Argon2 runs with light parameters here (``REGIE_ARGON2_*``): log-ins are part of the mix
but their hashing cost is a deliberate, configurable delay, not a throughput figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import httpx
import orjson
import pyotp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, text  # noqa: E402

from regie.store.db import Database  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "paars-fietsje-wandelt-42"
PAGES = ["/", "/record/results", "/record/vital_signs", "/record/medication", "/record/journal"]
FAST_ARGON2 = {"REGIE_ARGON2_TIME_COST": "1", "REGIE_ARGON2_MEMORY_COST_KIB": "1024", "REGIE_ARGON2_PARALLELISM": "1"}
TOTP_STEP = 30
BUNDLE_VARIANTS = 4  # distinct records; user n gets variant n % 4
ITEM_IDS = 200  # item ids per user the JSON phase picks from
PHASES = ("trivial", "html", "json")


@dataclass
class Account:
    email: str
    secret: str
    items: list[str] = field(default_factory=list)
    last_step: int = 0  # the last TOTP time step used: the server refuses it (and older ones) again


def _env(home: Path, url: str) -> dict[str, str]:
    env = {**os.environ, **FAST_ARGON2, "REGIE_HOME": str(home), "REGIE_DATABASE_URL": url,
           "REGIE_LOG_LEVEL": "WARNING", "REGIE_THROTTLE_DELAY_BASE_SECONDS": "0", "REGIE_JOBS_IN_WEB": "0",
           "REGIE_PUBLIC_URL": "http://127.0.0.1:8000", "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


# -- building the data --------------------------------------------------------------------
_DOCUMENTS: dict[int, object] = {}  # variant -> parsed bundle, per builder process


def _build_part(env: dict[str, str], numbers: list[int], items: int) -> list[dict]:
    """Accounts ``numbers`` with their records (runs in a builder process). Returned as plain
    dicts: an ``Account`` would be pickled as ``__main__.Account``, which the parent finds
    only when it runs this file as its main module (not when a test runs the script)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("REGIE_")})
    from sqlalchemy import select

    from bench_viewer import resource
    from regie.cli._common import open_accounts
    from regie.cli.user import create_enrolled_user
    from regie.fhir import FhirVersion, read_bytes
    from regie.fhir.reader import no_cyclic_gc
    from regie.store.ingest import RecordService
    from regie.store.record_models import RecordResource

    _share_search_entries()
    accounts = open_accounts()
    service = RecordService(accounts.db, accounts.keyring)
    documents = _DOCUMENTS
    made: list[dict] = []
    for n in numbers:
        variant = n % BUNDLE_VARIANTS
        if variant not in documents:
            rng = random.Random(9 + variant)
            bundle = {"resourceType": "Bundle", "type": "collection",
                      "entry": [{"resource": resource(i, rng)} for i in range(items)]}
            documents[variant] = read_bytes(orjson.dumps(bundle), name="load.json", fhir_version=FhirVersion.STU3)
        # create_enrolled_user confirms TOTP with the previous step's code (see regie.cli.user).
        step = int(time.time() // TOTP_STEP) - 1
        created = create_enrolled_user(accounts, f"load-{n}@voorbeeld.nl", PASSWORD)
        with accounts.db.session() as session:
            user = accounts.by_email(session, created["email"])
        keys = service.keys(user)
        with no_cyclic_gc(), service.open(keys) as repo:
            _result, written = repo.store_document(documents[variant], source="Huisarts", file_name="load.json")
            repo.audit(user.id, "import", [f"{len(written)} items"], "cli")
        with accounts.db.session() as session:
            ids = session.scalars(select(RecordResource.id).where(RecordResource.user_id == user.id)
                                  .where(RecordResource.group_id == RecordResource.id).limit(ITEM_IDS)).all()
        made.append(asdict(Account(created["email"], created["totp_secret"], list(ids), step)))
    accounts.db.dispose()
    return made


def _share_search_entries() -> None:
    """An item's search-index entry (its casefolded strings, its trend key) depends on the
    item's content only, and users of one bundle variant hold the same items: compute each
    distinct entry once per builder process instead of once per user (about half of the
    store's CPU time per item). What is stored is identical."""
    import regie.store.record as record

    compute = record.entry_for
    if getattr(compute, "shared", False):
        return
    memo: dict[bytes, tuple] = {}

    def entry_for(row_id: str, items: list) -> tuple:
        key = orjson.dumps(items)
        found = memo.get(key)
        if found is None:
            found = memo[key] = compute(row_id, items)[1:]
        return (row_id, *found)

    entry_for.shared = True
    record.entry_for = entry_for


def build(env: dict[str, str], users: int, items: int, processes: int) -> tuple[list[Account], float]:
    """``users`` accounts (password + TOTP) and their records, built by ``processes`` processes."""
    started = time.perf_counter()
    chunk = 25
    parts = [list(range(start, min(start + chunk, users))) for start in range(0, users, chunk)]
    # No more processes than parts: an idle spawned process still imports this script.
    processes = max(1, min(processes, len(parts)))
    made: list[Account] = []
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        for accounts in pool.map(_build_part, [env] * len(parts), parts, [items] * len(parts)):
            made.extend(Account(**account) for account in accounts)
            if len(made) % 100 == 0 or len(made) == users:
                print(f"  {len(made)} users built ({time.perf_counter() - started:.0f} s)", flush=True)
    return made, time.perf_counter() - started


# -- the web processes ------------------------------------------------------------------
def settle(url: str) -> None:
    """On PostgreSQL, what a server's autovacuum does soon after a bulk load: statistics for
    the planner and the visibility map for index-only scans. A server may run with autovacuum
    off (this bench's test server does): load runs before session 10 were planned without any
    statistics, which is not what production sees. Cheap on tables already vacuumed."""
    database = Database(url)
    try:
        database.analyze(vacuum=True)
    finally:
        database.dispose()


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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def serve(env: dict[str, str], processes: int, log: Path) -> tuple[subprocess.Popen, subprocess.Popen, int]:
    port = _free_port()
    command = [sys.executable, "-m", "regie.cli.main"]
    web = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", str(processes)], env=env,
                           stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    worker = subprocess.Popen([*command, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    deadline = time.monotonic() + 300  # start-up imports take long on a busy machine
    last = "no answer"
    # One client for all the polls: httpx.get makes a client (an SSL context) each time,
    # about 50 ms of CPU, which over a long start-up was seconds taken from the start-up.
    with httpx.Client(timeout=10) as probe:
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise SystemExit(log.read_text()[-3000:])
            try:
                answer = probe.get(f"http://127.0.0.1:{port}/readyz")
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


# -- logging in -----------------------------------------------------------------------------
def _fresh_code(account: Account) -> str:
    """A TOTP code the server has not seen for this account: a code (step) is accepted once,
    so a second log-in within the same 30 s window takes the next step's code (one step
    ahead is allowed for clock drift) or waits for it."""
    while True:
        current = int(time.time() // TOTP_STEP)
        step = max(current, account.last_step + 1)
        if step <= current + 1:
            account.last_step = step
            return pyotp.TOTP(account.secret).generate_otp(step)
        time.sleep((current + 1) * TOTP_STEP - time.time() + 0.05)


async def login(client: httpx.AsyncClient, account: Account) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text).group(1)
    first = await client.post("/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    if first.headers.get("location") != "/login/second-factor":
        raise SystemExit(f"log-in step 1 failed for {account.email}: {first.status_code} {first.text[:300]}")
    page = await client.get("/login/second-factor")
    token = CSRF.search(page.text).group(1)
    done = await client.post("/login/second-factor", data={"code": _fresh_code(account), "csrf_token": token})
    if done.status_code != 303 or "/login" in done.headers.get("location", ""):
        raise SystemExit(f"log-in step 2 failed for {account.email}: {done.status_code} {done.text[:300]}")


# -- the Python generator --------------------------------------------------------------
class Stats:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors = 0

    def summary(self, seconds: float) -> dict[str, float]:
        ordered = sorted(self.times) or [0.0]
        return {"requests": len(self.times), "rps": len(self.times) / seconds, "errors": self.errors,
                "p50_ms": statistics.median(ordered) * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000}


def _path(kind: str, account: Account, rng: random.Random) -> str:
    if kind == "html":
        return rng.choice(PAGES)
    if kind == "json":
        return f"/api/v1/record/items/{rng.choice(account.items)}"
    return "/healthz"


async def python_phase(clients: list[tuple[httpx.AsyncClient, Account]], seconds: float, kind: str,
                       rate: float = 0.0) -> dict:
    stats = Stats()
    pause = len(clients) / rate if rate > 0 else 0.0  # as wrk's delay(): after each answer
    deadline = time.perf_counter() + seconds
    rng = random.Random(kind)

    async def one(client: httpx.AsyncClient, account: Account) -> None:
        while time.perf_counter() < deadline:
            path = _path(kind, account, rng)
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
            if pause:
                await asyncio.sleep(pause)

    started = time.perf_counter()
    await asyncio.gather(*(one(c, a) for c, a in clients))
    return stats.summary(time.perf_counter() - started)


# -- the wrk generator ---------------------------------------------------------------------
WRK_SCRIPT = r"""
-- Generated by bench_load.py: one pre-formatted request per (session, path), rotated.
local entries = ENTRIES
local requests = {}
local at = 0
bad = 0
local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for _, e in ipairs(entries) do
    requests[#requests + 1] = wrk.format("GET", e[2], {["Cookie"] = "regie_session=" .. e[1]})
  end
  at = (offset or 0) % #requests
end

function request()
  at = at % #requests + 1
  return requests[at]
end

DELAY

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, t in ipairs(threads) do wrong = wrong + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "not_200": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), wrong,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FRESH_ROUNDS = 40  # copies of the HTML entries when some are fresh: more entries than a phase sends
_fresh_runs = 0


def _html_entries(sessions: list[tuple[str, Account]], fresh_share: float,
                  rng: random.Random) -> list[tuple[str, str]]:
    """Each session's five pages; with ``fresh_share``, that share of the visits carries a
    query parameter never sent before (the pages ignore it): a page the web process has not
    kept, as the first look at a page in a visit (docs/decisions/0011)."""
    global _fresh_runs
    entries = [(cookie, page) for cookie, _ in sessions for page in PAGES]
    if fresh_share <= 0:
        return entries
    _fresh_runs += 1  # a warm-up's fresh pages are not fresh in the phase after it
    out = []
    for n, (cookie, page) in enumerate(entries * _FRESH_ROUNDS):
        out.append((cookie, f"{page}?fresh={_fresh_runs}-{n}" if rng.random() < fresh_share else page))
    return out


def wrk_phase(port: int, sessions: list[tuple[str, Account]], seconds: float, kind: str, folder: Path,
              threads: int, rate: float = 0.0, fresh_share: float = 0.0) -> dict:
    rng = random.Random(kind)
    if kind == "html":
        entries = _html_entries(sessions, fresh_share, rng)
    elif kind == "json":
        entries = [(cookie, f"/api/v1/record/items/{item}") for cookie, account in sessions
                   for item in account.items[:64]]
    else:
        entries = [(cookie, _path(kind, account, rng)) for cookie, account in sessions]
    rng.shuffle(entries)
    lua = "{" + ",".join(f"{{{_lua_string(c)},{_lua_string(p)}}}" for c, p in entries) + "}"
    script = folder / f"load-{kind}.lua"
    connections = max(len(sessions), threads)
    # wrk calls delay() before each request of a connection: every connection paced alike.
    pacing = f"function delay() return {connections * 1000 / rate:.3f} end" if rate > 0 else ""
    script.write_text(WRK_SCRIPT.replace("ENTRIES", lua, 1).replace("DELAY", pacing, 1))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
                          "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    r = json.loads(line[len("RESULT "):])
    duration = r["duration_us"] / 1e6 or seconds
    good = r["requests"] - r["not_200"]
    return {"requests": good, "rps": good / duration, "errors": r["not_200"] + r["socket_errors"],
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000}


# -- one run (a process count) --------------------------------------------------------------
async def _login_all(port: int, chosen: list[Account]) -> tuple[list[httpx.AsyncClient], dict]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) for _ in chosen]
    started = time.perf_counter()
    logins = Stats()
    for client, account in zip(pool, chosen):
        t0 = time.perf_counter()
        await login(client, account)
        logins.times.append(time.perf_counter() - t0)
    return pool, logins.summary(time.perf_counter() - started)


def load(port: int, chosen: list[Account], seconds: float, generator: str, pids: list[int], folder: Path,
         processes: int, phases: tuple[str, ...] = PHASES,
         warm_up: float = 2.0, rate: float = 0.0, fresh_share: float = 0.0) -> dict[str, dict[str, float]]:
    async def run() -> dict[str, dict[str, float]]:
        pool, login_summary = await _login_all(port, chosen)
        results = {"login": login_summary}
        try:
            pairs = list(zip(pool, chosen))
            sessions = [(c.cookies.get("regie_session"), a) for c, a in pairs]
            for kind in phases:
                warm = min(warm_up, seconds)  # 0: none (the smoke run, where it would double the load)
                if warm > 0 and generator == "wrk":
                    await asyncio.to_thread(wrk_phase, port, sessions, max(1.0, warm), kind, folder, processes,
                                            0.0, fresh_share)
                elif warm > 0:
                    await python_phase(pairs, warm, kind)
                before = cpu_seconds(pids)
                if generator == "wrk":
                    result = await asyncio.to_thread(wrk_phase, port, sessions, seconds, kind, folder, processes,
                                                     rate, fresh_share)
                else:
                    result = await python_phase(pairs, seconds, kind, rate)
                used = cpu_seconds(pids) - before
                result["cpu_ms"] = used * 1000 / max(result["requests"], 1)
                results[kind] = result
        finally:
            for client in pool:
                await client.aclose()
        return results

    return asyncio.run(run())


# -- reporting ---------------------------------------------------------------------------------
def report(rows: list[tuple[int, dict, float, float]]) -> None:
    print("\n| processes | phase | req/s | req/s per process | p50 | p99 | errors | share of the trivial limit "
          "| web CPU per request |")
    print("|---|---|---|---|---|---|---|---|---|")
    for processes, results, _web, _worker in rows:
        limit = results.get("trivial", {}).get("rps") or float("nan")
        for kind in ("login", *PHASES):
            if kind not in results:
                continue
            r = results[kind]
            cpu = f"{r['cpu_ms']:.2f} ms" if "cpu_ms" in r else ""
            print(f"| {processes} | {kind} | {r['rps']:.0f} | {r['rps'] / processes:.0f} | {r['p50_ms']:.1f} ms | "
                  f"{r['p99_ms']:.1f} ms | {r['errors']} | {r['rps'] / limit:.2f} | {cpu} |")
    if len(rows) > 1:
        for kind in (k for k in PHASES if k in rows[0][1]):
            ratio = rows[-1][1][kind]["rps"] / max(rows[0][1][kind]["rps"], 1e-9)
            print(f"{kind}: {rows[-1][0]} processes / {rows[0][0]} = {ratio:.2f}x")
    for processes, _results, web_peak, worker_peak in rows:
        print(f"peak RSS with {processes} process(es): web {web_peak:.0f} MB (largest), worker {worker_peak:.0f} MB")


def _state(folder: Path) -> Path:
    return folder / "bench-load-state.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase; at most 60")
    parser.add_argument("--warm-up", type=float, default=2.0,
                        help="seconds of unmeasured load before each phase (at most --seconds; 0: none)")
    parser.add_argument("--clients", type=int, default=32, help="virtual users (logged-in sessions) per run")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else the Python client")
    parser.add_argument("--build-processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--database-url", help="PostgreSQL (default: the test server, a fresh schema)")
    parser.add_argument("--keep", type=Path, help="keep the schema and write what a later --reuse needs here")
    parser.add_argument("--reuse", type=Path, help="use the data a run with --keep left (no build)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="about this many requests/s in all (0: as fast as answers come); see the top")
    parser.add_argument("--page-cache-mb", type=int,
                        help="REGIE_PAGE_CACHE_MB of the web processes (0: every record page read and rendered; "
                             "default: Regie's own). The HTML mix repeats each session's five pages, so with "
                             "pages kept the category pages are nearly all kept ones (docs/decisions/0011)")
    parser.add_argument("--fresh-share", type=float, default=0.0,
                        help="share of the HTML visits to a page not seen before (a new URL: not kept); wrk only")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="which phases to run, comma-separated (e.g. json while profiling one path)")
    args = parser.parse_args()
    seconds = min(args.seconds, 60.0)
    phases = tuple(phase for phase in args.phases.split(",") if phase)
    if unknown := set(phases) - set(PHASES):
        raise SystemExit(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk); use --generator python")
    schema = None
    admin = None
    folder = Path(tempfile.mkdtemp())
    if args.reuse:
        state = json.loads(_state(args.reuse).read_text())
        url, home = state["url"], Path(state["home"])
        accounts = [Account(**a) for a in state["accounts"]]
        built = 0.0
    else:
        url = args.database_url
        if url is None:
            from tests.conftest import POSTGRES_URL

            schema = f"regie_bench_{secrets.token_hex(4)}"
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
        home = (args.keep or folder) / "home"
        home.mkdir(mode=0o700, parents=True)
    env = _env(home, url)
    if args.page_cache_mb is not None:
        env["REGIE_PAGE_CACHE_MB"] = str(args.page_cache_mb)
    try:
        # Also a reused folder: its data may be from before this code's last migration.
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        if not args.reuse:
            accounts, built = build(env, args.users, args.items, args.build_processes)
        settle(url)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}; {len(accounts)} users x {args.items} items built in {built:.0f} s "
              f"({args.build_processes} processes); generator {generator}; {args.clients} virtual users, "
              f"{seconds:.0f} s per phase; kept record pages: {env.get('REGIE_PAGE_CACHE_MB', 'default')} MB; "
              f"fresh HTML visits: {args.fresh_share:.0%}"
              + (f", paced to about {args.rate:.0f} requests/s" if args.rate > 0 else ""), flush=True)
        rows = []
        for run, processes in enumerate(int(p) for p in args.processes.split(",")):
            # Other accounts in each run where there are enough (no TOTP step to wait for).
            start = (run * args.clients) % len(accounts)
            chosen = (accounts[start:] + accounts[:start])[:min(args.clients, len(accounts))]
            web, worker, port = serve(env, processes, folder / "serve.log")
            try:
                pids = _children(web.pid) if processes > 1 else [web.pid]
                results = load(port, chosen, seconds, generator, pids, folder, processes, phases, args.warm_up,
                               args.rate, args.fresh_share)
                web_peak = max(peak_rss_mb(pid) for pid in pids)
                worker_peak = peak_rss_mb(worker.pid)
            finally:
                stop(web)
                stop(worker)
            rows.append((processes, results, web_peak, worker_peak))
        report(rows)
        if args.keep or args.reuse:
            _state(args.keep or args.reuse).write_text(json.dumps({"url": url, "home": str(home),
                                                                   "accounts": [asdict(a) for a in accounts]}))
            schema = None  # kept
    finally:
        if schema is not None and admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        if admin is not None:
            admin.dispose()


if __name__ == "__main__":
    main()
