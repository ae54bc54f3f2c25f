"""`regie lists`: the MedMij lists Regie holds (refresh now, show their state)."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from regie.cli._common import fail_on_regie_error
from regie.config import Settings
from regie.errors import ConfigurationError

if TYPE_CHECKING:
    from regie.store.db import Database

app = typer.Typer(help="MedMij lists (ZAL, OCL, Whitelist, GNL) and provider details.",
                  no_args_is_help=True)


def make_lists_client(settings: Settings, database: Database):
    """The client the commands use (tests replace this to reach an in-process sandbox)."""
    from regie.medmij.lists_client import ListsClient

    return ListsClient(settings, database)


def _open():
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.store.db import Database
    from regie.store.migrate import require_current

    settings = Settings()
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    client = make_lists_client(settings, database)
    if not client.configured:
        raise ConfigurationError(
            "the MedMij lists are not configured: set REGIE_MEDMIJ_LISTS_URL and REGIE_MEDMIJ_LISTS_KEY"
        )
    return client


def _age(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


@app.command("refresh")
@fail_on_regie_error
def refresh(
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Download and check the lists now; exit status 1 when one of them failed."""
    client = _open()
    outcomes = client.refresh()
    if as_json:
        typer.echo(orjson.dumps([o.__dict__ for o in outcomes]).decode())
    else:
        for o in outcomes:
            line = f"{o.kind:10} {o.result:14} Volgnummer {o.volgnummer if o.volgnummer is not None else '-'}"
            typer.echo(line + (f"\n           {o.error}" if o.error else ""))
    if not all(o.ok for o in outcomes):
        raise typer.Exit(1)


@app.command("status")
@fail_on_regie_error
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Show per list: Volgnummer, Tijdstempel, age and the last error."""
    client = _open()
    rows = client.status()
    if as_json:
        typer.echo(orjson.dumps([
            {"kind": s.kind, "url": s.url, "volgnummer": s.volgnummer, "tijdstempel": s.tijdstempel,
             "fetched_at": s.fetched_at, "last_attempt_at": s.last_attempt_at, "last_error": s.last_error}
            for s in rows
        ]).decode())
        return
    table = Table("list", "Volgnummer", "Tijdstempel", "age", "last error")
    for s in rows:
        table.add_row(s.kind, str(s.volgnummer or "-"),
                      s.tijdstempel.isoformat(timespec="seconds") if s.tijdstempel else "-",
                      _age(s.age()), s.last_error or "")
    Console(width=160).print(table)
