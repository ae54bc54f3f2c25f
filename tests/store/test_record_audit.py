"""Audit entries of a request are written with one INSERT statement (a list page audits ~50
items), and read back exactly as given."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, event

from regie.store.db import Database
from tests.store.record_helpers import new_user, service_for


def _inserts(statements: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    return [(sql, many) for sql, many in statements if sql.lstrip().startswith("INSERT INTO audit_entries")]


@contextmanager
def _statements() -> Iterator[list[tuple[str, bool]]]:
    """Every statement run meanwhile, with whether it was an executemany."""
    statements: list[tuple[str, bool]] = []

    def capture(_conn, _cursor, statement, _parameters, _context, executemany) -> None:
        statements.append((statement, executemany))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", capture)


def test_audit_writes_many_targets_in_one_statement_and_one_target_without_executemany(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    targets = [f"item-{n:03d}" for n in range(50)]
    with _statements() as statements:
        with service.open(keys) as repo:
            repo.audit(keys.user_id, "list", targets, "api-session")
        many = _inserts(statements)
        statements.clear()
        with service.open(keys) as repo:
            repo.audit(keys.user_id, "read", ["item-one"], "web")
        one = _inserts(statements)
        statements.clear()
        with service.open(keys) as repo:
            repo.audit(keys.user_id, "list", [], "web")
        none = _inserts(statements)
    assert len(many) == 1 and not many[0][1]
    if db.engine.dialect.name == "postgresql":  # three lists: the same statement for any number
        assert "unnest(" in many[0][0] and "), (" not in many[0][0]
    else:
        assert many[0][0].count("), (") == 49
    assert len(one) == 1 and not one[0][1]
    assert none == []
    with service.open(keys) as repo:
        entries, _ = repo.audit_page(limit=200)
    assert sorted(e["target"] for e in entries if e["action"] == "list") == targets
    read = [e for e in entries if e["action"] == "read"]
    assert [(e["target"], e["channel"], e["actor_id"]) for e in read] == [("item-one", "web", keys.user_id)]
    listed = [e for e in entries if e["action"] == "list"]
    assert {(e["at"], e["channel"], e["actor_id"]) for e in listed} == {(listed[0]["at"], "api-session", keys.user_id)}
    assert len({e["id"] for e in entries}) == 51
    # Both ways of writing store the time alike: in UTC, seconds apart at most.
    listed_at, read_at = (datetime.fromisoformat(e["at"]) for e in (listed[0], read[0]))
    assert listed_at.utcoffset() == read_at.utcoffset() == timedelta(0)
    assert abs(listed_at - read_at) < timedelta(seconds=5)


def test_audit_of_more_targets_than_one_statement_holds_keeps_every_entry(db: Database) -> None:
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    targets = [f"t{n:04d}" for n in range(1000)]  # 7 columns: more parameters than one statement takes
    with service.open(keys) as repo:
        repo.audit(keys.user_id, "export", targets, "cli")
    with service.open(keys) as repo:
        seen: list[str] = []
        cursor = None
        while True:
            entries, cursor = repo.audit_page(cursor, limit=200)
            seen.extend(e["target"] for e in entries)
            if cursor is None:
                break
    assert sorted(seen) == targets


def test_targets_with_a_comma_are_kept_whole(db: Database) -> None:
    """PostgreSQL gets a page's targets as one comma-separated text; a target that holds a
    comma (no caller writes one today) takes the row-by-row way and is stored as given."""
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    targets = ["a,b", "c", ""]
    with service.open(keys) as repo:
        repo.audit(keys.user_id, "list", targets, "web")
        repo.audit(keys.user_id, "list", ["d", "", "e"], "web")  # an empty one: still an entry
    with service.open(keys) as repo:
        entries, _ = repo.audit_page(limit=10)
    assert sorted(e["target"] for e in entries) == ["", "", "a,b", "c", "d", "e"]


def test_entries_of_two_kinds_go_in_one_statement(db: Database) -> None:
    """The start page writes "overview" and one "list" entry per item shown: one INSERT."""
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    shown = [f"item-{n:02d}" for n in range(30)]
    with _statements() as statements:
        with service.open(keys) as repo:
            repo.audit_entries(keys.user_id, [("overview", "overview"), *(("list", i) for i in shown)], "web")
    assert len(_inserts(statements)) == 1
    with service.open(keys) as repo:
        entries, _ = repo.audit_page(limit=100)
    assert sorted((e["action"], e["target"]) for e in entries) == [("list", i) for i in shown] + [
        ("overview", "overview")]
    assert {(e["at"], e["channel"], e["actor_id"]) for e in entries} == {(entries[0]["at"], "web", keys.user_id)}
