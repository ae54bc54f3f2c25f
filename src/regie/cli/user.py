"""`regie user`: accounts made by an administrator."""
from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from regie.accounts import totp
from regie.accounts.errors import EmailTaken, ValidationFailed
from regie.cli._common import fail_on_regie_error, open_accounts

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("create")
@fail_on_regie_error
def create(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make an administrator.")] = False,
) -> None:
    """Create an account with TOTP already set up; prints its TOTP secret and recovery codes."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise typer.BadParameter("no terminal to ask for a password; use --password-stdin")
    accounts = open_accounts()
    created = create_enrolled_user(accounts, email, password, admin=admin)
    if as_json:
        typer.echo(orjson.dumps(created).decode())
        return
    typer.echo(f"Created {created['email']}")
    typer.echo(f"TOTP secret: {totp.format_secret(created['totp_secret'])}")
    typer.echo(totp.qr_terminal(created["totp_uri"]))
    typer.echo("Recovery codes: " + "  ".join(created["recovery_codes"]))


#: Tries to confirm the new TOTP factor with a code made on the spot (see below).
_CONFIRM_ATTEMPTS = 3


def create_enrolled_user(accounts, email: str, password: str, *, admin: bool = False) -> dict:
    """Register, add a confirmed TOTP factor and recovery codes; raise typer errors for bad input."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.accounts.activity import ClientInfo
    from regie.web.messages import message

    cli_client = ClientInfo(ip="", user_agent="regie command line")
    try:
        user = accounts.register(email, password, cli_client, is_admin=admin)
    except ValidationFailed as exc:
        raise typer.BadParameter("; ".join(f"{field}: {message(code)}" for field, code in exc.errors.items())) from exc
    except EmailTaken as exc:
        raise typer.BadParameter(f"{email}: {message('email-taken')}") from exc
    pending = accounts.begin_totp(user.id)
    for attempt in range(_CONFIRM_ATTEMPTS):
        try:
            accounts.confirm_totp(user.id, pending.factor_id, _current_code(pending.secret), cli_client)
            break
        except ValidationFailed:
            # The previous step's code is two steps old once a 30-second step ends between
            # making it and checking it (a machine busy enough to stall the command right
            # then): again, with a fresh code. A bounded number of times, so a code that
            # is wrong for another reason still ends in the error.
            if attempt == _CONFIRM_ATTEMPTS - 1:
                raise
    codes = accounts.renew_recovery_codes(user.id, cli_client, first=True)
    return {
        "id": user.id,
        "email": user.email,
        "totp_secret": pending.secret,
        "totp_uri": pending.uri,
        "recovery_codes": codes,
    }


def _current_code(secret: str) -> str:
    # The code of the previous 30-second step (still accepted for clock drift), so the
    # code the person's app shows right now is not "already used" by this confirmation.
    import time

    import pyotp

    return pyotp.TOTP(secret).at(time.time() - 30)
