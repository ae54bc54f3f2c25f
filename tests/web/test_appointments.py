"""Appointments: upcoming/past, .ics per appointment, and the secret calendar feed (both databases)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import orjson
from icalendar import Calendar

from regie.store.ingest import RecordService
from regie.store.owndata_models import CalendarFeed

FEED = re.compile(r"http://localhost(?::\d+)?(/calendar/[A-Za-z0-9_-]+\.ics)")


def _appointment(rid: str, start: datetime, text: str) -> dict:
    return {"resourceType": "Appointment", "id": rid,
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/eAfspraak-Appointment"]},
            "status": "booked", "description": text,
            "start": start.isoformat(timespec="seconds"), "end": (start + timedelta(minutes=45)).isoformat(timespec="seconds"),
            "participant": [
                {"actor": {"reference": "Practitioner/p1", "display": "A.F. Snijder"}, "status": "accepted"},
                {"actor": {"reference": "Location/l1", "display": "Medisch Centrum, West vleugel"}, "status": "accepted"}]}


def _load(browser, email: str) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": _appointment("a1", now + timedelta(days=10), "Controle chirurgie")},
        {"resource": _appointment("a2", now - timedelta(days=30), "Eerste gesprek")}]}
    context = browser.context
    service = RecordService(context.db, context.accounts.keyring)
    with context.db.session() as session:
        user = context.accounts.by_email(session, email)
    outcome = service.import_bytes(service.keys(user), orjson.dumps(bundle), name="afspraken.json",
                                   source="ziekenhuis~eAfspraak", channel="cli")
    assert outcome.ok, outcome.error


def test_upcoming_past_ics_and_feed(browser) -> None:
    account = browser.register()
    _load(browser, account.email)
    page = browser.client.get("/appointments")
    assert page.status_code == 200
    upcoming, past = page.text.split('id="main"')[1].split("<h2>")[1:3]
    assert "Controle chirurgie" in upcoming and "Eerste gesprek" in past
    link = re.search(r'href="(/appointments/[0-9a-z]+\.ics)"', page.text).group(1)
    ics = browser.client.get(link)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(events) == 1 and str(events[0]["location"]) == "Medisch Centrum, West vleugel"

    made = browser.post_form("/appointments/feed", {}, token_from="/appointments")
    feed_path = FEED.search(made.text).group(1)
    token = feed_path.rsplit("/", 1)[1][:-4]
    with browser.context.db.session() as session:
        hashes = [f.token_hash for f in session.query(CalendarFeed).all()]
    assert token not in " ".join(hashes)  # only the hash is stored
    browser.logout()
    feed = browser.client.get(feed_path)  # no session needed
    assert feed.status_code == 200
    assert {str(e["summary"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")} == {
        "Controle chirurgie", "Eerste gesprek"}
    assert browser.client.get("/calendar/not-a-token.ics").status_code == 404
    browser.login(account)
    assert browser.post_form("/appointments/feed/revoke", {}, token_from="/appointments").status_code == 303
    assert browser.client.get(feed_path).status_code == 404
