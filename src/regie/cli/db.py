"""`regie db`: migrations."""
from __future__ import annotations

from typing import Annotated

import typer

from regie.cli._common import fail_on_regie_error
from regie.cli.record import reindex_records, report_reindex
from regie.config import Settings

app = typer.Typer(help="Database: create and migrate.", no_args_is_help=True)


@app.command("upgrade")
@fail_on_regie_error
def upgrade_command(
    reindex_now: Annotated[bool, typer.Option(
        "--reindex-now", help="Also rebuild now the record indexes of every account a migration marked "
        "(default: `regie worker` does it in the background).")] = False,
) -> None:
    """Create the database or bring it to the latest migration."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.store.db import Database
    from regie.store.master_key import keyring_for, load_master_key
    from regie.store.migrate import current_revision, upgrade
    from regie.store.record_reindex import reindex_pending, waiting_count

    settings = Settings()
    load_master_key(settings)  # first start: create the key beside the database
    database = Database(settings.resolved_database_url)
    before = current_revision(database.engine)
    upgrade(database.engine, keyring=keyring_for(settings))  # 0020 encrypts existing rows
    after = current_revision(database.engine)
    typer.echo(f"Database at migration {after}" + (" (was empty)" if before is None else f" (was {before})"))
    # Indexes made of keyed hashes need each user's key: built per user after the migrations,
    # in the background unless asked (docs/decisions/0010-rebuild-in-the-background.md).
    if reindex_now:
        results = reindex_pending(database, keyring_for(settings))
        if results:
            report_reindex(results)
    elif waiting := waiting_count(database):
        typer.echo(f"{waiting} account(s) wait for a rebuild of their record indexes: `regie worker` does it "
                   "in the background, and a record opened before its turn is rebuilt first. "
                   "`regie db reindex` does it now.")


app.command("reindex")(fail_on_regie_error(reindex_records))


@app.command("status")
@fail_on_regie_error
def status_command() -> None:
    """Show the database's migration and whether it is up to date."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.store.db import Database
    from regie.store.migrate import current_revision, head_revision, schema_state

    database = Database(Settings().resolved_database_url)
    typer.echo(f"current: {current_revision(database.engine)}  latest: {head_revision()}  "
               f"state: {schema_state(database.engine).value}")
