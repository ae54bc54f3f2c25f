"""The read path's database work per request, counted with a statement listener: the
session, its user and the own-record grant take two statements, and a JSON item read with
its audit entry a few more, all in autocommit mode: no BEGIN or COMMIT round trips
(regie.store.db.Database.reading; docs/benchmarks.md, Load)."""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from regie.accounts.activity import ClientInfo
from regie.fhir import FhirVersion
from regie.store.ingest import RecordService
from regie.store.types import utcnow
from regie.web.sessions import SESSION_COOKIE
from tests.web.test_record_api import _bundle, _obs

CLIENT = ClientInfo(ip="127.0.0.1", user_agent="test")


def test_an_item_read_runs_in_autocommit_and_writes_its_audit_entry(app) -> None:
    context = app.state.context
    user = context.accounts.register("lezer@voorbeeld.nl", "paars-fietsje-wandelt-42", CLIENT)
    service = RecordService(context.db, context.accounts.keyring)
    outcome = service.import_bytes(service.keys(user), _bundle(_obs("w1", 1, "29463-7", "Gewicht", 70.5)),
                                   name="a.json", fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error
    with context.db.session() as session:
        token, _row = context.accounts.sessions.create(session, CLIENT, utcnow(), user_id=user.id, stage="full")
    statements: list[str] = []
    modes: list[str | None] = []
    checkouts: list[object] = []

    def listen(conn, cursor, sql, params, ctx, many) -> None:
        statements.append(" ".join(sql.split()))
        modes.append("AUTOCOMMIT" if _autocommit(conn) else "TRANSACTION")

    # On PostgreSQL autocommit work has a pool of its own (regie.store.db): listen to both.
    for engine in context.db.engines:
        event.listen(engine, "before_cursor_execute", listen)
        event.listen(engine.pool, "checkout", lambda dbapi, record, proxy: checkouts.append(record))
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, token)
        items = client.get("/api/v1/record/items").json()["items"]
        statements.clear(), modes.clear(), checkouts.clear()
        answer = client.get(f"/api/v1/record/items/{items[0]['id']}")
    # The session load, the read and the audit entry share one connection: one checkout
    # (regie.web.item_read; a second one cost ~15 % of the read's CPU, docs/benchmarks.md).
    assert len(checkouts) == 1, checkouts
    assert answer.status_code == 200 and answer.json()["id"] == items[0]["id"]
    assert answer.headers["cache-control"] == "no-store"
    # The session joined with its user, then the managed-record row; then the record reads
    # and the audit entry; each statement its own transaction.
    assert statements[0].startswith("SELECT web_sessions.id") and "JOIN users" in statements[0]
    assert statements[1].startswith("SELECT managed_records.")
    assert modes == ["AUTOCOMMIT"] * len(statements), list(zip(modes, statements))
    assert sum(s.startswith("INSERT INTO audit_entries") for s in statements) == 1
    assert len(statements) <= 9, statements


def _autocommit(conn) -> bool:
    """Whether the driver connection itself commits every statement (what the server sees)."""
    raw = conn.connection.dbapi_connection
    return raw.autocommit is True if conn.dialect.name == "postgresql" else raw.isolation_level is None
