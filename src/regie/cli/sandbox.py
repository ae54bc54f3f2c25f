"""`regie sandbox`: a local stand-in for the MedMij network (lists, providers, DigiD).

Never imports regie.web or regie.store (nor regie.cli._common, which does).
"""
from __future__ import annotations

import shutil
import string
from pathlib import Path
from typing import Annotated

import typer

from regie.config import Settings

LISTS_KEY_FILE = "sandbox-lists-key.pem"
_KINDS = (
    ("huisartspraktijk", ("49", "51")),
    ("ziekenhuis", ("48", "51")),
    ("apotheek", ("48",)),
    ("ggz", ("50",)),
    ("zorgcentrum", ("61",)),
)


def _letters(index: int) -> str:
    """0 -> "aaa", 1 -> "aab", ...: provider names may hold only a-z."""
    out = ""
    for _ in range(3):
        index, rest = divmod(index, 26)
        out = string.ascii_lowercase[rest] + out
    while index:
        index, rest = divmod(index - 1, 26)
        out = string.ascii_lowercase[rest] + out
    return out


def directory_providers(count: int):
    """*count* extra, generated providers: a ZAL the size of the real one."""
    from regie.sandbox.config import Provider

    result = []
    for i in range(count):
        kind, services = _KINDS[i % len(_KINDS)]
        code = _letters(i)
        result.append(Provider(f"{kind}{code}", f"{kind.capitalize()} {code.upper()}", services))
    return tuple(result)


def sandbox(
    data: Annotated[
        Path | None,
        typer.Option(help="Folder with FHIR test data to serve (else synthetic data only)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    client: Annotated[
        list[str] | None,
        typer.Option("--client", help="Extra PGO hostname (OAuth client_id); repeatable."),
    ] = None,
    directory_size: Annotated[
        int, typer.Option(min=0, help="Add this many generated providers to the ZAL.")
    ] = 0,
    tls: Annotated[bool, typer.Option(help="Serve https (not built yet).")] = False,
) -> None:
    """Run the MedMij sandbox: lists, providers with DigiD and consent, FHIR servers."""
    from dataclasses import replace

    import uvicorn

    from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
    from regie.sandbox.config import default_config, synth_persons
    from regie.sandbox.lists import trust_anchor_path

    if tls:
        # TODO: local CA + server certificate for *.localhost, and mTLS on the back channel.
        typer.echo("--tls is not built yet; run without it (plain http on loopback).", err=True)
        raise typer.Exit(2)
    if data is not None and not data.is_dir():
        typer.echo(f"--data: {data} is not a folder", err=True)
        raise typer.Exit(2)

    home = Settings().home
    state_dir = home / "sandbox"
    config = default_config(port=port, clients=tuple(client or ()), persons=synth_persons())
    if directory_size:
        config = replace(config, providers=config.providers + directory_providers(directory_size))
    app = create_sandbox_app(
        config, state_dir, fhir_app_factory=load_fhir_app_factory(data_dir=data)
    )
    key_path = home / LISTS_KEY_FILE
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trust_anchor_path(state_dir), key_path)

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    lines = [
        f"MedMij sandbox on http://{shown_host}:{port}/ (providers on {config.base_url})",
        "",
        "Set these for Regie:",
        f"  REGIE_MEDMIJ_LISTS_URL=http://{shown_host}:{port}",
        f"  REGIE_MEDMIJ_LISTS_KEY={key_path}",
        "  REGIE_ALLOW_INSECURE_LOOPBACK=1",
        "",
        "PGO clients (client_id): " + ", ".join(c.hostname for c in config.clients),
        "",
        "Test persons (log in at the DigiD simulator with one of these):",
        *(f"  {p.bsn}  {p.name} ({p.birth_date.isoformat()})" for p in config.persons),
        "",
    ]
    typer.echo("\n".join(lines))
    uvicorn.run(app, host=host, port=port, server_header=False, log_level="info")
