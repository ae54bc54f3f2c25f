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
    issue_client_cert: Annotated[
        str | None,
        typer.Option(
            "--issue-client-cert",
            metavar="HOST",
            help="Write a client certificate and key for HOST (a name under .localhost, "
            "e.g. regie.localhost), signed by the sandbox CA, into $REGIE_HOME; print "
            "the settings for Regie; then exit.",
        ),
    ] = None,
) -> None:
    """Run the MedMij sandbox: lists, providers with DigiD and consent, FHIR servers."""
    import uvicorn

    from regie.sandbox.app import create_sandbox_app, load_fhir_app_factory
    from regie.sandbox.config import default_config, synth_persons
    from regie.sandbox.directory import details_document, sandbox_directory
    from regie.sandbox.lists import trust_anchor_path

    if data is not None and not data.is_dir():
        typer.echo(f"--data: {data} is not a folder", err=True)
        raise typer.Exit(2)

    home = Settings().home
    state_dir = home / "sandbox"
    if issue_client_cert is not None:
        _issue_client_cert(home, state_dir, issue_client_cert, tuple(client or ()))
        return
    # With --tls on any port one listener serves everything: the loopback schema profile
    # accepts https://<name>.localhost:<port> front-channel URIs.
    config = default_config(
        port=port, clients=tuple(client or ()), persons=synth_persons(), tls=tls,
    )
    # Generated providers never take the answering providers' names; these get a place.
    config, details = sandbox_directory(config, directory_size, seed=1)
    # Higher on every start, so Regie takes a changed directory.
    volgnummer = int(datetime.now().timestamp())
    tls_files = None
    if tls:
        from regie.sandbox.tls import ensure_tls_files

        tls_files = ensure_tls_files(state_dir)
    app = create_sandbox_app(
        config, state_dir, fhir_app_factory=load_fhir_app_factory(data_dir=data),
        provider_details=lambda: details_document(details, volgnummer=volgnummer),
        # --tls: the back channel (token, FHIR) needs a Whitelisted client certificate.
        client_ca=tls_files.ca_cert if tls_files is not None else None,
    )
    key_path = home / LISTS_KEY_FILE
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trust_anchor_path(state_dir), key_path)

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    scheme = "https" if tls else "http"
    ca_lines: list[str] = []
    if tls_files is not None:
        ca_path = home / CA_FILE
        shutil.copyfile(tls_files.ca_cert, ca_path)
        ca_lines = [
            f"  REGIE_MEDMIJ_CA={ca_path}",
            "  (the token and FHIR endpoints want a client certificate: "
            "regie sandbox --issue-client-cert regie.localhost)",
        ]
    lines = [
        f"MedMij sandbox on {scheme}://{shown_host}:{port}/ (providers on {config.base_url})",
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
    _run_tls(app, host, port, tls_files)


def _run_tls(app, host: str, port: int, tls_files) -> None:
    """Serve https on *port*: server TLS for everyone, and a client certificate from the
    sandbox CA asked for (optional in the handshake, so browsers need none; the app
    demands it on the back channel, see regie.sandbox.mtls)."""
    import contextlib
    import ssl

    import uvicorn

    from regie.sandbox.mtls import PeerCertH11Protocol

    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, server_header=False, log_level="info",
        http=PeerCertH11Protocol,
        ssl_certfile=str(tls_files.server_cert), ssl_keyfile=str(tls_files.server_key),
        ssl_cert_reqs=ssl.CERT_OPTIONAL, ssl_ca_certs=str(tls_files.ca_cert),
    ))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve())


def _issue_client_cert(home: Path, state_dir: Path, hostname: str, clients: tuple[str, ...]) -> None:
    from regie.sandbox.config import default_config
    from regie.sandbox.tls import issue_client_cert

    try:
        issued = issue_client_cert(state_dir, hostname, home)
    except ValueError as exc:
        typer.echo(f"--issue-client-cert: {exc}", err=True)
        raise typer.Exit(2) from None
    whitelist = default_config(clients=clients).lists_config().whitelist_hostnames()
    lines = [
        f"Client certificate for {issued.hostname}, signed by the sandbox CA "
        f"({state_dir / 'tls' / 'ca.pem'}).",
        "",
        "Set these for Regie (mutual TLS on the back channel):",
        f"  REGIE_MEDMIJ_CLIENT_CERT={issued.cert}",
        f"  REGIE_MEDMIJ_CLIENT_KEY={issued.key}",
        f"  REGIE_MEDMIJ_CA={home / CA_FILE}",
    ]
    if issued.hostname not in whitelist:
        lines += ["", f"Note: {issued.hostname} is not on the sandbox Whitelist; start the "
                  f"sandbox with --client {issued.hostname} (or use regie.localhost)."]
    shutil.copyfile(state_dir / "tls" / "ca.pem", home / CA_FILE)
    typer.echo("\n".join(lines))
