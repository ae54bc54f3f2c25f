"""The per-user rebuild of record indexes after an upgrade, in accounts per second (issue 9,
docs/decisions/0010).

    .venv/bin/python bench/bench_reindex.py [items] [--users N] [--postgres] [--database-url URL]

Imports ``items`` synthetic resources per user (bench_viewer's mix, through the normal import
path) for ``users`` users into a fresh SQLite file (and with ``--postgres`` a fresh
PostgreSQL schema, dropped at the end), marks every user for the rebuild as migrations 0021,
0022 and 0026 do, and times one process working through them: ``run_pending``, what a
``record.reindex`` job of ``regie worker`` runs (without its time budget).

The limit measured in the same run: reading, decrypting and parsing every stored record
blob of those users, user by user (what any rebuild must do at least). The rebuild's time
over the limit's says what it adds on top (hashing, the search index, the writes). The last column is what one
process would need for 800,000 accounts of this size, today's PGO users in the Netherlands;
several workers divide it.
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bench_storage import fill  # noqa: E402
from regie.store.crypto import KeyRing  # noqa: E402
from regie.store.db import Database  # noqa: E402
from regie.store.ingest import RecordService  # noqa: E402
from regie.store.models import User  # noqa: E402
from regie.store.record_models import RecordResource  # noqa: E402
from regie.store.record_reindex import pending_user_ids, run_pending  # noqa: E402

ACCOUNTS = 800_000


def _read_everything(db: Database, keyring: KeyRing) -> int:
    """The limit: every record blob of every user read, decrypted and parsed; the row count."""
    service = RecordService(db, keyring)
    with db.session() as session:
        users = list(session.scalars(select(User)))
    rows = 0
    for user in users:
        with service.open(service.keys(user), reading=True) as repo:
            for row_id, version, blob in repo.session.execute(
                    repo._select(RecordResource, RecordResource.id, RecordResource.version,
                                 RecordResource.record_encrypted)):
                repo._decrypt_record(row_id, version, blob)
                rows += 1
    return rows


def measure(name: str, url: str, items: int, users: int) -> None:
    keyring = KeyRing(secrets.token_bytes(32))
    fill(url, items * users, users, keyring)
    db = Database(url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        rows = _read_everything(db, keyring)
        limit_seconds, limit_cpu = time.perf_counter() - started, time.process_time() - cpu
        with db.engine.begin() as connection:  # as a migration marks them
            connection.execute(text("INSERT INTO record_reindex_pending (user_id, since) "
                                    "SELECT id, CURRENT_TIMESTAMP FROM users"))
        started, cpu = time.perf_counter(), time.process_time()
        run = run_pending(db, keyring)
        seconds, used = time.perf_counter() - started, time.process_time() - cpu
        if len(run.results) != users or run.failed or pending_user_ids(db):
            raise SystemExit(f"{name}: {len(run.results)} of {users} accounts rebuilt, {len(run.failed)} failed")
        rebuilt_rows = sum(r.rows for r in run.results)
        per_account = seconds / users
        print(f"| {name} | {users / seconds:.1f} | {rebuilt_rows / seconds:,.0f} | {used / users * 1000:.0f} ms | "
              f"{rows / limit_seconds:,.0f} ({limit_cpu / users * 1000:.0f} ms CPU per account) | "
              f"{seconds / limit_seconds:.1f}x | {per_account * ACCOUNTS / 3600:.1f} h |")
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("items", nargs="?", type=int, default=2_000, help="resources per user")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (a schema of its own)")
    parser.add_argument("--database-url", help="PostgreSQL server (default: the test server)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.users} users x {args.items} resources, one process")
    print("\n| database | accounts/s | rows/s | CPU per account | limit: rows/s read, decrypted, parsed "
          f"| time / limit | {ACCOUNTS:,} accounts, one process |")
    print("|---|---|---|---|---|---|---|")
    folder = Path(tempfile.mkdtemp())
    measure("SQLite", f"sqlite:///{folder / 'reindex.sqlite3'}", args.items, args.users)
    if not args.postgres:
        return
    from tests.conftest import POSTGRES_URL

    server = args.database_url or POSTGRES_URL
    admin = create_engine(server)
    schema = f"regie_reindex_{secrets.token_hex(4)}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        measure("PostgreSQL", f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}",
                args.items, args.users)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
