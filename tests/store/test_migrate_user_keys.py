"""Migration 0012 (user_id in primary and foreign keys, for Citus) keeps every row, on
SQLite (tables copied) and PostgreSQL (altered in place), and can be undone."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, MetaData, inspect, select, text
from sqlalchemy import types as sa_types

from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.stamp_guard import as_a_migration

KEYED = ("totp_factors", "passkeys", "recovery_codes", "security_events", "record_sources", "record_resources",
         "record_resource_versions", "audit_entries", "collections", "medmij_consents", "record_notes",
         "calendar_feeds", "medmij_sends")


def _value(column) -> Any:
    kind = column.type
    if isinstance(kind, (sa_types.LargeBinary, sa_types._Binary)):
        return b"\x00sealed"
    if isinstance(kind, sa_types.DateTime):
        return dt.datetime(2024, 1, 1, 12, 0)
    if isinstance(kind, sa_types.Boolean):
        return False
    if isinstance(kind, sa_types.Integer):
        return 1
    return "x"


def _insert(connection: Connection, metadata: MetaData, table: str, **values: Any) -> None:
    """One row with the given values; other NOT NULL columns get a plain filler."""
    columns = metadata.tables[table].columns
    row = {c.name: _value(c) for c in columns if not c.nullable and c.server_default is None}
    row.update(values)
    connection.execute(metadata.tables[table].insert().values(**row))


def _fill(connection: Connection) -> None:
    metadata = MetaData()
    metadata.reflect(connection)
    for user in ("u1", "u2"):
        _insert(connection, metadata, "users", id=user, email=f"{user}@example.org")
        for table in ("totp_factors", "recovery_codes", "security_events", "audit_entries", "collections",
                      "medmij_consents", "medmij_sends"):
            _insert(connection, metadata, table, id=f"{table[:10]}-{user}", user_id=user,
                    **({"state_hash": f"state-{user}"} if table in ("collections", "medmij_sends") else {}))
        _insert(connection, metadata, "passkeys", id=f"pk-{user}", user_id=user, credential_id=user.encode())
        _insert(connection, metadata, "calendar_feeds", id=f"cal-{user}", user_id=user, token_hash=f"tok-{user}")
        _insert(connection, metadata, "record_sources", id=f"src-{user}", user_id=user, name_hash=f"n-{user}")
        for n in range(3):
            _insert(connection, metadata, "record_resources", id=f"res{n}-{user}", user_id=user,
                    source_id=f"src-{user}", identity=f"i{n}-{user}", group_id=f"res{n}-{user}")
            _insert(connection, metadata, "record_resource_versions", id=f"ver{n}-{user}", user_id=user,
                    resource_id=f"res{n}-{user}")
            _insert(connection, metadata, "record_notes", id=f"note{n}-{user}", user_id=user,
                    resource_id=f"res{n}-{user}")


def _counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in KEYED}


def test_keys_change_and_rows_stay(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database.engine, "0011")
    with database.engine.begin() as connection:
        _fill(connection)
    before = _counts(database)
    assert before["record_notes"] == 6 and before["passkeys"] == 2

    upgrade(database.engine, "0012")
    assert _counts(database) == before
    inspector = inspect(database.engine)
    for table in KEYED:
        assert inspector.get_pk_constraint(table)["constrained_columns"] == ["user_id", "id"], table
    foreign = {(fk["referred_table"], tuple(fk["constrained_columns"]))
               for fk in inspector.get_foreign_keys("record_notes")}
    assert ("record_resources", ("user_id", "resource_id")) in foreign
    for table, column in (("passkeys", "credential_id"), ("calendar_feeds", "token_hash"),
                          ("collections", "state_hash"), ("medmij_sends", "state_hash")):
        uniques = [u["column_names"] for u in inspector.get_unique_constraints(table)]
        assert ["user_id", column] in uniques and [column] not in uniques, (table, uniques)

    with as_a_migration(), database.engine.begin() as connection:
        # The composite foreign keys hold: a note on another user's item is refused ...
        try:
            with connection.begin_nested():
                connection.execute(text("INSERT INTO record_notes (id, user_id, resource_id, text_encrypted, "
                                        "created_at, updated_at) VALUES ('bad', 'u2', 'res0-u1', :b, :t, :t)"),
                                   {"b": b"x", "t": dt.datetime(2024, 1, 1)})
        except Exception:
            pass
        else:
            raise AssertionError("a note could point at another user's item")
        # ... and deleting a source still cascades to its items, their versions and notes.
        connection.execute(text("DELETE FROM record_sources WHERE user_id = 'u1' AND id = 'src-u1'"))
        left = {t: connection.execute(text(f"SELECT count(*) FROM {t} WHERE user_id = 'u1'")).scalar_one()
                for t in ("record_resources", "record_resource_versions", "record_notes")}
        assert left == {"record_resources": 0, "record_resource_versions": 0, "record_notes": 0}
        assert connection.execute(select(text("count(*)")).select_from(text("record_notes"))).scalar_one() == 3

    upgrade_down(database, "0011")
    after = _counts(database)
    assert after["record_notes"] == 3 and after["passkeys"] == 2 and after["collections"] == 2
    assert inspect(database.engine).get_pk_constraint("record_resources")["constrained_columns"] == ["id"]
    database.dispose()


def upgrade_down(database: Database, revision: str) -> None:
    from alembic import command

    from regie.store.migrate import alembic_config

    command.downgrade(alembic_config(database.engine), revision)
