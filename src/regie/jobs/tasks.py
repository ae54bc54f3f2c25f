"""Job kinds and their handlers.

A handler is ``handler(context, job)``; it must be safe to run twice (a job handed back
on SIGTERM, or requeued after its worker died, runs again from the start). Handlers log
ids and counts only, never content.

Scheduled re-collects (``collect.recollect``): the handler lives with the collector
(:func:`regie.collect.schedule.recollect_job`), imported when the job runs; it is
periodic while ``REGIE_COLLECT_SCHEDULE`` is on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from regie.config import Settings
from regie.jobs.queue import ClaimedJob
from regie.store.db import Database

log = logging.getLogger("regie.jobs")

LISTS_REFRESH = "lists.refresh"
CLEANUP = "cleanup"
RECOLLECT = "collect.recollect"


@dataclass
class JobContext:
    settings: Settings
    db: Database
    _keyring: object | None = field(default=None, repr=False)

    @property
    def keyring(self):
        """The master key ring, loaded on first use (only per-user jobs need it)."""
        if self._keyring is None:
            from regie.store.master_key import keyring_for

            self._keyring = keyring_for(self.settings)
        return self._keyring


Handler = Callable[[JobContext, ClaimedJob], None]
HANDLERS: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    HANDLERS[kind] = handler


def periodic(settings: Settings) -> dict[str, timedelta]:
    """Jobs every worker keeps scheduled (one unfinished job each, shared by all workers)."""
    jobs = {CLEANUP: timedelta(minutes=settings.jobs_cleanup_minutes)}
    from regie.medmij.lists_client import ListsClient

    if settings.lists_auto_refresh and ListsClient(settings, None).configured:  # type: ignore[arg-type]
        # Checked often; the handler downloads only when a list is older than lists_refresh_hours.
        jobs[LISTS_REFRESH] = timedelta(minutes=5)
    if settings.collect_schedule:
        # Looks for due re-collects (long-lived consents, each on its patient's schedule).
        jobs[RECOLLECT] = timedelta(minutes=settings.collect_schedule_check_minutes)
    return jobs


def refresh_lists(context: JobContext, job: ClaimedJob) -> None:
    from regie.medmij.lists_client import ListsClient

    client = ListsClient(context.settings, context.db)
    if not client.configured or not client.needs_refresh():
        return
    outcomes = client.refresh()
    log.info("lists refreshed", extra={"outcomes": {o.kind: o.result for o in outcomes}})


def cleanup(context: JobContext, job: ClaimedJob) -> None:
    """Everything that expired (sessions, links, invitations, OAuth states, counters, old
    jobs, stopped erasures, old outbox mail): see :mod:`regie.jobs.cleanup`."""
    from regie.jobs.cleanup import run

    run(context.db, context.settings)


def recollect(context: JobContext, job: ClaimedJob) -> None:
    from regie.collect.schedule import recollect_job

    recollect_job(context, job)


class NoHandler(Exception):
    """No handler is registered for this job kind."""


register(LISTS_REFRESH, refresh_lists)
register(CLEANUP, cleanup)
register(RECOLLECT, recollect)
