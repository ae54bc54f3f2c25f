"""`regie worker`: runs background jobs from the queue (docs/decisions/0004-jobs.md)."""
from __future__ import annotations

import signal
from typing import Annotated

import typer

from regie.config import Settings


def worker(
    concurrency: Annotated[int | None, typer.Option(min=1, help="Jobs run at once (REGIE_JOBS_CONCURRENCY).")] = None,
    once: Annotated[bool, typer.Option(help="Run the jobs that are due, then stop.")] = False,
) -> None:
    """Run background jobs: list refreshes, clean-up, scheduled re-collects (run `regie db upgrade` first).

    Stops gracefully on SIGTERM or Ctrl-C: running jobs may finish within
    REGIE_JOBS_GRACE_SECONDS, then they are handed back to the queue.
    """
    # Imported here, not at the top: `regie --help` loads this module (regie.cli.lazy).
    from regie.jobs.tasks import JobContext
    from regie.jobs.worker import Worker
    from regie.ops.logs import configure_logging
    from regie.store.db import Database
    from regie.store.migrate import require_current

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    database = Database(settings.resolved_database_url)
    require_current(database.engine)
    runner = Worker(JobContext(settings, database), concurrency=concurrency)
    if once:
        count = runner.run_until_idle()
        typer.echo(f"{count} job(s) run")
        return

    def on_signal(_number, _frame) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if settings.gc_freeze:
        from regie.ops.gc_pauses import freeze_startup_objects

        freeze_startup_objects()  # short collector pauses, as in the web processes
    try:
        runner.run()
    finally:
        database.dispose()
