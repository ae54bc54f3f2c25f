"""A small world for access tests: accounts, signed-in clients, a record, delegations.

Accounts and sessions are made directly (no TOTP ceremony): these tests are about what a
signed-in person may do, and must stay quick. tests/delegation goes through the real pages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import update

from regie.accounts.activity import ClientInfo
from regie.delegation import Delegations
from regie.store.ingest import RecordService
from regie.store.models import User, WebSession
from regie.store.types import utcnow
from regie.web.context import AppContext
from regie.web.guards import ACTING_KEY, delegations_of

DIAGNOSIS = "Ziekte-van-Machtigingtest"
ALLERGY = "Allergie-voor-Machtigingtest"
WEIGHT = "Gewicht-Machtigingtest"
PASSWORD = "paars-fietsje-wandelt-42"


def record_bundle() -> bytes:
    """A problem, an allergy and a weight: three categories to scope on."""
    resources = [
        {"resourceType": "Patient", "id": "pat", "name": [{"family": "Testpersoon", "given": ["Mila"]}]},
        {"resourceType": "Condition", "id": "c1", "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "73211009", "display": DIAGNOSIS}],
                  "text": DIAGNOSIS}, "subject": {"reference": "Patient/pat"}},
        {"resourceType": "AllergyIntolerance", "id": "a1", "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005", "display": ALLERGY}],
                  "text": ALLERGY}, "patient": {"reference": "Patient/pat"}},
        {"resourceType": "Observation", "id": "w1", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": WEIGHT}]},
         "effectiveDateTime": "2024-03-01T09:00:00+01:00",
         "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
         "subject": {"reference": "Patient/pat"}},
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection",
                         "entry": [{"resource": r} for r in resources]})


@dataclass
class Person:
    user: User
    client: TestClient
    csrf: str
    session_id: str

    @property
    def id(self) -> str:
        return self.user.id


def make_user(context: AppContext, email: str) -> User:
    return context.accounts.register(email, PASSWORD, ClientInfo())


def sign_in(app, context: AppContext, user: User) -> Person:
    """A client with a full session of this user (as after password and second factor)."""
    with context.db.session() as session:
        token, row = context.accounts.sessions.create(session, ClientInfo(), utcnow(), user_id=user.id, stage="full")
        csrf, session_id = row.csrf_token, row.id
    client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False)
    client.cookies.set("regie_session", token)
    return Person(user, client, csrf, session_id)


def act_for(context: AppContext, person: Person, owner_id: str | None) -> None:
    """Put the session's choice of record straight into the session (as POST /helping does)."""
    with context.db.session() as session:
        session.execute(update(WebSession).where(WebSession.id == person.session_id)
                        .values(scratch=json.dumps({ACTING_KEY: owner_id} if owner_id else {})))


def seed_record(context: AppContext, user: User) -> None:
    service = RecordService(context.db, context.accounts.keyring)
    outcome = service.import_bytes(service.keys(user), record_bundle(), name="huisarts.json", source="huisarts",
                                   channel="cli")
    assert outcome.ok, outcome.error


def service_of(app) -> Delegations:
    return delegations_of(app)


def delegate(app, owner: User, helper: User, *, categories: set[str] | None = frozenset(), can_add: bool = False,
             can_collect: bool = False, valid_until: datetime | None = None) -> str:
    """An accepted caregiver delegation (invite, then accept with the token)."""
    service = service_of(app)
    row_id, token = service.invite(owner, owner, email=helper.email, name="", categories=categories,
                                   can_add=can_add, can_collect=can_collect, valid_until=valid_until)
    service.accept(token, helper)
    return row_id


def years_ago(years: int, days: int = 10) -> date:
    today = date.today()
    return date(today.year - years, today.month, 1) - timedelta(days=days)
