"""`regie import` and `regie record`: fill a user's health record from FHIR files, and count it."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from regie.cli._common import open_accounts
from regie.fhir import FhirVersion, UnknownFhirVersion, parse_fhir_version
from regie.fhir.stream import bundle_parts, is_large_bundle

if TYPE_CHECKING:
    from regie.store.ingest import FileOutcome


def _service_and_keys(email: str):
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.store.ingest import RecordService

    accounts = open_accounts()
    with accounts.db.session() as session:
        user = accounts.by_email(session, email)
    if user is None:
        raise typer.BadParameter(f"no account with e-mail address {email}", param_hint="--user")
    service = RecordService(accounts.db, accounts.keyring)
    return service, service.keys(user)


def _fhir_version(value: str) -> FhirVersion | None:
    try:
        return parse_fhir_version(value)
    except UnknownFhirVersion as exc:
        raise typer.BadParameter(str(exc)) from None


def import_files(
    paths: Annotated[list[Path], typer.Argument(help="FHIR files (JSON or XML) or folders (searched recursively).")],
    user: Annotated[str, typer.Option("--user", help="E-mail address of the account.")],
    source: Annotated[
        str | None, typer.Option("--source", help="Source name for every file (default: each file's name).")
    ] = None,
    fhir_version: Annotated[
        FhirVersion | None,
        typer.Option("--fhir-version", parser=_fhir_version, metavar="STU3|R4",
                     help="FHIR version of the files: STU3, R4 or a number such as 4.0.1 (default: detect)."),
    ] = None,
) -> None:
    """Import FHIR files into an account's health record (atomic per file), or a Regie export
    archive (.zip, all or nothing; see docs/portability.md)."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.cli.export import import_archive
    from regie.portability.importer import is_archive
    from regie.store.ingest import expand_paths

    if len(paths) == 1 and paths[0].is_file() and is_archive(paths[0]):
        return import_archive(paths[0], user)
    service, keys = _service_and_keys(user)
    files = expand_paths(paths)
    # Big searchset/collection Bundles are streamed in parts (regie.fhir.stream), after the rest.
    large = [f for f in files if is_large_bundle(f)]
    out = Console()
    outcomes: list[FileOutcome] = []
    options = dict(source=source, fhir_version=fhir_version, channel="cli")
    if out.is_terminal and files:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=out, transient=True) as progress:
            task = progress.add_task("Importing", total=len(files) - len(large))
            outcomes = service.import_paths(keys, [f for f in files if f not in large],
                                            progress=lambda _: progress.advance(task), **options)
    else:
        outcomes = service.import_paths(keys, [f for f in files if f not in large], **options)
    for path in large:  # one source for all parts: the file's name, as for a small file
        # One part per transaction: a batch of parts would hold several parsed parts at once.
        outcomes += service.import_many(keys, bundle_parts(path), **{**options, "source": source or path.name},
                                        batch_files=1)
    _summary(out, outcomes)
    if not files:
        Console(stderr=True).print("[bold red]Error:[/] no .json or .xml files found.")
        raise typer.Exit(1)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


def _summary(out: Console, outcomes: list[FileOutcome]) -> None:
    ok = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    categories: Counter[str] = Counter()
    for o in ok:
        categories += o.by_category
    table = Table(title="Import summary", show_header=False)
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_row("Files imported", str(len(ok)))
    table.add_row("Files with errors", str(len(failed)))
    table.add_row("Resources", str(sum(o.resources for o in ok)))
    table.add_row("  new", str(sum(o.new for o in ok)))
    table.add_row("  updated", str(sum(o.updated for o in ok)))
    table.add_row("  unchanged", str(sum(o.unchanged for o in ok)))
    for category, count in sorted(categories.items()):
        table.add_row(f"  {category}", str(count))
    out.print(table)
    if failed:
        errors = Table(title="Errors")
        errors.add_column("File")
        errors.add_column("Resource")
        errors.add_column("Location")
        errors.add_column("Reason")
        for o in failed:
            errors.add_row(o.name, o.error_resource or "", o.error_location or "", o.error_reason or o.error or "")
        out.print(errors)
        for o in failed:  # full sentences too, for logs and scripts
            out.print(f"error: {o.error}", highlight=False, soft_wrap=True, markup=False)


def record(
    user: Annotated[str, typer.Option("--user", help="E-mail address of the account.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Count what is in an account's health record (resources per type, category and source)."""
    service, keys = _service_and_keys(user)
    with service.open(keys) as repo:
        summary = repo.summary()
        repo.audit(keys.user_id, "summary", ["summary"], "cli")
    if as_json:
        typer.echo(orjson.dumps(summary).decode())
        return
    out = Console()
    out.print(f"Resources: {summary['resources']}")
    for title, key in (("Category", "categories"), ("Resource type", "by_type"), ("Source", "sources")):
        table = Table(title=title)
        table.add_column(title)
        table.add_column("Count", justify="right")
        for name, count in summary[key].items():
            table.add_row(name, str(count))
        out.print(table)


def reindex_records(
    user: Annotated[
        str | None, typer.Option("--user", help="E-mail address of one account (default: every account still waiting).")
    ] = None,
) -> None:
    """Build the record indexes that data stored by an older Regie lacks (related items, references).

    After a migration that marks accounts, `regie worker` does this in the background; run it
    yourself to do it all now or to rebuild one account. Each account is done in one transaction."""
    from regie.store.record_reindex import reindex_pending, reindex_user

    accounts = open_accounts()
    if user is not None:
        with accounts.db.session() as session:
            found = accounts.by_email(session, user)
        if found is None:
            raise typer.BadParameter(f"no account with e-mail address {user}", param_hint="--user")
        results = [r for r in [reindex_user(accounts.db, accounts.keyring, found.id)] if r is not None]
    else:
        results = reindex_pending(accounts.db, accounts.keyring)
    report_reindex(results)


def report_reindex(results) -> None:
    typer.echo(f"Record indexes built for {len(results)} account(s): "
               f"{sum(r.rows for r in results)} items read, {sum(r.links for r in results)} links and "
               f"{sum(r.ref_hashes for r in results)} references added, "
               f"{sum(r.current_flags for r in results)} current flags set.")
