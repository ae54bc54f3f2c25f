"""The plain ``is_current`` flag (docs/decisions/0009): written on every import with the one
rule the viewer filters on, it lets the database pre-select "current" and "past" lists so
they decrypt what they show; rows without it (stored before migration 0026, or reset after
the rule changed) are still found, decided after decrypting. Both databases."""
from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from regie.fhir import FhirVersion
from regie.store.db import Database
from regie.store.record import is_current
from regie.store.record_models import RecordResource
from regie.store.record_queries import Filters, RecordQueries
from regie.store.record_reindex import reindex_user
from tests.stamp_guard import as_a_migration
from tests.store.record_helpers import condition, import_standard, new_user, resolve_into, service_for


@pytest.fixture
def problems(db: Database):
    """60 problems, newest first: 40 resolved ones, then the 10 current ones (and 10 more resolved)."""
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    # Dates so that the active ones (n 10-19) are older than 40 resolved ones (n 20-59).
    data = {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": condition(n, active=10 <= n < 20,
                                             onset=f"{2030 - n // 12 if n >= 20 else 2000 + n}-06-{1 + n % 28:02d}")}
                      for n in range(60)]}
    outcome = service.import_bytes(keys, orjson.dumps(data), name="huisarts.json", source="huisarts.json",
                                   fhir_version=FhirVersion.R4, channel="cli")
    assert outcome.ok, outcome.error
    return service, keys, db


def _listed(service, keys, status: str) -> tuple[list[str], int]:
    """The ids a status list shows, and how many rows it decrypted to find them."""
    decrypted = 0
    with service.open(keys) as repo:
        original = repo._decrypt_record_if

        def counting(*args, **kwargs):
            nonlocal decrypted
            decrypted += 1
            return original(*args, **kwargs)

        repo._decrypt_record_if = counting  # type: ignore[method-assign]
        items, _ = RecordQueries(repo).items(Filters(category="problems", status=status), limit=50)
    return [i["resource_id"] for i in items], decrypted


def test_a_status_list_decrypts_only_what_it_shows(problems) -> None:
    service, keys, _db = problems
    current, decrypted = _listed(service, keys, "current")
    assert sorted(current) == sorted(f"c-{n}" for n in range(10, 20))
    assert decrypted == 10  # not the 40 newer resolved problems read on the way
    past, decrypted = _listed(service, keys, "past")
    assert len(past) == 50 and not set(past) & set(current) and decrypted == 50


def test_rows_without_the_flag_are_still_found(problems) -> None:
    """Rows stored before the flag existed (NULL): the same lists, decided after decrypting."""
    service, keys, db = problems
    with_flag = {status: _listed(service, keys, status)[0] for status in ("current", "past")}
    with as_a_migration(), db.engine.begin() as connection:
        connection.execute(text("UPDATE record_resources SET is_current = NULL"))
    for status, expected in with_flag.items():
        found, decrypted = _listed(service, keys, status)
        assert found == expected
    assert decrypted > 50  # the past list, now decided row by row: the flag did spare work


def test_the_overview_finds_current_problems_with_or_without_the_flag(problems) -> None:
    service, keys, db = problems
    with service.open(keys) as repo:
        flagged = [i["resource_id"] for i in RecordQueries(repo).overview("2025-01-01T00:00:00")["problems"]]
    with as_a_migration(), db.engine.begin() as connection:
        connection.execute(text("UPDATE record_resources SET is_current = NULL"))
    with service.open(keys) as repo:
        unflagged = [i["resource_id"] for i in RecordQueries(repo).overview("2025-01-01T00:00:00")["problems"]]
    assert flagged == unflagged and len(flagged) == 8


@pytest.mark.parametrize("standard", ["GenPractData-2-0", "MP9-3-0-0-beta", "AllergyIntolerance-3-0",
                                      "eAppointment-2-0"])
def test_the_flag_is_the_rule_the_lists_filter_on(db: Database, tmp_path, standard: str) -> None:
    """Nictiz's example data of the standards with current and past items: every stored row's
    flag says what ``is_current`` says of its decrypted item."""
    service, keyring = service_for(db)
    keys = service.keys(new_user(db, keyring))
    files = resolve_into(tmp_path, {standard})[standard]
    assert import_standard(service, keys, files, standard) == []
    with service.open(keys) as repo:
        rows = repo.session.query(RecordResource.id, RecordResource.version, RecordResource.record_encrypted,
                                  RecordResource.is_current).filter(RecordResource.user_id == keys.user_id).all()
        assert rows
        for row in rows:
            item = repo._decrypt_record(row.id, row.version, row.record_encrypted)["items"][0]
            assert row.is_current is is_current(item), (standard, item.get("kind"), item.get("status"))
    assert any(row.is_current for row in rows) or standard == "GenPractData-2-0"


def test_the_rebuild_sets_missing_and_wrong_flags(problems) -> None:
    """Migration 0026 marks every user for the per-user rebuild (regie.store.record_reindex),
    which sets the flag of rows stored before it, and puts right one that differs from the rule."""
    service, keys, db = problems
    with as_a_migration(), db.engine.begin() as connection:
        connection.execute(text("UPDATE record_resources SET is_current = NULL"))
        # One row with a flag that says the opposite of the rule (as after a rule change).
        wrong = connection.execute(text("SELECT id FROM record_resources WHERE resource_type = 'Condition'"
                                        " ORDER BY id LIMIT 1")).scalar()
    with service.open(keys) as repo:
        row = repo.session.get(RecordResource, (keys.user_id, wrong))
        item = repo._decrypt_record(row.id, row.version, row.record_encrypted)["items"][0]
    with as_a_migration(), db.engine.begin() as connection:
        connection.execute(text("UPDATE record_resources SET is_current = :flag WHERE id = :id"),
                           {"flag": not is_current(item), "id": wrong})
    result = reindex_user(db, service.keyring, keys.user_id)
    assert result is not None and result.current_flags == 60
    assert _listed(service, keys, "current")[1] == 10  # pre-selected again
    assert reindex_user(db, service.keyring, keys.user_id).current_flags == 0  # nothing left to set
