"""`regie serve`: the production web server (uvicorn)."""
from __future__ import annotations

import os
import shutil
from typing import Annotated

import typer

from regie.config import Settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Number of web processes.")] = 1,
    proxy_headers: Annotated[bool, typer.Option(help="Trust X-Forwarded-* from the reverse proxy.")] = False,
) -> None:
    """Serve Regie (run `regie db upgrade` first)."""
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    import uvicorn

    from regie.ops.logs import logging_config
    from regie.store.db import Database
    from regie.store.master_key import load_master_key
    from regie.store.migrate import require_current

    settings = Settings()
    # Check before any worker starts, so a bad set-up fails once, clearly.
    load_master_key(settings)
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    database.dispose()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Metrics of all web processes in one /metrics (regie.ops.metrics); set before they start.
        folder = settings.home / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    uvicorn.run(
        "regie.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        server_header=False,
        log_config=logging_config(settings.log_format, settings.log_level),
        access_log=False,  # raw paths and query strings; regie.web.request_log logs route templates
        # With --workers, uvicorn kills a process that does not answer its health check in
        # time; a fresh process spends that time importing Regie, which on a busy machine takes
        # longer than uvicorn's 5 s: processes were killed and restarted in a loop.
        timeout_worker_healthcheck=60,
    )
