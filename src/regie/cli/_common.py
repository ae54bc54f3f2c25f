"""Shared bits of the CLI: settings, the database, and turning errors into exit codes."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from regie.config import Settings
from regie.errors import RegieError

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True)


def fail_on_regie_error(command: Callable[P, R]) -> Callable[P, R]:
    """A RegieError ends the command with its message and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except RegieError as exc:
            err.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper


def open_accounts(settings: Settings | None = None):
    """The account service on an up-to-date database."""
    # Imported here: every command loads this module, few open the database (regie.cli.lazy).
    from regie.accounts.service import Accounts
    from regie.store.db import Database
    from regie.store.master_key import keyring_for
    from regie.store.migrate import require_current

    settings = settings or Settings()
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    keyring = keyring_for(settings)
    return Accounts(settings, database, keyring)
