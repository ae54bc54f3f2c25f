"""Migrations run on SQLite and PostgreSQL; a database newer than the code is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from regie.errors import SchemaVersionError
from regie.store.db import Database
from regie.store.migrate import SchemaState, require_current, schema_state, upgrade
from regie.store.models import Base


def test_upgrade_creates_every_table(database_url: str) -> None:
    database = Database(database_url)
    assert schema_state(database.engine) is SchemaState.EMPTY
    with pytest.raises(SchemaVersionError, match="regie db upgrade"):
        require_current(database.engine)
    upgrade(database.engine)
    assert schema_state(database.engine) is SchemaState.CURRENT
    require_current(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    upgrade(database.engine)  # idempotent
    database.dispose()


def test_user_data_tables_carry_user_id(database_url: str) -> None:
    # Global tables: accounts themselves, throttles, and the MedMij lists (not per user).
    shared = {"users", "throttles", "alembic_version", "medmij_lists"}
    for name, table in Base.metadata.tables.items():
        if name not in shared:
            assert "user_id" in table.columns, name


def test_newer_database_is_refused(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database.engine)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    assert schema_state(database.engine) is SchemaState.AHEAD
    with pytest.raises(SchemaVersionError, match="newer than this version of Regie"):
        require_current(database.engine)
    with pytest.raises(SchemaVersionError):
        upgrade(database.engine)
    database.dispose()


def test_models_match_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: a model change without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    database = Database(database_url)
    upgrade(database.engine)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
    database.dispose()
