"""The start page's last visit (regie.store.record_sql.last_visit) is found through the index
of overview visits, not by reading the person's whole audit trail, which grows with every
page viewed (migration 0024). Both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from regie.store import record_sql
from regie.store.db import Database
from regie.store.models import new_id
from regie.store.record_models import AuditEntry
from tests.store.record_helpers import new_user, service_for

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _trail(db: Database, user_id: str, helper_id: str) -> datetime:
    """A used record's trail: many list and read entries, now and then an overview by the
    owner or by a helper. Returns the owner's last overview."""
    rows, last = [], START
    for n in range(12_000):
        at = START + timedelta(seconds=n)
        action, actor = "list", user_id
        if n % 200 == 0:
            action = "overview"
            actor = helper_id if n % 400 == 0 else user_id
            if actor == user_id:
                last = at
        rows.append({"id": new_id(), "user_id": user_id, "actor_id": actor, "action": action,
                     "target": "overview" if action == "overview" else new_id(), "channel": "web", "at": at})
    with db.engine.begin() as connection:
        connection.execute(AuditEntry.__table__.insert(), rows)
        connection.execute(text("ANALYZE audit_entries" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
    return last


def test_the_last_visit_is_the_owners_newest_overview_read_through_its_index(db: Database) -> None:
    _service, keyring = service_for(db)
    owner, helper = new_user(db, keyring), new_user(db, keyring)
    last = _trail(db, owner.id, helper.id)
    postgres = db.engine.dialect.name == "postgresql"
    with db.autocommit_engine.connect() as connection:
        assert record_sql.last_visit(connection, owner.id, owner.id) == last
        assert record_sql.last_visit(connection, owner.id, new_id()) is None
        # Before a moment (the start page: before this session began): the one before it.
        assert record_sql.last_visit(connection, owner.id, owner.id, last) == last - timedelta(seconds=400)
        assert record_sql.last_visit(connection, owner.id, owner.id, START) is None
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        for before, bound in (("", {}), (" AND audit_entries.at < :before", {"before": last})):
            statement = record_sql._LAST_VISIT.format(before=before)  # noqa: SLF001 (the statement itself)
            statement = statement.replace("?", ":user", 1).replace("?", ":actor", 1)
            plan = " | ".join(str(row[-1]) for row in connection.execute(
                text(explain + statement), {"user": owner.id, "actor": owner.id, **bound}))
            assert "ix_audit_entries_overview_visits" in plan, plan
            assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan  # the newest, straight from the index
