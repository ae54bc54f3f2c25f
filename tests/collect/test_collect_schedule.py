"""Staying up to date: scheduled re-collects with long-lived consent and the e-mail that
says there is new data (through a local aiosmtpd server), never what it is.

"New data at the provider" is made by deleting the patient's stored resources between
runs: the sandbox's data is fixed, and to Regie both look the same (items it does not
hold yet)."""
from __future__ import annotations

import email
import time
from contextlib import ExitStack
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from regie.collect.schedule import recollect_due
from regie.collect.service import Collections
from regie.jobs import tasks
from regie.jobs.queue import JobQueue
from regie.jobs.tasks import JobContext
from regie.jobs.worker import Worker
from regie.store.collect_models import MedMijConsent
from regie.store.record_models import RecordResource
from regie.store.types import utcnow
from regie.web.app import create_app
from tests.collect.conftest import Regie
from tests.collect.harness import GP, Network, api_token, consent, regie_settings, wait_finished
from tests.sandbox.live import free_port

EMAIL = "patient@voorbeeld.nl"


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def setup(tmp_path: Path):
    with ExitStack() as stack:
        inbox = Inbox()
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        stack.callback(controller.stop)
        network = Network(tmp_path / "sandbox", stack)
        home = tmp_path / "home"
        home.mkdir()
        settings = regie_settings(home, f"sqlite:///{tmp_path / 'regie.sqlite3'}", network, "http://localhost:8000",
                                  smtp_url=f"smtp://127.0.0.1:{port}", smtp_from="Regie <regie@voorbeeld.nl>")
        app = create_app(settings)
        client = stack.enter_context(TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False))
        stack.callback(app.state.context.db.dispose)
        user_id, token = api_token(app.state.context, EMAIL)
        yield Regie(app, client, token, user_id, network), inbox


