"""Collected appointments (eAfspraak): listing, iCalendar files and the personal calendar feed.

Appointments are record items of category ``appointments`` (any source). The calendar
feed is a secret URL (``/calendar/<token>.ics``); only the SHA-256 of the token is stored
(``calendar_feeds``), and making a new URL or stopping the feed revokes the old one.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from regie.store.owndata_models import CalendarFeed
from regie.store.record import RecordRepository
from regie.store.types import utcnow

STATUS_NL = {"proposed": "Voorgesteld", "pending": "In afwachting", "booked": "Gepland", "arrived": "Aangekomen",
             "fulfilled": "Geweest", "cancelled": "Geannuleerd", "noshow": "Niet gekomen",
             "entered-in-error": "Foutief ingevoerd", "checked-in": "Aangemeld", "waitlist": "Wachtlijst"}


@dataclass
class Appointment:
    item_id: str
    uid: str
    start: datetime | None
    end: datetime | None
    summary: str
    description: str
    status: str
    location: str
    people: list[str]
    source: str

    @property
    def upcoming(self) -> bool:
        return self.start is not None and (self.end or self.start) >= datetime.now(timezone.utc)


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def from_fhir(item_id: str, resource: dict[str, Any], source: str) -> Appointment:
    start, end = _moment(resource.get("start")), _moment(resource.get("end"))
    if start and not end and isinstance(resource.get("minutesDuration"), int):
        end = start + timedelta(minutes=resource["minutesDuration"])
    location, people = "", []
    for participant in resource.get("participant", ()) or ():
        actor = participant.get("actor") or {}
        display = actor.get("display") or ""
        reference = actor.get("reference") or ""
        if reference.startswith("Location/"):
            location = display
        elif reference.startswith(("Practitioner", "Organization", "HealthcareService")) and display:
            people.append(display)
    types = [c.get("display") for cc in (resource.get("specialty") or []) for c in cc.get("coding", ()) if c.get("display")]
    summary = resource.get("description") or (types[0] if types else "") or "Afspraak"
    return Appointment(item_id, f"{item_id}@regie", start, end, summary, resource.get("comment") or "",
                       resource.get("status") or "", location, people, source)


def list_appointments(repo: RecordRepository, limit: int = 500) -> list[Appointment]:
    items, _ = repo.page(category="appointments", limit=limit)
    out = []
    for item in items:
        if item.get("resource_type") != "Appointment":
            continue
        original = repo.original(item["id"])
        if original is None:
            continue
        out.append(from_fhir(item["id"], orjson.loads(original), ", ".join(item.get("sources", ()))))
    out.sort(key=lambda a: a.start or datetime.min.replace(tzinfo=timezone.utc))
    return out


def to_ics(appointments: list[Appointment], name: str = "Regie") -> bytes:
    from icalendar import Calendar, Event  # here: a tenth of a second to import, needed only for .ics files

    calendar = Calendar()
    calendar.add("prodid", "-//Regie//Afspraken//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    stamp = utcnow().replace(tzinfo=timezone.utc)
    for appointment in appointments:
        if appointment.start is None:
            continue
        event = Event()
        event.add("uid", appointment.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.start.astimezone(timezone.utc))
        event.add("dtend", (appointment.end or appointment.start + timedelta(minutes=30)).astimezone(timezone.utc))
        event.add("summary", appointment.summary)
        details = [f"Met: {', '.join(appointment.people)}"] if appointment.people else []
        if appointment.description:
            details.append(appointment.description)
        if details:
            event.add("description", "\n".join(details))
        if appointment.location:
            event.add("location", appointment.location)
        if appointment.status == "cancelled":
            event.add("status", "CANCELLED")
        elif appointment.status in ("booked", "arrived", "fulfilled", "checked-in"):
            event.add("status", "CONFIRMED")
        else:
            event.add("status", "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()


# -- the secret feed URL -----------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(session: Session, user_id: str) -> str:
    """A new secret token (shown once); any earlier feed URL of the user stops working."""
    revoke_feeds(session, user_id)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(user_id=user_id, token_hash=_hash(token)))
    return token


def revoke_feeds(session: Session, user_id: str) -> None:
    session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def has_feed(session: Session, user_id: str) -> datetime | None:
    return session.scalar(select(CalendarFeed.created_at).where(
        CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)))


def feed_user(session: Session, token: str) -> str | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(select(CalendarFeed.user_id).where(
        CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)))
