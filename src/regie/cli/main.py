"""The `regie` command: serve, worker, demo, database, users and tokens."""
from __future__ import annotations

import sys
from typing import Annotated

import typer

from regie import __version__
from regie.cli.lazy import LazyGroup


class RegieCommands(LazyGroup):
    # Imported when used (regie.cli.lazy): `regie worker` does not load the web app.
    targets = {
        "serve": "regie.cli.serve:serve",
        "demo": "regie.cli.demo:demo",
        "import": "regie.cli.record:import_files",
        "export": "regie.cli.export:export",
        "record": "regie.cli.record:record",
        "sandbox": "regie.cli.sandbox:sandbox",
        "collect": "regie.cli.collect:collect",
        "worker": "regie.cli.worker:worker",
        "backup": "regie.cli.backup:backup",
        "restore": "regie.cli.backup:restore",
        "db": "regie.cli.db:app",
        "user": "regie.cli.user:app",
        "token": "regie.cli.token:app",
        "lists": "regie.cli.lists:app",
        "keys": "regie.cli.keys:app",
    }


app = typer.Typer(
    cls=RegieCommands,
    help="Regie: your personal health environment (PGO).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals: they may hold passwords
)


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
