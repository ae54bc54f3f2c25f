"""`regie backup PATH` and `regie restore PATH`: the database without the master key
(regie.ops.backup, docs/deploy.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from regie.config import Settings


def backup(path: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")]) -> None:
    """Back up the database (SQLite: online backup; PostgreSQL: pg_dump). The master key is NOT
    in it: keep a copy of the key apart from the backups, or the backup cannot be read."""
    from regie.ops.backup import backup as run_backup

    settings = Settings()
    info = run_backup(settings.resolved_database_url, path)
    typer.echo(f"Backup written: {info.path} ({info.kind}, {info.bytes} bytes). "
               "It does not contain the master key; keep that apart.")


def restore(path: Annotated[Path, typer.Argument(help="A file written by `regie backup`.")]) -> None:
    """Restore a backup into an empty database, then check that this REGIE_HOME's master key opens it."""
    from regie.ops.backup import restore as run_restore
    from regie.store.master_key import load_master_key  # here: `regie --help` loads this module

    settings = Settings()
    key = load_master_key(settings, create=False)  # a new key could never open the backup
    info = run_restore(path, settings.resolved_database_url, key)
    typer.echo(f"Restored {info.path} ({info.kind}). Run `regie db upgrade` if this version of Regie is newer.")
