"""CPU per request of one route, in process, without HTTP or a load generator (issue 9).

    .venv/bin/python bench/profile_request.py --reuse FOLDER [--kind json|html|trivial|PATH]
        [--requests 2000] [--profile] [--top 40]   (--profile needs the `profile` extra: yappi)

Uses the data a ``bench/bench_load.py --keep FOLDER`` run left. Builds the app as
``regie serve`` does, signs in a few of the bench users directly (a full session row, no
password or TOTP round), and calls the ASGI app in a loop with the same kind of request
the load benchmark sends. It prints the CPU time per request (``time.process_time``: the
app and its database driver, not uvicorn's HTTP parsing and not the database server) and,
with ``--profile``, where that time goes in every thread (yappi, CPU clock).

This is the quick loop for making a path cheaper; ``bench_load.py`` is the figure that
counts (it includes the HTTP server and the database on the same cores).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import FAST_ARGON2, PAGES  # noqa: E402


def _environment(state: dict) -> None:
    os.environ.update({**FAST_ARGON2, "REGIE_HOME": state["home"], "REGIE_DATABASE_URL": state["url"],
                       "REGIE_LOG_LEVEL": "WARNING", "REGIE_JOBS_IN_WEB": "0"})


def _sign_in(context, user_ids: list[str]) -> list[str]:
    from regie.accounts.activity import ClientInfo
    from regie.store.types import utcnow

    tokens = []
    with context.db.session() as session:
        for user_id in user_ids:
            token, _row = context.accounts.sessions.create(session, ClientInfo(ip="127.0.0.1", user_agent="profile"),
                                                           utcnow(), user_id=user_id, stage="full")
            tokens.append(token)
    return tokens


def _user_ids(context, emails: list[str]) -> list[str]:
    with context.db.session() as session:
        return [context.accounts.by_email(session, email).id for email in emails]


def _scope(path: str, token: str) -> dict:
    raw_path, _, query = path.partition("?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*"),
                        (b"cookie", f"regie_session={token}".encode())],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _call(app, scope: dict) -> int:
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", type=Path, required=True, help="the folder a bench_load.py --keep run wrote")
    parser.add_argument("--kind", default="json", help="json, html, trivial, or a path such as /record/results")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    state = json.loads((args.reuse / "bench-load-state.json").read_text())
    _environment(state)

    from regie.config import Settings
    from regie.web.app import create_app

    app = create_app(Settings())
    context = app.state.context
    accounts = state["accounts"][: args.users]
    tokens = _sign_in(context, _user_ids(context, [a["email"] for a in accounts]))
    rng = random.Random(9)

    def next_path(n: int) -> tuple[str, str]:
        index = n % len(tokens)
        if args.kind == "json":
            return f"/api/v1/record/items/{rng.choice(accounts[index]['items'])}", tokens[index]
        if args.kind == "html":
            return rng.choice(PAGES), tokens[index]
        if args.kind == "trivial":
            return "/healthz", tokens[index]
        return args.kind, tokens[index]

    async def run(count: int) -> float:
        started = time.process_time()
        for n in range(count):
            path, token = next_path(n)
            status = await _call(app, _scope(path, token))
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
        return time.process_time() - started

    asyncio.run(run(min(200, args.requests)))  # warm: imports, templates, the key cache
    if not args.profile:
        used = asyncio.run(run(args.requests))
        print(f"{args.kind}: {used * 1000 / args.requests:.3f} ms CPU per request over {args.requests} requests")
        return
    # The sync routes and the session load run in worker threads, which cProfile does not
    # see: yappi (the `profile` extra) measures CPU time in every thread.
    import yappi

    yappi.set_clock_type("cpu")
    yappi.start(builtins=True)
    used = asyncio.run(run(args.requests))
    yappi.stop()
    print(f"{args.kind}: {used * 1000 / args.requests:.3f} ms CPU per request over {args.requests} requests"
          " (under the profiler: slower, compare shares only)")
    stats = yappi.get_func_stats()
    stats.sort("ttot", "desc")
    print(f"{'ms/request incl':>16} {'ms/request self':>16}  function")
    for entry in list(stats)[: args.top]:
        print(f"{entry.ttot * 1000 / args.requests:16.3f} {entry.tsub * 1000 / args.requests:16.3f}  "
              f"{entry.module.replace(str(ROOT), '.')}:{entry.lineno} {entry.name}")


if __name__ == "__main__":
    main()
