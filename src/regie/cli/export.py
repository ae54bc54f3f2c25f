"""`regie export`: an account's record as an archive, FHIR NDJSON, an IPS or a PDF summary;
and the archive branch of `regie import`."""
from __future__ import annotations

import os
import tempfile
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from regie.cli._common import open_accounts

if TYPE_CHECKING:
    from regie.portability.importer import ImportReport


class Format(str, Enum):
    archive = "archive"
    fhir = "fhir"
    ips = "ips"
    pdf = "pdf"


def _portability(email: str):
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.portability.service import Portability

    accounts = open_accounts()
    with accounts.db.session() as session:
        user = accounts.by_email(session, email)
    if user is None:
        raise typer.BadParameter(f"no account with e-mail address {email}", param_hint="--user")
    return Portability(accounts.settings, accounts.db, accounts.keyring), user


def export(
    user: Annotated[str, typer.Option("--user", help="E-mail address of the account.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    fmt: Annotated[Format, typer.Option("--format", case_sensitive=False,
                                        help="archive (zip, everything), fhir (NDJSON), ips (FHIR R4 "
                                             "document) or pdf (summary).")] = Format.archive,
    section: Annotated[list[str] | None, typer.Option(
        "--section", help="ips/pdf: a section to include (repeat; default: the usual ones).")] = None,
    language: Annotated[str, typer.Option("--language", help="pdf: nl or en.")] = "nl",
) -> None:
    """Export an account's health record (audited). The file appears only when complete."""
    portability, account = _portability(user)
    if language not in ("nl", "en"):
        raise typer.BadParameter("nl or en", param_hint="--language")
    made = portability.export(account, fmt.value, channel="cli", sections=section or None, language=language)
    target = output.resolve()
    # Written next to the target, then renamed: a stopped export leaves no half file behind.
    handle, temporary = tempfile.mkstemp(prefix=".regie-export-", dir=target.parent)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in made.chunks:
                out.write(chunk)
                size += len(chunk)
        os.chmod(temporary, 0o600)  # medical data: the owner only
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    Console().print(f"Wrote {target.name} ({fmt.value}, {size} bytes).", highlight=False)


def import_archive(path: Path, email: str) -> None:
    """`regie import --user EMAIL ARCHIVE.zip`: the archive of another Regie, all or nothing."""
    from regie.portability.importer import ArchiveError

    portability, account = _portability(email)
    try:
        report = portability.import_archive(account, path, channel="cli")
    except ArchiveError as exc:
        Console(stderr=True).print(f"[bold red]Error:[/] {path.name}: {exc} Nothing was imported.",
                                   highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    print_report(Console(), report)


def print_report(out: Console, report: ImportReport) -> None:
    table = Table(title="Archive import")
    for column in ("Source", "Resources", "New", "Updated", "Unchanged", "Earlier versions"):
        table.add_column(column, justify="left" if column == "Source" else "right")
    for outcome in report.sources.values():
        table.add_row(outcome.name, str(outcome.resources), str(outcome.new), str(outcome.updated),
                      str(outcome.unchanged), str(outcome.previous_versions))
    table.add_row("Total", str(report.resources), str(report.new), str(report.updated), str(report.unchanged), "")
    out.print(table)
    out.print(f"Notes: {report.notes_added} added, {report.notes_present} already there.", highlight=False)
    if report.not_imported:
        out.print("Kept for reading only (not imported): " + ", ".join(report.not_imported), highlight=False)
