"""Staying up to date: scheduled re-collects with long-lived consents, and the e-mail
that says there is new data.

Where a provider granted long-lived consent (a refresh token, ``medmij_consents``),
Regie re-collects every ``schedule_days`` days the patient chose (default weekly, never
more than daily, 0 = never). No access token is waiting in any process's memory, so this
runs as a job of the job queue (``collect.recollect``, :mod:`regie.jobs.tasks`): on one
machine the worker thread of the web process, with PostgreSQL any `regie worker`. The
job looks for due consents every ``REGIE_COLLECT_SCHEDULE_CHECK_MINUTES`` and queues one
job per consent; each consent is taken with a conditional update of its next run, so two
workers never run one twice.

Each run is a normal collection (channel ``schedule``) with its receipt in the patient's
history. When it brought something new and the patient did not turn it off, the
patient gets an e-mail (``REGIE_SMTP_URL``) that says only *that* there is new data:
never what, and never from which provider (a provider's name can say too much).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from regie.collect.runner import CollectionRunner
from regie.collect.service import Collections
from regie.collect.texts import N_
from regie.config import Settings
from regie.mail import MailError, mail_configured, send_mail
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.models import User

log = logging.getLogger("regie.collect")

MAIL_SUBJECT = N_("New data in Regie")
MAIL_LINES = (
    N_("Hello,"),
    "",
    N_("Regie has collected new data from one of your care providers."),
    N_("Log in to see it: {url}"),
    "",
    N_("You get this message because you asked Regie to keep your data up to date."),
    N_("You can turn these e-mails off under Collect data: {settings_url}"),
)


def new_data_message(public_url: str, language: str = "nl") -> tuple[str, str]:
    """Subject and body of the "there is new data" e-mail: no medical content, no provider."""
    from regie.web.i18n import translations

    gettext = translations(language).gettext
    base = public_url.rstrip("/")
    body = "\n".join(gettext(line) if line else "" for line in MAIL_LINES)
    return gettext(MAIL_SUBJECT), body.format(url=f"{base}/", settings_url=f"{base}/collect") + "\n"


def recollect_job(context, job) -> None:
    """The ``collect.recollect`` job handler (registered in :mod:`regie.jobs.tasks`).

    The periodic job (no payload) fans out: one job per due consent (``{"consent": id}``,
    one unfinished job per consent at most), so many patients' re-collects spread over
    every worker. A job with a consent (and its user) runs that one re-collect."""
    payload = job.payload or {}
    consent_id, user_id = payload.get("consent"), payload.get("user")
    if consent_id:
        if user_id:  # a job queued before the user was in the payload: the next fan-out has it
            # Run again after its worker was killed: that run's collection may still say
            # "running" (the web processes sweep only every collect_sweep_seconds, and there
            # may be none). Its heartbeat is stale by now (collect_stale_after <
            # jobs_stale_after): mark it interrupted before this run's own collection starts.
            Collections(context.settings, context.db, context.keyring).sweep_interrupted(user_id=str(user_id))
            recollect_one(context.settings, context.db, context.keyring, str(user_id), str(consent_id))
        return
    from regie.jobs.queue import JobQueue

    queue = JobQueue(context.db)
    collections = Collections(context.settings, context.db, context.keyring)
    for user_id, due in collections.due_consents():
        queue.enqueue(job.kind, {"consent": due, "user": user_id}, singleton=f"recollect:{due}")


def recollect_due(settings: Settings, db: Database, keyring: KeyRing, *, now: datetime | None = None,
                  transport=None) -> list[str]:
    """Run every due scheduled re-collect here, one after the other; the collection ids."""
    collections = Collections(settings, db, keyring)
    done = [recollect_one(settings, db, keyring, user_id, consent_id, now=now, transport=transport)
            for user_id, consent_id in collections.due_consents(now)]
    return [cid for cid in done if cid is not None]


def recollect_one(settings: Settings, db: Database, keyring: KeyRing, user_id: str, consent_id: str, *,
                  now: datetime | None = None, transport=None) -> str | None:
    """One scheduled re-collect, when that consent is (still) due; the collection id."""
    from regie.medmij.lists_client import ListsClient

    collections = Collections(settings, db, keyring)
    taken = collections.start_scheduled(user_id, consent_id, now)
    if taken is None:
        return None  # not due (any more), taken by another worker, or revoked meanwhile
    claim, refresh_token = taken
    runner = CollectionRunner(collections, ListsClient(settings, db).directory, transport=transport)
    asyncio.run(runner.run_scheduled(claim, refresh_token))
    del refresh_token
    view = collections.get(claim.user_id, claim.collection_id) or {}
    receipt = view.get("receipt") or {}
    new = (receipt.get("totals") or {}).get("new", 0)
    log.info("scheduled re-collect finished",
             extra={"collection": claim.collection_id, "state": view.get("state"), "new": new})
    if new:
        _tell(settings, collections, claim.user_id, claim.provider)
    return claim.collection_id


def _tell(settings: Settings, collections: Collections, user_id: str, provider: str) -> None:
    consent = next((c for c in collections.consents(user_id) if c["provider"] == provider), None)
    if consent is None or not consent["email_new_data"] or not mail_configured(settings):
        return
    with collections.db.session() as session:
        user = session.get(User, user_id)
        address = user.email if user is not None else None
    if not address:
        return
    # In the language the patient chose (kept with the consent), Dutch when unknown.
    subject, body = new_data_message(settings.public_url, consent.get("language") or "nl")
    try:
        send_mail(settings, address, subject, body)
    except MailError as exc:
        # The data is stored and on the receipt; a lost notification is only logged.
        log.warning("new-data e-mail not sent: %s", exc)
