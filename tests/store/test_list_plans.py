"""The record's lists (a category page, the timeline, the start page's sections) read their
page straight from a date index, in date order, without reading a category's every row and
sorting it: PostgreSQL knows that nearly every row is a group head (migration 0025,
regie.store.record_sql.GROUP_HEAD). Both databases, with statistics, as a server that has
run for a while has them (PostgreSQL's autovacuum, SQLite's ANALYZE)."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from regie.store import record_sql
from regie.store.db import Database
from regie.store.models import new_id
from regie.store.record_models import RecordResource, RecordSource
from regie.store.record_queries import DOCUMENT_TYPES, Filters
from tests.stamp_guard import as_a_migration
from tests.store.record_helpers import new_user, service_for

CATEGORIES = ("results", "vital_signs", "medication", "journal", "problems", "documents")
ROWS_PER_USER = 1_500
AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _record(db: Database, user_id: str) -> None:
    """Rows without real content (the plan depends on the plain columns only): every 25th row
    a duplicate in the group of the row before it, as a second source would deliver it."""
    source = {"id": new_id(), "user_id": user_id, "name_hash": secrets.token_hex(32), "name_encrypted": b"-",
              "created_at": AT}
    rows, previous = [], None
    for n in range(ROWS_PER_USER):
        category = CATEGORIES[n % len(CATEGORIES)]
        row_id = new_id()
        duplicate = n % 25 == 0 and previous is not None
        rows.append({
            "id": row_id, "user_id": user_id, "source_id": source["id"], "identity": secrets.token_hex(32),
            "resource_type": "DocumentReference" if category == "documents" else "Observation",
            "kind": "x", "category": category, "sort_date": f"{2010 + n % 15}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "withdrawn": False, "group_id": previous if duplicate else row_id, "content_hash": secrets.token_hex(32),
            "version": 1, "original_encrypted": b"-", "record_encrypted": b"-", "arrived_at": AT, "updated_at": AT})
        previous = row_id
    with as_a_migration(), db.engine.begin() as connection:  # straight into the tables
        connection.execute(RecordSource.__table__.insert(), [source])
        connection.execute(RecordResource.__table__.insert(), rows)


@pytest.fixture
def record_owner(db: Database) -> str:
    _service, keyring = service_for(db)
    users = [new_user(db, keyring) for _ in range(4)]
    for user in users:
        _record(db, user.id)
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":  # this schema's tables only, not the database's
            for table in ("users", "record_sources", "record_resources"):
                connection.execute(text(f"ANALYZE {table}"))
        else:
            connection.execute(text("ANALYZE"))
    return users[1].id


def _plan(db: Database, sql: str, params: tuple) -> str:
    explain = "EXPLAIN " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with db.autocommit_engine.connect() as connection:
        return " | ".join(str(row[-1]) for row in connection.exec_driver_sql(explain + sql, params))


def _read_in_date_order_from(plan: str, index: str) -> None:
    assert index in plan, plan
    # No sort of the rows read: PostgreSQL "Sort", SQLite "USE TEMP B-TREE FOR ORDER BY".
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("category", ["results", "documents"])
def test_a_category_page_reads_from_the_group_heads_of_its_category(db: Database, record_owner: str,
                                                                  category: str) -> None:
    with db.autocommit_engine.connect() as connection:
        sql, params = record_sql.scan_statement(connection, record_owner, None, Filters(category=category),
                                                names=record_sql.LIST._fields, visible_only=True, limit=51)
    _read_in_date_order_from(_plan(db, sql, params), "ix_record_resources_user_category_date")


def test_the_timeline_reads_from_the_group_heads_of_the_record(db: Database, record_owner: str) -> None:
    with db.autocommit_engine.connect() as connection:
        sql, params = record_sql.scan_statement(connection, record_owner, None, Filters(),
                                                names=record_sql.LIST._fields, visible_only=True, limit=51)
    _read_in_date_order_from(_plan(db, sql, params), "ix_record_resources_user_date")


def test_the_start_pages_sections_read_from_the_group_heads(db: Database, record_owner: str) -> None:
    """The sections whose plan was worst before: the newest results and letters (a type within
    the category) and the newest measurements."""
    parts = [(Filters(category="results", resource_types=("Observation",)), False, True, 6),
             (Filters(category="documents", resource_types=DOCUMENT_TYPES), False, True, 6),
             (Filters(category="vital_signs"), False, True, 40)]
    with db.autocommit_engine.connect() as connection:
        sql, params = record_sql.batches_statement(connection, record_owner, None, parts)
    plan = _plan(db, sql, params)
    assert plan.count("ix_record_resources_user_category_date") == len(parts), plan
    # The final ORDER BY of the union sorts the few rows picked, never a category's rows.
    assert "Bitmap" not in plan and "SCAN record_resources" not in plan, plan
