"""`regie serve`: the production web server (uvicorn)."""
from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from regie.config import Settings
from regie.store.db import Database
from regie.store.master_key import load_master_key
from regie.store.migrate import require_current


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Number of web processes.")] = 1,
    proxy_headers: Annotated[bool, typer.Option(help="Trust X-Forwarded-* from the reverse proxy.")] = False,
) -> None:
    """Serve Regie (run `regie db upgrade` first)."""
    settings = Settings()
    # Check before any worker starts, so a bad set-up fails once, clearly.
    load_master_key(settings)
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    database.dispose()
    uvicorn.run(
        "regie.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        server_header=False,
        log_level="info",
    )
