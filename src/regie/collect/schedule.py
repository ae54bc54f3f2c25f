"""Staying up to date: scheduled re-collects with long-lived consents, and the e-mail
that says there is new data.

Where a provider granted long-lived consent (a refresh token, ``medmij_consents``),
Regie re-collects every ``schedule_days`` days the patient chose (default weekly, never
more than daily, 0 = never). No access token is waiting in any process's memory, so this
runs as a job of the job queue (``collect.recollect``, :mod:`regie.jobs.tasks`): on one
machine the worker thread of the web process, with PostgreSQL any `regie worker`. The
job looks for due consents every ``REGIE_COLLECT_SCHEDULE_CHECK_MINUTES``; each consent
is taken with a conditional update of its next run, so two workers never run one twice.

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
    """The ``collect.recollect`` job handler (registered in :mod:`regie.jobs.tasks`)."""
    recollect_due(context.settings, context.db, context.keyring)


def recollect_due(settings: Settings, db: Database, keyring: KeyRing, *, now: datetime | None = None,
                  transport=None) -> list[str]:
    """Run every due scheduled re-collect, one after the other; the collection ids."""
    from regie.medmij.lists_client import ListsClient

    collections = Collections(settings, db, keyring)
    lists = ListsClient(settings, db)
    runner = CollectionRunner(collections, lists.directory, transport=transport)
    done: list[str] = []
    for consent_id in collections.due_consents(now):
        taken = collections.start_scheduled(consent_id, now)
        if taken is None:
            continue  # another worker took it, or it was revoked meanwhile
        claim, refresh_token = taken
        asyncio.run(runner.run_scheduled(claim, refresh_token))
        del refresh_token
        done.append(claim.collection_id)
        view = collections.get(claim.user_id, claim.collection_id) or {}
        receipt = view.get("receipt") or {}
        new = (receipt.get("totals") or {}).get("new", 0)
        log.info("scheduled re-collect finished",
                 extra={"collection": claim.collection_id, "state": view.get("state"), "new": new})
        if new:
            _tell(settings, collections, claim.user_id, claim.provider)
    return done


def _tell(settings: Settings, collections: Collections, user_id: str, provider: str) -> None:
    wanted = any(c["provider"] == provider and c["email_new_data"] for c in collections.consents(user_id))
    if not wanted or not mail_configured(settings):
        return
    with collections.db.session() as session:
        user = session.get(User, user_id)
        address = user.email if user is not None else None
    if not address:
        return
    subject, body = new_data_message(settings.public_url)
    try:
        send_mail(settings, address, subject, body)
    except MailError as exc:
        # The data is stored and on the receipt; a lost notification is only logged.
        log.warning("new-data e-mail not sent: %s", exc)
