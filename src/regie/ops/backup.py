"""Backups of the database, never of the master key (docs/deploy.md, "Backups").

* SQLite: SQLite's online backup API (a consistent copy while Regie keeps running), into
  one file.
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client tools of the
  server's major version or newer). The connection is handed to them through the libpq
  environment (PGHOST, PGPASSWORD …), never on the command line where ``ps`` shows it.

The master key lives in ``REGIE_MASTER_KEY`` or ``$REGIE_HOME/master.key``, neither of
which is in the database: a backup is unreadable without it, by design. Restoring goes
into an empty database only, and checks afterwards that the key at hand opens the data.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import inspect, select
from sqlalchemy.engine import URL, make_url

from regie.errors import RegieError
from regie.store.crypto import DecryptionError, KeyRing
from regie.store.db import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RegieError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    bytes: int


def backup(database_url: str, target: Path) -> BackupInfo:
    """Write a backup of the database at ``database_url`` to ``target`` (a new file)."""
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name (a backup never overwrites).")
    target.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(database_url)
    partial = target.with_name(target.name + ".partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), partial)
            kind = "sqlite"
        elif url.get_backend_name() == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                  *_schema_options(url)], url)
            kind = "postgresql"
        else:
            raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
        os.chmod(partial, 0o600)  # encrypted, but still nobody else's business
        partial.replace(target)  # a half-written backup never carries the final name
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, kind, target.stat().st_size)


def restore(source: Path, database_url: str, master_key: bytes) -> BackupInfo:
    """Restore ``source`` into the (empty) database at ``database_url``, then check that
    ``master_key`` opens the users' data keys."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    head = _head(source)
    url = make_url(database_url)
    backend = url.get_backend_name()
    if head.startswith(SQLITE_MAGIC):
        kind = "sqlite"
        if backend != "sqlite":
            raise BackupError("This is a backup of an SQLite database; restore it with an SQLite REGIE_DATABASE_URL.")
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0 and _has_tables(database_url):
            raise BackupError(f"{path} holds a database already; restore into a new, empty place.")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".restoring")
        try:
            _sqlite_copy(source, partial)
            _check_key(f"sqlite:///{partial}", master_key)
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    elif head.startswith(PG_MAGIC):
        kind = "postgresql"
        if backend != "postgresql":
            raise BackupError("This is a backup of a PostgreSQL database; restore it with a PostgreSQL "
                              "REGIE_DATABASE_URL.")
        if _has_tables(database_url):
            raise BackupError("The PostgreSQL database holds tables already; restore into an empty database.")
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={url.database}", str(source)], url)
        _check_key(database_url, master_key)
        _analyze(database_url)
    else:
        raise BackupError(f"{source} is not a Regie backup (neither SQLite nor pg_dump's custom format).")
    return BackupInfo(source, kind, source.stat().st_size)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(16)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up.")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    # Read-only source: a backup must never create or change the database it copies.
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=4096)  # in steps: writers are blocked only briefly
    src.close()
    dst.close()


def _has_tables(database_url: str) -> bool:
    database = Database(database_url)
    try:
        return bool(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def _analyze(database_url: str) -> None:
    """Planner statistics for the restored tables at once. A dump holds none, and until
    autovacuum gets to them PostgreSQL plans the record's lists blind (reading and sorting
    a whole category for a page of 50: docs/benchmarks.md, session 10)."""
    database = Database(database_url)
    try:
        database.analyze()
    finally:
        database.dispose()


def _check_key(database_url: str, master_key: bytes) -> None:
    from regie.store.models import User

    database = Database(database_url)
    try:
        with database.session() as session:
            user = session.execute(select(User.id, User.wrapped_data_key).limit(1)).first()
        if user is not None:
            try:
                KeyRing(master_key).user_cipher(user.id, user.wrapped_data_key)
            except DecryptionError as exc:
                raise BackupError("The master key here does not open this backup: put the master key of the "
                                  "installation that made it in REGIE_HOME/master.key or REGIE_MASTER_KEY.") from exc
    finally:
        database.dispose()


def _schema_options(url: URL) -> list[str]:
    """The schema in ``options=-csearch_path=…`` (tests, shared servers): dump only that."""
    options = unquote(str(url.query.get("options", "")))
    for part in options.split():
        if part.startswith("-csearch_path="):
            return [f"--schema={part.split('=', 1)[1].split(',')[0]}"]
    return []


def _run(command: list[str], url: URL) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt install postgresql-client).")
    env = {**os.environ, **_libpq_environment(url)}
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # pg_dump's messages name objects and the server, never row contents.
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")


def _libpq_environment(url: URL) -> dict[str, str]:
    env = {"PGDATABASE": url.database or ""}
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password)):
        if value is not None:
            env[key] = str(value)
    for key, name in (("host", "PGHOST"), ("sslmode", "PGSSLMODE"), ("options", "PGOPTIONS")):
        value = url.query.get(key)
        if value:
            env[name] = unquote(str(value))
    return env
