"""The `regie` command: serve, worker, demo, database, users and tokens."""
from __future__ import annotations

import sys
from typing import Annotated

import typer

from regie import __version__
from regie.cli import db as db_commands
from regie.cli import keys as keys_commands
from regie.cli import lists as lists_commands
from regie.cli import token as token_commands
from regie.cli import user as user_commands
from regie.cli._common import fail_on_regie_error
from regie.cli.backup import backup, restore
from regie.cli.collect import collect
from regie.cli.demo import demo
from regie.cli.export import export
from regie.cli.record import import_files, record
from regie.cli.sandbox import sandbox
from regie.cli.serve import serve
from regie.cli.worker import worker

app = typer.Typer(
    help="Regie: your personal health environment (PGO).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals: they may hold passwords
)
app.add_typer(db_commands.app, name="db")
app.add_typer(user_commands.app, name="user")
app.add_typer(token_commands.app, name="token")
app.add_typer(lists_commands.app, name="lists")
app.add_typer(keys_commands.app, name="keys")
app.command()(fail_on_regie_error(serve))
app.command()(fail_on_regie_error(demo))
app.command("import")(fail_on_regie_error(import_files))
app.command()(fail_on_regie_error(export))
app.command()(fail_on_regie_error(record))
app.command()(fail_on_regie_error(sandbox))
app.command()(fail_on_regie_error(collect))
app.command()(fail_on_regie_error(worker))
app.command()(fail_on_regie_error(backup))
app.command()(fail_on_regie_error(restore))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"regie {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and stop.")
    ] = False,
) -> None:
    """Regie: your personal health environment (PGO)."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
