"""`regie demo`: set everything up and serve Regie with a ready demo account."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import pyotp
import typer
from rich.console import Console
from rich.panel import Panel

from regie.accounts import totp
from regie.cli._common import open_accounts
from regie.cli.user import create_enrolled_user
from regie.config import Settings

DEMO_EMAIL = "demo@regie.test"
SANDBOX_START_SECONDS = 150
out = Console()


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the MedMij sandbox (0: no sandbox).")] = 8100,
) -> None:
    """Create the database and a demo account (kept in REGIE_HOME), start the MedMij sandbox, serve Regie."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    import uvicorn

    from regie.mail import outbox_dir
    from regie.store.db import Database
    from regie.store.master_key import load_master_key
    from regie.store.migrate import upgrade
    from regie.web.app import create_app

    settings = Settings()
    if "REGIE_PUBLIC_URL" not in os.environ:
        # Passkeys are bound to the address in the browser; the demo is opened on localhost.
        settings = settings.model_copy(update={"public_url": f"http://localhost:{port}"})
    if not settings.smtp_url and "REGIE_DEV_MAIL_LINKS" not in os.environ:
        # No mail server: registration and reset e-mails go to REGIE_HOME/outbox, and the
        # page that sent one shows its link, so a new user can register (docs/security.md).
        settings = settings.model_copy(update={"dev_mail_links": True})
    settings.home.mkdir(parents=True, exist_ok=True)
    load_master_key(settings)
    database = Database(settings.resolved_database_url)
    upgrade(database.engine)
    database.dispose()
    account = _demo_account(settings)
    sandbox = _start_sandbox(settings, sandbox_port) if sandbox_port else None
    if sandbox is not None:
        # Regie reads the sandbox's lists over HTTP and checks them against its key, as in production.
        settings = Settings(**{**settings.model_dump(), **_sandbox_settings(settings, sandbox_port)})
    try:
        _print_welcome(account, host, port, None if settings.smtp_url else outbox_dir(settings))
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", server_header=False)
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=10)


def _start_sandbox(settings: Settings, port: int) -> subprocess.Popen:
    """The sandbox is a process of its own: Regie talks to it over HTTP only, as to real MedMij."""
    import httpx

    environment = {**os.environ, "REGIE_HOME": str(settings.home)}
    process = subprocess.Popen(
        # A directory the size of the real one, so finding a provider is as in production.
        [sys.executable, "-m", "regie.cli.main", "sandbox", "--host", "127.0.0.1", "--port", str(port),
         "--directory-size", "2000"],
        env=environment,
    )
    lists_url = f"http://127.0.0.1:{port}"
    # Start-up takes seconds on a quiet machine and much longer on a busy one; Regie must
    # not start before the lists are there (it reads them at start-up).
    deadline = time.monotonic() + SANDBOX_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.BadParameter(f"the MedMij sandbox stopped at start (exit {process.returncode}); is port {port} free?")
        try:
            if httpx.get(f"{lists_url}/MedMij_Zorgaanbiederslijst.xml", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    process.wait(timeout=10)
    raise typer.BadParameter(f"the MedMij sandbox did not answer within {SANDBOX_START_SECONDS} s on port {port}")


def _sandbox_settings(settings: Settings, port: int) -> dict:
    """What `regie sandbox` tells Regie to set (see docs/sandbox.md), unless set already."""
    values: dict = {}
    if "REGIE_MEDMIJ_LISTS_URL" not in os.environ:
        values["medmij_lists_url"] = f"http://127.0.0.1:{port}"
    if "REGIE_MEDMIJ_LISTS_KEY" not in os.environ:
        values["medmij_lists_key"] = settings.home / "sandbox-lists-key.pem"
    if "REGIE_ALLOW_INSECURE_LOOPBACK" not in os.environ:
        values["allow_insecure_loopback"] = True
    return values


def _demo_account(settings: Settings) -> dict:
    """The demo account, made once; its details live in a 0600 file in REGIE_HOME."""
    path = settings.home / "demo-account.json"
    accounts = open_accounts(settings)
    with accounts.db.session() as session:
        exists = accounts.by_email(session, DEMO_EMAIL) is not None
    if exists and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if exists:
        raise typer.BadParameter(f"{DEMO_EMAIL} exists but {path} is gone; remove {settings.home} to start afresh")
    password = "regie-" + secrets.token_urlsafe(12)
    created = create_enrolled_user(accounts, DEMO_EMAIL, password)
    created["password"] = password
    _write_private(path, json.dumps(created, indent=2))
    return created


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _print_welcome(account: dict, host: str, port: int, outbox: Path | None = None) -> None:
    lines = [
        f"Regie runs at [bold]http://{host}:{port}[/]  (for passkeys use http://localhost:{port})",
        "",
        f"Demo account  e-mail:   [bold]{account['email']}[/]",
        f"              password: [bold]{account['password']}[/]",
        f"              TOTP key: [bold]{totp.format_secret(account['totp_secret'])}[/]",
        f"              code now: {pyotp.TOTP(account['totp_secret']).now()} (changes every 30 s)",
        "",
        "Scan the QR code below with an authenticator app, or type the key. Stop with Ctrl-C.",
    ]
    if outbox is not None:
        lines += ["", f"No mail server (REGIE_SMTP_URL): e-mails go to {outbox};",
                  "the page that sends one shows its link (development only)."]
    out.print(Panel("\n".join(lines), title="Regie demo", expand=False))
    out.print(totp.qr_terminal(account["totp_uri"]), highlight=False)
