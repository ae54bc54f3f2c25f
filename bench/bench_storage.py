"""Bytes on disk per stored resource (encrypted), on SQLite and PostgreSQL (issue 9, benchmark 6).

    .venv/bin/python bench/bench_storage.py [resources] [--users N] [--database-url URL]

Imports ``resources`` synthetic resources (bench_viewer's mix), spread over ``users``
users, through the normal import path into a fresh SQLite file and a fresh PostgreSQL
schema, then measures the space they take: the SQLite file after a checkpoint and
VACUUM, and ``pg_total_relation_size`` (table, TOAST and indexes) of every table after
VACUUM. The empty schema, measured in the same run, is subtracted. The limit measured in
the same run is the size of the resources' own compact JSON (what an unencrypted,
unindexed store would hold at least): the ratio says what encryption, the stored record
items, provenance and the indexes cost on top.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import sqlite3
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, text  # noqa: E402

from bench_viewer import resource  # noqa: E402
from regie.fhir import FhirVersion  # noqa: E402
from regie.store.crypto import KeyRing  # noqa: E402
from regie.store.db import Database  # noqa: E402
from regie.store.ingest import RecordService  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from regie.store.models import User  # noqa: E402


def fill(url: str, resources: int, users: int, keyring: KeyRing | None = None) -> int:
    """Imports the resources (under ``keyring``'s keys; default: a new master key); returns the
    bytes of their compact JSON."""
    database = Database(url)
    upgrade(database.engine)
    keyring = keyring or KeyRing(secrets.token_bytes(32))
    service = RecordService(database, keyring)
    rng = random.Random(6)
    raw = 0
    per_user = max(1, resources // users)
    for u in range(users):
        with database.session() as session:
            user = User(email=f"s{u}@voorbeeld.nl", password_hash="-", wrapped_data_key=b"")
            session.add(user)
            session.flush()
            user.wrapped_data_key = keyring.new_wrapped_data_key(user.id)
        keys = service.keys(user)
        for start in range(0, per_user, 500):
            entries = [resource(u * per_user + n, rng) for n in range(start, min(per_user, start + 500))]
            raw += sum(len(orjson.dumps(e)) for e in entries)
            bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": e} for e in entries]}
            outcome = service.import_bytes(keys, orjson.dumps(bundle), name=f"s-{start}.json", source="Huisarts",
                                           fhir_version=FhirVersion.STU3, channel="cli")
            if not outcome.ok:
                raise SystemExit(outcome.error)
    database.dispose()
    return raw


def sqlite_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
    connection.close()
    return path.stat().st_size


def postgres_bytes(url: str) -> dict[str, int]:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM"))
        rows = connection.execute(text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()")).all()
    engine.dispose()
    return {name: size for name, size in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("resources", nargs="?", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--database-url", help="PostgreSQL server (default: the test server); a schema is made")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    count = max(1, args.resources // args.users) * args.users
    folder = Path(tempfile.mkdtemp())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; {count} resources over {args.users} users")
    print("\n| database | empty schema | with the resources | per resource | compact JSON per resource | ratio |")
    print("|---|---|---|---|---|---|")
    empty_path, full_path = folder / "empty.sqlite3", folder / "full.sqlite3"
    fill(f"sqlite:///{empty_path}", 0, 1)
    raw = fill(f"sqlite:///{full_path}", count, args.users)
    empty, full = sqlite_bytes(empty_path), sqlite_bytes(full_path)
    per = (full - empty) / count
    print(f"| SQLite | {empty / 1024:.0f} KiB | {full / 1048576:.1f} MiB | {per:.0f} B | {raw / count:.0f} B | "
          f"{per / (raw / count):.1f}x |")
    if args.sqlite_only:
        return
    from tests.conftest import POSTGRES_URL

    server = args.database_url or POSTGRES_URL
    admin = create_engine(server)
    schemas = [f"regie_storage_{secrets.token_hex(4)}" for _ in range(2)]
    try:
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        urls = [f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}" for schema in schemas]
        fill(urls[0], 0, 1)
        raw = fill(urls[1], count, args.users)
        empty_tables, full_tables = postgres_bytes(urls[0]), postgres_bytes(urls[1])
        empty, full = sum(empty_tables.values()), sum(full_tables.values())
        per = (full - empty) / count
        print(f"| PostgreSQL | {empty / 1024:.0f} KiB | {full / 1048576:.1f} MiB | {per:.0f} B | {raw / count:.0f} B | "
              f"{per / (raw / count):.1f}x |")
        print("\nPostgreSQL, largest tables (with TOAST and indexes):")
        for name, size in sorted(full_tables.items(), key=lambda kv: -kv[1])[:4]:
            print(f"  {name}: {(size - empty_tables.get(name, 0)) / count:.0f} B per resource")
    finally:
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