def _wait_for_mail(inbox: Inbox, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def _forget_record(regie: Regie) -> None:
    with regie.app.state.context.db.session() as session:
        session.execute(delete(RecordResource).where(RecordResource.user_id == regie.user_id))


def test_scheduled_recollect_mails_that_there_is_new_data_and_never_what(setup):
    regie, inbox = setup
    context = regie.app.state.context
    settings, db, keyring = context.settings, context.db, context.accounts.keyring
    collections = Collections(settings, db, keyring)

    # A collection with "keep permission": the consent is stored, weekly by default.
    first = regie.start(GP, ["49", "904"], long_lived=True)
    assert regie.callback(consent(first["authorization_url"])).status_code == 200
    assert wait_finished(regie.get, first["id"])["state"] == "done"
    [kept] = collections.consents(regie.user_id)
    assert kept["schedule_days"] == 7 and kept["email_new_data"]
    start = utcnow()
    assert timedelta(days=6) < kept["next_run_at"] - start <= timedelta(days=7)
    titles = {item["title"] for item in regie.get("/api/v1/record/items?limit=200").json()["items"]}

    # Not due yet: nothing happens. A week later: re-collected, nothing new, no e-mail.
    assert recollect_due(settings, db, keyring, now=start) == []
    [quiet] = recollect_due(settings, db, keyring, now=start + timedelta(days=7, minutes=1))
    view = regie.get(f"/api/v1/collections/{quiet}").json()
    assert view["state"] == "done" and view["receipt"]["totals"]["new"] == 0, view
    assert recollect_due(settings, db, keyring, now=start + timedelta(days=7, minutes=2)) == []  # taken once
    time.sleep(0.2)
    assert inbox.messages == []

    # New data: one e-mail, to the patient, that says only that there is something new.
    _forget_record(regie)
    [loud] = recollect_due(settings, db, keyring, now=start + timedelta(days=14, minutes=2))
    view = regie.get(f"/api/v1/collections/{loud}").json()
    assert view["state"] == "done" and view["receipt"]["totals"]["new"] > 0, view
    _wait_for_mail(inbox, 1)
    [message] = inbox.messages
    assert inbox.recipients == [[EMAIL]]
    assert message["To"] == EMAIL and message["From"] == "Regie <regie@voorbeeld.nl>"
    assert message["Subject"] == "Nieuwe gegevens in Regie"
    body = message.get_content()
    assert "http://localhost:8000/" in body and "http://localhost:8000/collect" in body
    text = f"{message['Subject']}\n{body}".casefold()
    receipt = view["receipt"]
    forbidden = {t.casefold() for t in titles if t} | {"huisarts", "de vries", GP, "zelfmeting", "bsn"}
    forbidden |= {s["name"].casefold() for s in receipt["services"] if s.get("name")}
    forbidden |= {c.casefold().replace("_", " ") for c in receipt["totals"]["counts"]}
    assert not [word for word in forbidden if word in text], forbidden
    assert str(receipt["totals"]["new"]) not in body

    # The patient turns the e-mail off: new data again, no e-mail.
    assert collections.set_schedule(regie.user_id, kept["id"], 7, False)
    _forget_record(regie)
    [silent] = recollect_due(settings, db, keyring, now=start + timedelta(days=21, minutes=3))
    assert regie.get(f"/api/v1/collections/{silent}").json()["receipt"]["totals"]["new"] > 0
    time.sleep(0.2)
    assert len(inbox.messages) == 1

    # Scheduled collections are in the history like any other.
    channels = [c["channel"] for c in regie.get("/api/v1/collections").json()["collections"]]
    assert channels.count("schedule") == 3


def test_schedule_choices_never_more_than_daily(setup):
    regie, _inbox = setup
    context = regie.app.state.context
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    collections.keep_consent(regie.user_id, f"{GP}@medmij", f"{GP}~49", "token-from-elsewhere")
    [kept] = collections.consents(regie.user_id)
    now = utcnow()
    for wrong in (2, -1, 365):
        with pytest.raises(ValueError):
            collections.set_schedule(regie.user_id, kept["id"], wrong, True)
    assert collections.set_schedule(regie.user_id, kept["id"], 1, True, now=now)
    [daily] = collections.consents(regie.user_id)
    assert daily["schedule_days"] == 1 and daily["next_run_at"] - now >= timedelta(days=1)
    assert collections.set_schedule(regie.user_id, kept["id"], 0, True, now=now)
    assert collections.consents(regie.user_id)[0]["next_run_at"] is None
    assert collections.due_consents(now + timedelta(days=400)) == []
    assert not collections.set_schedule("someone-else", kept["id"], 7, True)


def test_the_job_queue_runs_due_recollects_and_a_refused_token_ends_the_consent(setup):
    regie, inbox = setup
    context = regie.app.state.context
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    # A consent whose refresh token the provider does not know (withdrawn there).
    collections.keep_consent(regie.user_id, f"{GP}@medmij", f"{GP}~49", "withdrawn-at-the-provider")
    with context.db.session() as session:
        session.execute(update(MedMijConsent).values(next_run_at=utcnow() - timedelta(minutes=1)))
    assert tasks.RECOLLECT in tasks.periodic(context.settings)
    JobQueue(context.db).enqueue(tasks.RECOLLECT, {})  # the periodic job: fans out per due consent
    worker = Worker(JobContext(context.settings, context.db, context.accounts.keyring), schedule=False)
    assert worker.run_until_idle() == 2
    [row] = regie.get("/api/v1/collections").json()["collections"]
    assert row["channel"] == "schedule" and row["state"] == "failed"
    assert row["error"]["code"] == "token-refused"
    assert collections.consents(regie.user_id) == []  # nothing left to retry with
    assert inbox.messages == []
    off = context.settings.model_copy(update={"collect_schedule": False})
    assert tasks.RECOLLECT not in tasks.periodic(off)


def test_consents_api(setup):
    regie, _inbox = setup
    context = regie.app.state.context
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    collections.keep_consent(regie.user_id, f"{GP}@medmij", f"{GP}~49 {GP}~904", "secret-refresh-token")
    listed = regie.get("/api/v1/consents")
    assert listed.status_code == 200 and "secret-refresh-token" not in listed.text
    [kept] = listed.json()["consents"]
    assert kept["scope"] == [f"{GP}~49", f"{GP}~904"] and kept["schedule_days"] == 7 and kept["email_new_data"]
    url = f"/api/v1/consents/{kept['id']}"
    changed = regie.client.put(url, json={"schedule_days": 1, "email_new_data": False}, headers=regie.headers)
    assert changed.status_code == 200 and changed.json()["schedule_days"] == 1, changed.text
    assert not changed.json()["email_new_data"]
    too_often = regie.client.put(url, json={"schedule_days": 2}, headers=regie.headers)
    assert too_often.status_code == 422 and too_often.json()["errors"][0]["field"] == "schedule_days"
    assert regie.client.delete(url, headers=regie.headers).status_code == 204
    assert regie.client.delete(url, headers=regie.headers).status_code == 404
    assert regie.get("/api/v1/consents").json()["consents"] == []



def test_the_new_data_e_mail_is_in_the_language_the_patient_chose(setup):
    """Started in English (the API's Accept-Language; on the pages the language cookie):
    the e-mail is in English. The patient switches to Dutch on /collect: Dutch from then on."""
    regie, inbox = setup
    context = regie.app.state.context
    settings, db, keyring = context.settings, context.db, context.accounts.keyring
    collections = Collections(settings, db, keyring)
    response = regie.client.post("/api/v1/collections", json={"provider": GP, "services": ["49"], "long_lived": True},
                                 headers={**regie.headers, "Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert response.status_code == 201, response.text
    regie.callback(consent(response.json()["authorization_url"]))
    assert wait_finished(regie.get, response.json()["id"])["state"] == "done"
    [kept] = collections.consents(regie.user_id)
    assert kept["language"] == "en"
    start = utcnow()

    _forget_record(regie)
    [english] = recollect_due(settings, db, keyring, now=start + timedelta(days=7, minutes=1))
    assert regie.get(f"/api/v1/collections/{english}").json()["receipt"]["totals"]["new"] > 0
    _wait_for_mail(inbox, 1)
    [message] = inbox.messages
    assert message["Subject"] == "New data in Regie"
    body = message.get_content()
    assert "Regie has collected new data from one of your care providers." in body
    assert "http://localhost:8000/collect" in body and "gegevens" not in body.casefold()
    assert GP not in body.casefold() and "huisarts" not in body.casefold()

    # The patient saves the schedule on /collect in Dutch (the page passes its language).
    assert collections.set_schedule(regie.user_id, kept["id"], 7, True, language="nl")
    _forget_record(regie)
    [dutch] = recollect_due(settings, db, keyring, now=start + timedelta(days=14, minutes=2))
    assert regie.get(f"/api/v1/collections/{dutch}").json()["receipt"]["totals"]["new"] > 0
    _wait_for_mail(inbox, 2)
    assert inbox.messages[1]["Subject"] == "Nieuwe gegevens in Regie"
    assert "Regie has collected" not in inbox.messages[1].get_content()
