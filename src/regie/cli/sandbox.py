"""`regie sandbox`: a local stand-in for the MedMij network (lists, providers, DigiD).

Never imports regie.web or regie.store (nor regie.cli._common, which does).
"""
from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from regie.config import Settings

LISTS_KEY_FILE = "sandbox-lists-key.pem"
CA_FILE = "sandbox-ca.pem"

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
    tls: Annotated[
        bool,
        typer.Option(help="Serve https with a local CA the sandbox makes (trust it in Regie)."),
    ] = False,
    front_port: Annotated[
        int | None,
        typer.Option(
            help="With --tls on a port other than 443: plain-http loopback port for the "
            "browser pages (default: --port + 1)."
        ),
    ] = None,
) -> None:
    """Run the MedMij sandbox: lists, providers with DigiD and consent, FHIR servers."""
    from dataclasses import replace

    import uvicorn

    from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
    from regie.sandbox.config import Provider, base_url_for, default_config, synth_persons
    from regie.sandbox.directory import details_document, generate_directory
    from regie.sandbox.lists import trust_anchor_path

    if data is not None and not data.is_dir():
        typer.echo(f"--data: {data} is not a folder", err=True)
        raise typer.Exit(2)

    home = Settings().home
    state_dir = home / "sandbox"
    front_url = None
    if tls and port != 443:
        # The ZAL forbids a port in an https front-channel URI, so the browser pages get
        # a plain-http loopback listener of their own (the loopback schema profile).
        front_port = front_port or port + 1
        front_url = base_url_for(front_port)
    config = default_config(
        port=port, clients=tuple(client or ()), persons=synth_persons(), tls=tls,
        front_url=front_url,
    )
    generated = generate_directory(directory_size, seed=1) if directory_size else ()
    if generated:
        config = replace(config, providers=config.providers + tuple(
            Provider(p.naam, p.display_name, p.service_ids)
            for p in generated))
    details = [{"zorgaanbiedernaam": f"{p.naam}@medmij", "naam": p.display_name}
               for p in config.providers[: len(config.providers) - len(generated)]] + list(generated)
    # Higher on every start, so Regie takes a changed directory.
    volgnummer = int(datetime.now().timestamp())
    app = create_sandbox_app(
        config, state_dir, fhir_app_factory=load_fhir_app_factory(data_dir=data),
        provider_details=lambda: details_document(details, volgnummer=volgnummer),
    )
    key_path = home / LISTS_KEY_FILE
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trust_anchor_path(state_dir), key_path)

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    scheme = "https" if tls else "http"
    ca_lines: list[str] = []
    tls_files = None
    if tls:
        from regie.sandbox.tls import ensure_tls_files

        tls_files = ensure_tls_files(state_dir)
        ca_path = home / CA_FILE
        shutil.copyfile(tls_files.ca_cert, ca_path)
        ca_lines = [f"  REGIE_MEDMIJ_CA={ca_path}"]
    lines = [
        f"MedMij sandbox on {scheme}://{shown_host}:{port}/ (providers on {config.base_url})",
        *([f"Browser pages (DigiD, consent) on {config.front_base_url}"] if front_url else []),
        "",
        "Set these for Regie:",
        f"  REGIE_MEDMIJ_LISTS_URL={scheme}://{shown_host}:{port}",
        f"  REGIE_MEDMIJ_LISTS_KEY={key_path}",
        *ca_lines,
        "  REGIE_ALLOW_INSECURE_LOOPBACK=1",
        "",
        "PGO clients (client_id): " + ", ".join(c.hostname for c in config.clients),
        "",
        "Test persons (log in at the DigiD simulator with one of these):",
        *(f"  {p.bsn}  {p.name} ({p.birth_date.isoformat()})" for p in config.persons),
        "",
    ]
    typer.echo("\n".join(lines))
    if tls_files is None:
        uvicorn.run(app, host=host, port=port, server_header=False, log_level="info")
        return
    _run_tls(app, host, port, tls_files, front_port if front_url else None)


def _run_tls(app, host: str, port: int, tls_files, front_port: int | None) -> None:
    """Serve https on *port* and, if *front_port*, plain http for the browser pages;
    Ctrl-C (caught by the https server) stops both."""
    import contextlib

    import uvicorn

    class QuietServer(uvicorn.Server):
        """Leaves the signal handlers to the https server."""

        def capture_signals(self):  # type: ignore[override]
            return contextlib.nullcontext()

    main = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, server_header=False, log_level="info",
        ssl_certfile=str(tls_files.server_cert), ssl_keyfile=str(tls_files.server_key),
    ))
    front = None
    if front_port is not None:
        front = QuietServer(uvicorn.Config(
            app, host=host, port=front_port, server_header=False, log_level="info",
        ))

    async def serve() -> None:
        front_task = asyncio.create_task(front.serve()) if front is not None else None
        try:
            await main.serve()
        finally:
            if front is not None and front_task is not None:
                front.should_exit = True
                await front_task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
