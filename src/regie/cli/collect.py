"""`regie collect`: start a collection from the command line and follow it.

The CLI creates the collection in the database and prints the authorization URL. The
patient opens it, logs in with DigiD and gives consent; the provider sends the browser
back to the *running* Regie (``REGIE_PUBLIC_URL/collect/callback``), which exchanges the
code and runs the job (the access token lives only in that process). The CLI follows the
job through its row in the database: Rich progress per service, then the receipt.
"""
from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from regie.cli._common import open_accounts
from regie.errors import RegieError

out = Console()
FINISHED = ("done", "failed", "interrupted")


def collect(
    user: Annotated[str, typer.Option("--user", help="E-mail address of the account.")],
    provider: Annotated[str, typer.Option("--provider", help="Zorgaanbiedernaam, e.g. huisartsdevries@medmij.")],
    service: Annotated[list[str] | None, typer.Option("--service", help="GegevensdienstId (repeat); default: all.")] = None,
    keep_consent: Annotated[bool, typer.Option("--keep-consent", help="Ask for long-lived consent.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for consent and the job.")] = 900.0,
) -> None:
    """Collect data from a provider over MedMij: prints the URL to open, waits, shows the receipt."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.collect.service import CollectError, Collections, provider_endpoints
    from regie.collect.texts import SERVICE_STATES, STATES, error_text
    from regie.medmij.lists_client import ListsClient
    from regie.web.i18n import translations

    accounts = open_accounts()
    with accounts.db.session() as session:
        account = accounts.by_email(session, user)
    if account is None:
        raise RegieError(f"no account for {user}")
    collections = Collections(accounts.settings, accounts.db, accounts.keyring)
    try:
        endpoints = provider_endpoints(ListsClient(accounts.settings, accounts.db).directory(), provider,
                                       list(service) if service else None)
    except CollectError as exc:
        raise RegieError(str(exc)) from exc
    cid = collections.create(account.id, endpoints, channel="cli", long_lived=keep_consent)
    url = collections.authorize(account.id, cid, endpoints)
    gettext = translations("nl").gettext
    names = {s.id: s.name for s in endpoints.services}
    out.print(f"Open this address in a browser, log in with DigiD and give consent at {endpoints.display_name}:")
    out.print(url, soft_wrap=True, highlight=False)
    out.print(f"(collection {cid}; Regie must be running at {accounts.settings.public_url})")
    deadline = time.monotonic() + timeout
    view = collections.get(account.id, cid)
    with out.status("Waiting for your consent…"):
        while view["state"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.5)
            view = collections.get(account.id, cid)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=out) as bars:
        tasks = {sid: bars.add_task(names.get(sid, sid), total=None) for sid in view["services"]}
        while view["state"] not in FINISHED and time.monotonic() < deadline:
            for sid, p in ((view.get("progress") or {}).get("services") or {}).items():
                if sid in tasks:
                    bars.update(tasks[sid], completed=p.get("done", 0), total=p.get("total") or None)
            time.sleep(0.3)
            view = collections.get(account.id, cid)
        for sid, p in ((view.get("progress") or {}).get("services") or {}).items():
            if sid in tasks:
                bars.update(tasks[sid], completed=p.get("done", 0), total=p.get("total") or 1)
    out.print(f"{endpoints.display_name}: {gettext(STATES.get(view['state'], view['state']))} "
              f"(referentie {view['reference']})")
    receipt = view.get("receipt")
    if view.get("error"):
        out.print(gettext(error_text(view["error"])), style="red")
    if receipt:
        table = Table("Dienst", "Stand", "Nieuw", "Totaal", "Per soort", "Fout")
        for s in receipt["services"]:
            problems = [r for r in s["requests"] if not r["ok"]]
            failure = s.get("error") or (problems[0]["error"] if problems else None)
            table.add_row(s.get("name") or names.get(s["id"], s["id"]), gettext(SERVICE_STATES.get(s["state"], s["state"])),
                          str(s["new"]), str(s["resources"]),
                          ", ".join(f"{k} {v}" for k, v in s["counts"].items()),
                          (gettext(error_text(failure)) + " " + (problems[0]["reference"] if problems else s.get("reference") or "")) if failure else "")
        out.print(table)
    if view["state"] not in FINISHED:
        raise RegieError("timed out waiting for the collection")
    if view["state"] != "done":
        raise typer.Exit(1)
