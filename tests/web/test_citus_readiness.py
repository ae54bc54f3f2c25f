"""Citus readiness: every statement on a user-data table filters on (or inserts) `user_id`.

All SQL is captured (SQLAlchemy ``before_cursor_execute``) while one user goes through
Regie over the web: register and enrol, upload a record, read it through pages and the
API, write notes, measurements and diary entries, make an API token, log out and in. A
statement that reads, changes or deletes rows of a table with a ``user_id`` column must
name ``<table>.user_id`` (a filter, or a co-located join on it); an INSERT must set it.
Known exceptions are listed below, each with its reason and the fix (docs/scale.md):
a new one fails this test.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pytest
from sqlalchemy import Engine, event

from regie.store.models import Base
from tests.web.helpers import Browser
from tests.web.test_logs import UPLOAD_CSRF, _record

USER_TABLES = {table.name for table in Base.metadata.sorted_tables if "user_id" in table.columns}
# Tables without user_id that hold one user's rows under another key.
KEYED_BY_USER = {"users": "id"}
# Not distributed (stay local on the coordinator, see docs/scale.md): looked up by a
# secret's hash before the user is known, or global queues.
LOCAL_TABLES = {"web_sessions", "api_tokens", "jobs", "throttles", "medmij_lists", "email_tokens"}

# (table, statement kind, pattern in the statement) → why it is allowed for now.
KNOWN = {
    ("users", "SELECT", "users.email ="): "log-in by e-mail: a lookup before the user is known (docs/scale.md: "
                                          "a user_emails lookup table, or a multi-shard query on the unique index)",
    # ORM flushes of rows loaded for the user: UPDATE … WHERE <table>.id = ?. With the
    # primary key (user_id, id) the ORM puts user_id in the WHERE itself (docs/scale.md).
    ("recovery_codes", "UPDATE", "WHERE recovery_codes.id = "): "ORM flush by primary key",
    # The collector reads a collection by id, then compares its user_id in Python.
    ("collections", "SELECT", "WHERE collections.id = "): "by id, user checked after: add user_id to the WHERE",
}

_TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)


def _kind(statement: str) -> str:
    return statement.lstrip().split(None, 1)[0].upper()


def violations(statements: list[str]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for statement in statements:
        kind = _kind(statement)
        if kind not in ("SELECT", "UPDATE", "DELETE", "INSERT"):
            continue
        for table in set(_TABLE.findall(statement)):
            if table in LOCAL_TABLES or (table not in USER_TABLES and table not in KEYED_BY_USER):
                continue
            column = KEYED_BY_USER.get(table, "user_id")
            if kind == "INSERT":
                head = statement.split(")", 1)[0]
                ok = re.search(rf"\b{column}\b", head) is not None
            else:
                ok = re.search(rf"\b{table}\.{column}\b", statement) is not None or (
                    # a single-table statement may leave the column unqualified
                    len(set(_TABLE.findall(statement))) == 1 and re.search(rf"\bWHERE\b.*\b{column}\b", statement, re.S))
            if ok or any(t == table and k == kind and pattern in statement for t, k, pattern in KNOWN):
                continue
            found[(table, kind)].append(" ".join(statement.split())[:300])
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_user_data_statement_filters_on_user_id(database_url: str, browser: Browser) -> None:
    statements: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        _journey(browser)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    touched = {t for s in statements for t in _TABLE.findall(s)} & USER_TABLES
    assert {"record_resources", "record_sources", "audit_entries", "record_notes", "totp_factors",
            "recovery_codes", "security_events", "collections"} <= touched, touched
    found = violations(statements)
    report = "\n".join(f"{table} {kind} ({len(items)}x): {items[0]}" for (table, kind), items in sorted(found.items()))
    assert not found, "statements on user-data tables without user_id:\n" + report


def _journey(browser: Browser) -> None:
    account = browser.register()
    client = browser.client
    token = UPLOAD_CSRF.search(client.get("/record/upload").text).group(1)
    client.post("/record/upload", data={"csrf_token": token},
                files=[("files", ("huisarts.json", _record(), "application/json"))])
    items = client.get("/api/v1/record/items", params={"limit": 50}).json()["items"]
    for item in items:
        client.get(f"/record/items/{item['id']}")
        client.get(f"/api/v1/record/items/{item['id']}")
    first = items[0]["id"]
    browser.post_form(f"/record/items/{first}/notes", {"text": "Vragen bij controle"}, token_from=f"/record/items/{first}")
    browser.post_form("/measurements/new?type=blood_pressure", {"systolic": "128", "diastolic": "82", "pulse": "70",
                      "time": "2024-03-01T09:00"}, token_from="/measurements/new?type=blood_pressure")
    browser.post_form("/diary", {"time": "2024-03-01T10:00", "severity": "2", "text": "Hoofdpijn"}, token_from="/diary")
    for path in ("/", "/record/conditions", "/record/vital_signs", "/timeline", "/search?q=gewicht", "/audit",
                 "/measurements", "/diary", "/appointments", "/collect", "/providers", "/account",
                 "/account/activity", "/account/tokens", "/api/v1/record/summary", "/api/v1/audit",
                 "/api/v1/collections", "/api/v1/collections/0123456789abcdef0123456789abcdef"):
        client.get(path)
    browser.post_form("/account/tokens", {"name": "script"}, token_from="/account/tokens")
    browser.logout()
    browser.password_step(account)
    browser.post_form("/login/recovery", {"code": account.recovery_codes[0]}, token_from="/login/recovery")
    client.get("/")
