"""`regie token`: API tokens made by an administrator."""
from __future__ import annotations

from typing import Annotated

import orjson
import typer

from regie.accounts.errors import ValidationFailed
from regie.cli._common import fail_on_regie_error, open_accounts

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
@fail_on_regie_error
def create(
    user: Annotated[str, typer.Option("--user", help="E-mail address of the account.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Make an API token for an account; it is shown once."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.accounts import tokens
    from regie.accounts.activity import ClientInfo

    accounts = open_accounts()
    with accounts.db.session() as session:
        account = accounts.by_email(session, user)
        if account is None:
            raise typer.BadParameter(f"no account with e-mail address {user}", param_hint="--user")
        try:
            issued = tokens.create(session, account.id, name, ClientInfo(user_agent="regie command line"), created_by="admin")
        except ValidationFailed as exc:
            raise typer.BadParameter(", ".join(exc.errors.values()), param_hint="--name") from exc
    if as_json:
        typer.echo(orjson.dumps({"token": issued.token, "id": issued.id, "name": issued.name}).decode())
    else:
        typer.echo(issued.token)
