"""Insecure direct object references, swept from the route table: another user's real ids.

The owner (A, tests/security/conftest.py) gets one of every kind of object a route takes by id:
record items (a plain one and a document with its Binary), notes, measurements, diary entries,
questionnaires, delegations, share links, collections (a receipt) and their batch, long-lived
consents, sends, API tokens and second factors (an app code and a passkey). A second user (B), signed in to their own
record, then requests every route of ``regie.access.ROUTES`` that has an id in its path with each
of A's ids of that kind (every method, with B's CSRF token). Every answer must be 403 or 404 (or a
redirect back to a page of B's own), never a 2xx, and no answer may carry A's data. Afterwards
everything of A is still there and unchanged. The authorization matrix (tests/access) covers the
same routes for delegates with made-up ids; this covers real ids across accounts.
Jobs and export archives have no ids in any URL (jobs are internal; an export is streamed and not
stored), so there is nothing of theirs to try.
"""
from __future__ import annotations

import re
import secrets

from datetime import timedelta

import orjson
from sqlalchemy import update

from regie.access import ROUTES
from regie.accounts import tokens
from regie.accounts.activity import ClientInfo
from regie.collect.service import ProviderEndpoints, ServiceEndpoint
from regie.fhir.version import FhirVersion
from regie.sharelinks.selection import Selection
from regie.sharelinks.service import ShareLinks
from regie.store.ingest import RecordService
from regie.store.models import Passkey, WebSession
from regie.store.types import utcnow
from regie.web.collecting import collections_of
from regie.web.pages.questionnaires import tasks_of
from regie.web.sharing import sends_of
from tests.access.world import ALLERGY, DIAGNOSIS, WEIGHT, delegate, make_user, sign_in
from tests.security.conftest import Owner

DIARY = "Dagboek-van-IDOR-test"
NOTE = "Notitie-van-IDOR-test"
LINK = "Deellink-van-IDOR-test"
DOCUMENT = "Brief-van-IDOR-test"
SECRETS = (ALLERGY, DIAGNOSIS, WEIGHT, DIARY, NOTE, LINK, DOCUMENT, "huisartsdevries", "helper-idor",
           "Sleutel van A")
PROVIDER = "huisartsdevries@medmij"


def _document_bundle() -> bytes:
    pdf = b"%PDF-1.4\n" + DOCUMENT.encode() + b"\n%%EOF\n"
    import base64

    resources = [
        {"resourceType": "DocumentReference", "id": "d1", "status": "current",
         "type": {"text": DOCUMENT}, "description": DOCUMENT, "date": "2024-02-01T10:00:00Z",
         "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/b1", "title": DOCUMENT}}]},
        {"resourceType": "Binary", "id": "b1", "contentType": "application/pdf",
         "data": base64.b64encode(pdf).decode()},
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})


def _owners_ids(owner: Owner) -> dict[str, list[str]]:
    """One of every kind of object of A, by the path parameter that names it."""
    app, person = owner.app, owner.person
    context = app.state.context
    user = person.user
    client, headers = person.client, {"X-CSRF-Token": person.csrf}
    service = RecordService(context.db, context.accounts.keyring)
    outcome = service.import_bytes(service.keys(user), _document_bundle(), name="brief.json", source="huisarts",
                                   channel="cli", fhir_version=FhirVersion.R4)
    assert outcome.ok, outcome.error
    items = client.get("/api/v1/record/items?limit=100").json()
    items = items["items"] if isinstance(items, dict) else items
    item_ids = [item["id"] for item in items]
    note = client.post(f"/api/v1/record/items/{item_ids[0]}/notes", json={"text": NOTE}, headers=headers)
    assert note.status_code == 201, note.text
    diary = client.post("/api/v1/diary", json={"severity": 2, "symptoms": ["hoofdpijn"], "text": DIARY},
                        headers=headers)
    assert diary.status_code == 201, diary.text
    helper = make_user(context, f"helper-idor-{secrets.token_hex(3)}@voorbeeld.nl")
    delegation = delegate(app, user, helper, categories=None)
    link = ShareLinks(context.settings, context.db, context.accounts.keyring).create(user, actor_id=user.id, selection=Selection(categories={"allergies": "all"}),
                                     hours=24, label=LINK, patient_name="Mila Testpersoon")
    endpoints = ProviderEndpoints(PROVIDER, "Huisartsenpraktijk De Vries", "https://example.invalid/auth",
                                  "https://example.invalid/token", (ServiceEndpoint("49", "Huisarts", None),))
    collections = collections_of(app)
    batch = secrets.token_hex(16)
    collection = collections.create(user.id, endpoints, channel="web", batch_id=batch)
    collections.keep_consent(user.id, PROVIDER, "huisartsdevries~49", "refresh-" + secrets.token_hex(8))
    consents = client.get("/api/v1/consents").json()
    consents = consents["consents"] if isinstance(consents, dict) else consents
    send = sends_of(app).create(user.id, kind="measurements", provider=PROVIDER, service_id="48",
                                bundle={"resourceType": "Bundle", "type": "collection", "entry": []}, channel="web")
    (questionnaire,) = tasks_of(app).store_found(user.id, PROVIDER, "https://example.invalid/fhir",
                                                  [{"resourceType": "Task", "id": "t1", "status": "requested"}])
    with context.db.session() as session:
        token = tokens.create(session, user.id, "idor", ClientInfo())
        passkey = Passkey(user_id=user.id, credential_id=secrets.token_bytes(16), public_key=b"sleutel",
                          name="Sleutel van A")
        session.add(passkey)
        session.flush()
        passkey_id = passkey.id
    factor = context.accounts.begin_totp(user.id)
    return {
        "item_id": item_ids, "note_id": [note.json()["id"]],
        "row_id": [owner.ids["row_id"], diary.json()["id"], questionnaire],
        "delegation_id": [delegation], "link_id": [link.link_id], "collection_id": [collection],
        "batch_id": [batch], "consent_id": [c["id"] for c in consents], "send_id": [send],
        "token_id": [token.id], "factor_id": [factor.factor_id], "passkey_id": [passkey_id],
    }


