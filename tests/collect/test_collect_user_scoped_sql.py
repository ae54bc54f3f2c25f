"""Every statement on collections, medmij_consents and medmij_sends names the user
(docs/scale.md, issue 9): all SQL is captured while one patient collects with a lasting
permission, follows the collection, chooses a schedule, is re-collected on schedule,
stops the permission, and sends (authorize, claim, refuse, finish, read). A statement
that reads, changes or deletes rows of these tables without ``<table>.user_id`` (or
inserts without it) fails, except the two scans across users listed below.

The checker is the one of tests/web/test_citus_readiness.py."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, event

from regie.collect.schedule import recollect_due
from regie.collect.service import Collections, provider_endpoints, state_user
from regie.share.service import Sends
from regie.store.types import utcnow
from regie.web.collecting import directory_of
from tests.collect.harness import GP, consent, wait_finished
from tests.web.test_citus_readiness import violations

TABLES = {"collections", "medmij_consents", "medmij_sends"}
# Scans across users by time or state, not by a user's key: each a multi-shard query on
# Citus by design (docs/scale.md). Everything they find is then written by (user_id, id).
ACROSS_USERS = (
    ("collections", "SELECT", "collections.state IN"),  # start-up sweep of interrupted jobs
    ("medmij_consents", "SELECT", "medmij_consents.schedule_days >"),  # the scheduler's due consents
)


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_collect_and_send_statements_name_the_user(regie) -> None:
    context = regie.app.state.context
    collections = Collections(context.settings, context.db, context.accounts.keyring)
    sends = Sends(context.settings, context.db, context.accounts.keyring)
    statements: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        started = regie.start(GP, ["49"], long_lived=True)
        assert state_user(_state(started["authorization_url"])) == regie.user_id
        regie.callback(consent(started["authorization_url"]))
        assert wait_finished(regie.get, started["id"])["state"] == "done"
        assert regie.get("/api/v1/collections").status_code == 200
        [kept] = regie.get("/api/v1/consents").json()["consents"]
        assert regie.client.put(f"/api/v1/consents/{kept['id']}", headers=regie.headers,
                                json={"schedule_days": 1, "email_new_data": False}).status_code == 200
        collections.sweep_interrupted()
        [again] = recollect_due(context.settings, context.db, context.accounts.keyring,
                                now=utcnow() + timedelta(days=2))
        assert collections.get(regie.user_id, again)["state"] == "done"

        endpoints = provider_endpoints(directory_of(regie.app), GP, ["904"])
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": []}
        sent = sends.create(regie.user_id, kind="measurements", provider=endpoints.provider, service_id="904",
                            bundle=bundle, channel="api")
        claim = sends.claim(_state(sends.authorize(regie.user_id, sent, endpoints)), None)
        assert claim.provider == endpoints.provider
        sends.finish(regie.user_id, sent, ok=True, status=200, error=None, response={"resourceType": "Bundle"})
        refused = sends.create(regie.user_id, kind="measurements", provider=endpoints.provider, service_id="904",
                               bundle=bundle, channel="api")
        sends.refuse(_state(sends.authorize(regie.user_id, refused, endpoints)), None, "access_denied")
        assert sends.get(regie.user_id, sent)["state"] == "sent"
        assert {s["state"] for s in sends.history(regie.user_id)} == {"sent", "failed"}
        assert regie.client.delete(f"/api/v1/consents/{kept['id']}", headers=regie.headers).status_code == 204
    finally:
        event.remove(Engine, "before_cursor_execute", capture)

    touched = {t for t in TABLES if any(t in s for s in statements)}
    assert touched == TABLES, touched
    found = {key: [s for s in items if not any(key == (t, k) and p in s for t, k, p in ACROSS_USERS)]
             for key, items in violations(statements).items() if key[0] in TABLES}
    found = {key: items for key, items in found.items() if items}
    report = "\n".join(f"{table} {kind} ({len(items)}x): {items[0]}" for (table, kind), items in sorted(found.items()))
    assert not found, "statements without user_id:\n" + report
