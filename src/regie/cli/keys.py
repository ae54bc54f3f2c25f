"""`regie keys`: the master key."""
from __future__ import annotations

import typer

from regie.cli._common import fail_on_regie_error
from regie.config import Settings

app = typer.Typer(help="The master key that protects every user's data key.", no_args_is_help=True)


@app.command("rotate")
@fail_on_regie_error
def rotate() -> None:
    """Make a new master key and re-wrap every user's data key with it, while Regie keeps running."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.store.db import Database
    from regie.store.key_rotation import rotate as rotate_keys
    from regie.store.migrate import require_current

    settings = Settings()
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    try:
        result = rotate_keys(settings, database)
    finally:
        database.dispose()
    typer.echo(f"Re-wrapped {result.rewrapped} data keys ({result.already_done} were done already).")
    if result.unreadable:
        typer.echo(f"{len(result.unreadable)} data keys open with neither key; the old key stays in use: "
                   + ", ".join(result.unreadable), err=True)
        raise typer.Exit(1)
    typer.echo("The new master key is in use; the old one is kept as master.key.previous. Back up the new key.")
