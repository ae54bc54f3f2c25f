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
REINDEX = "record.reindex"
#: A rebuild job starts no new account after this long: it ends well within the worker's
#: grace period at a stop; what is left goes on in the next job, at once.
REINDEX_BUDGET_SECONDS = 15.0


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
    jobs = {CLEANUP: timedelta(minutes=settings.jobs_cleanup_minutes),
            # Accounts a migration marked for the rebuild of their record indexes: starts the
            # chain of jobs that works through them; when none waits, one small query.
            REINDEX: timedelta(minutes=5)}
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


def reindex_records(context: JobContext, job: ClaimedJob) -> None:
    """Rebuild the record indexes of accounts a migration marked (docs/decisions/0010), the
    longest waiting first, for at most :data:`REINDEX_BUDGET_SECONDS`; while some still wait
    and this job got on, the next one is queued at once. Each account is taken by locking its
    mark, so jobs and records opened meanwhile never rebuild one account twice at once. An
    account whose rebuild fails is logged and waits at the back of the line."""
    from regie.jobs.queue import JobQueue
    from regie.store.record_reindex import anyone_waiting, run_pending

    if not anyone_waiting(context.db):
        return  # the usual case: no key needed, nothing to do
    run = run_pending(context.db, context.keyring, budget_seconds=REINDEX_BUDGET_SECONDS, keep_going=True)
    if run.results or run.failed:
        log.info("record indexes rebuilt", extra={"accounts": len(run.results), "failed": len(run.failed),
                                                  "rows": sum(r.rows for r in run.results),
                                                  "finished": run.finished})
    if not run.finished and run.results:
        # The next link of the chain. Its key alternates: the running link still holds its
        # own. So one chain goes on at a time (the periodic job finds the key taken and
        # starts none), at most two for a moment; each account is done once either way.
        link = int(job.payload.get("link", 0)) + 1
        JobQueue(context.db).enqueue(REINDEX, {"link": link}, singleton=f"{REINDEX}:next:{link % 2}",
                                     max_attempts=1)


def recollect(context: JobContext, job: ClaimedJob) -> None:
    from regie.collect.schedule import recollect_job

    recollect_job(context, job)


class NoHandler(Exception):
    """No handler is registered for this job kind."""


register(LISTS_REFRESH, refresh_lists)
register(CLEANUP, cleanup)
register(RECOLLECT, recollect)
register(REINDEX, reindex_records)
