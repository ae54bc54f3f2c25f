"""Load held (issue 10): the read-path load of bench/bench_load.py held for --minutes (default 5)
against one `regie serve` process on PostgreSQL; p99 of the first minute against the last.

    .venv/bin/python scripts/reliability/load_held.py --minutes 5 [--users 200] [--items 2000]

Builds ``users`` accounts with ``items`` record items each (a fresh PostgreSQL schema, dropped
at the end), logs ``clients`` virtual users in over HTTP, then each of them loops over the
HTML read pages (overview, category pages) and JSON record-item reads, without pause, for
the whole run. Latencies are bucketed per minute. "Stable" means the last minute's p99 is at
most 1.5 times the first minute's (plus 20 ms of slack for a shared machine), no request
failed, and the web process's resident set did not keep growing. The machine's load average
is written beside the figures: the figures are only comparable on a quiet machine.

Writes scripts/reliability/runs/load_held.json (read by report.py); exits 1 when not stable.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import ROOT, write_run  # noqa: I001  (sets sys.path)

sys.path.insert(0, str(ROOT / "bench"))
from bench_load import PAGES, _env, build, login, peak_rss_mb, serve, stop  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from regie.store.db import Database  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from tests.conftest import POSTGRES_URL  # noqa: E402


def current_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def hold(port: int, accounts, clients: int, seconds: float, web_pid: int) -> dict:
    chosen = random.Random(3).sample(accounts, min(clients, len(accounts)))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) for _ in chosen]
    minutes = int(seconds // 60) or 1
    times: list[dict[str, list[float]]] = [{"html": [], "json": []} for _ in range(minutes)]
    errors = [0] * minutes
    rss: list[float] = []
    try:
        for client, account in zip(pool, chosen):
            await login(client, account)
        started = time.perf_counter()
        deadline = started + seconds

        async def one(client: httpx.AsyncClient, account, rng: random.Random) -> None:
            while (now := time.perf_counter()) < deadline:
                kind = "html" if rng.random() < 0.5 else "json"
                path = rng.choice(PAGES) if kind == "html" else f"/api/v1/record/items/{rng.choice(account.items)}"
                try:
                    ok = (await client.get(path)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                minute = min(minutes - 1, int((now - started) // 60))
                if ok:
                    times[minute][kind].append(time.perf_counter() - now)
                else:
                    errors[minute] += 1

        async def sampler() -> None:
            while time.perf_counter() < deadline:
                rss.append(current_rss_mb(web_pid))
                await asyncio.sleep(10)

        await asyncio.gather(sampler(), *(one(c, a, random.Random(i)) for i, (c, a) in enumerate(zip(pool, chosen))))
    finally:
        for client in pool:
            await client.aclose()
    per_minute = []
    for minute, buckets in enumerate(times):
        both = buckets["html"] + buckets["json"]
        per_minute.append({
            "minute": minute + 1, "requests": len(both), "errors": errors[minute],
            "rps": round(len(both) / 60, 1),
            "html_p50_ms": round(statistics.median(buckets["html"] or [0]) * 1000, 1),
            "html_p99_ms": round(percentile(buckets["html"], 0.99) * 1000, 1),
            "json_p50_ms": round(statistics.median(buckets["json"] or [0]) * 1000, 1),
            "json_p99_ms": round(percentile(buckets["json"], 0.99) * 1000, 1),
        })
    return {"per_minute": per_minute, "rss_samples_mb": [round(r, 1) for r in rss]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--name", default="load_held", help="the run's JSON name (scripts/reliability/runs)")
    args = parser.parse_args()
    seconds = args.minutes * 60
    schema = f"regie_rel_load_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    folder = Path(tempfile.mkdtemp(prefix="regie-load-"))
    home = folder / "home"
    home.mkdir(mode=0o700)
    env = _env(home, url)
    problems: list[str] = []
    try:
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        # bench_load builds in one process per core when its build takes a process count.
        extra = (os.cpu_count() or 1,) if len(inspect.signature(build).parameters) > 3 else ()
        accounts, built = build(env, args.users, args.items, *extra)
        print(f"{args.users} users x {args.items} items built in {built:.0f} s", flush=True)
        # Other work may have added a migration while the data was built: the commands check.
        subprocess.run([sys.executable, "-m", "regie.cli.main", "db", "upgrade"], env=env, check=True,
                       capture_output=True)
        web, worker, port = serve(env, 1, folder / "serve.log")
        load_start = os.getloadavg()
        try:
            result = asyncio.run(hold(port, accounts, args.clients, seconds, web.pid))
            web_peak = peak_rss_mb(web.pid)
        finally:
            stop(web)
            stop(worker)
        load_end = os.getloadavg()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    first, last = result["per_minute"][0], result["per_minute"][-1]
    for kind in ("html", "json"):
        a, b = first[f"{kind}_p99_ms"], last[f"{kind}_p99_ms"]
        if b > 1.5 * a + 20:
            problems.append(f"{kind} p99 grew from {a} ms (first minute) to {b} ms (last minute)")
    failed = sum(m["errors"] for m in result["per_minute"])
    if failed:
        problems.append(f"{failed} requests failed")
    samples = result["rss_samples_mb"]
    if len(samples) >= 4 and samples[-1] > 1.25 * samples[len(samples) // 4] + 20:
        problems.append(f"RSS kept growing: {samples[len(samples) // 4]} -> {samples[-1]} MB")
    run = {"kind": "load_held", "database": "postgres", "users": args.users, "items": args.items,
           "clients": args.clients, "seconds": seconds, "web_processes": 1, **result,
           "web_peak_rss_mb": round(web_peak, 1), "loadavg_start": [round(x, 2) for x in load_start],
           "loadavg_end": [round(x, 2) for x in load_end], "cores": os.cpu_count(), "problems": problems}
    path = write_run(args.name, run)
    for m in result["per_minute"]:
        print(f"minute {m['minute']}: {m['rps']} req/s, html p99 {m['html_p99_ms']} ms, "
              f"json p99 {m['json_p99_ms']} ms, errors {m['errors']}")
    print(f"load average {load_start} -> {load_end}; RSS {samples[:1]} -> {samples[-1:]} MB; "
          f"{len(problems)} problems -> {path}")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