def _what_a_sees(owner: Owner, ids: dict[str, list[str]]) -> dict[str, object]:
    client = owner.person.client
    return {
        "items": [client.get(f"/api/v1/record/items/{i}").status_code for i in ids["item_id"]],
        "notes": client.get(f"/api/v1/record/items/{ids['item_id'][0]}/notes").json(),
        "measurement": client.get(f"/api/v1/measurements/{ids['row_id'][0]}").json(),
        "diary": client.get("/api/v1/diary").json(),
        "collection": client.get(f"/api/v1/collections/{ids['collection_id'][0]}").json()["state"],
        "consents": client.get("/api/v1/consents").json(),
        "send": client.get(f"/api/v1/sends/{ids['send_id'][0]}").status_code,
        "tokens": sorted(t["id"] for t in client.get("/api/v1/tokens").json()),
        "account": client.get("/account").text.count("Sleutel van A"),
        "delegation": "ingetrokken" not in client.get(f"/delegations/{ids['delegation_id'][0]}").text.lower(),
        "link": client.get(f"/share-links/{ids['link_id'][0]}").text.count("Ingetrokken"),
    }


def _urls(path: str, ids: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if "token" in names or "language" in names or "category" in names or "code" in names:
        return []  # a secret, a language or a category: not an id of an object
    if not names:
        return []
    if "note_id" in names:  # a note of A under an item of A
        return [path.replace("{item_id}", ids["item_id"][0]).replace("{note_id}", n) for n in ids["note_id"]]
    (name,) = names
    return [path.replace("{" + name + "}", value) for value in ids.get(name, [])]


def test_another_users_ids_get_nothing_on_any_route(owner: Owner) -> None:
    ids = _owners_ids(owner)
    before = _what_a_sees(owner, ids)
    assert all(status == 200 for status in before["items"]) and before["send"] == 200 and before["account"] > 0, before
    context = owner.app.state.context
    attacker = sign_in(owner.app, context, make_user(context, f"b-{secrets.token_hex(3)}@voorbeeld.nl"))
    with context.db.session() as session:  # B just gave their second factor again (step-up)
        session.execute(update(WebSession).where(WebSession.id == attacker.session_id)
                        .values(step_up_until=utcnow() + timedelta(minutes=5)))
    tried: set[str] = set()
    answers: dict[int, int] = {}
    wrong: list[tuple[str, str, int]] = []
    for (method, path) in sorted(ROUTES):
        for url in _urls(path, ids):
            response = attacker.client.request(
                method, url, headers={"X-CSRF-Token": attacker.csrf}, follow_redirects=False,
                **({"data": {"csrf_token": attacker.csrf}} if method == "POST" else {}))
            tried.update(name for name in re.findall(r"\{(\w+)\}", path))
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
            body = response.text
            leaked = [s for s in SECRETS if s.lower() in body.lower()]
            # A redirect carries nothing (some forms go back to their list page whether or not the
            # id was B's own); that it changed nothing is checked on A's side below.
            if leaked or response.status_code >= 500 or 200 <= response.status_code < 300 or (
                    response.status_code not in (302, 303, 400, 403, 404, 405, 422)):
                wrong.append((method, url, response.status_code, response.headers.get("location"), leaked))
    attacker.client.close()
    assert not wrong, wrong
    assert sum(answers.values()) > 100 and answers.get(404, 0) > 50, answers
    assert tried >= {"item_id", "note_id", "row_id", "delegation_id", "link_id", "collection_id", "batch_id",
                     "consent_id", "send_id", "token_id", "factor_id", "passkey_id"}, tried
    assert _what_a_sees(owner, ids) == before
