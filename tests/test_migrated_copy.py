"""The test infrastructure's shortcut (tests/conftest.py ``migrate``): a copy of a database
migrated once has exactly the schema and version that running the migrations gives."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.conftest import migrate, postgres_problem, postgres_schema, skip_or_fail


def _snapshot(engine: Engine) -> dict:
    found = inspect(engine)
    tables = {}
    for name in sorted(found.get_table_names()):
        tables[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in found.get_columns(name)],
            "primary key": found.get_pk_constraint(name)["constrained_columns"],
            "foreign keys": sorted((tuple(k["constrained_columns"]), k["referred_table"],
                                    tuple(k["referred_columns"]), str(k.get("options")))
                                   for k in found.get_foreign_keys(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in found.get_indexes(name)),
            "unique": sorted((u["name"], tuple(u["column_names"]))
                             for u in found.get_unique_constraints(name)),
            "checks": sorted((c["name"], c["sqltext"]) for c in found.get_check_constraints(name)),
        }
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        version = version.all()
    return {"tables": tables, "version": version}


def _migrated_for_real(url: str) -> dict:
    database = Database(url)
    upgrade(database.engine)
    snapshot = _snapshot(database.engine)
    database.dispose()
    return snapshot


def _copied(url: str) -> dict:
    migrate(url)
    database = Database(url)
    snapshot = _snapshot(database.engine)
    database.dispose()
    return snapshot


def test_sqlite_copy_equals_the_migrations(tmp_path: Path) -> None:
    real = _migrated_for_real(f"sqlite:///{tmp_path / 'real.sqlite3'}")
    assert real["tables"] and real["version"]
    assert _copied(f"sqlite:///{tmp_path / 'copy.sqlite3'}") == real


def test_postgres_copy_equals_the_migrations() -> None:
    problem = postgres_problem()
    if problem:
        skip_or_fail(problem, "REQUIRE_POSTGRES")
    with postgres_schema() as real_url, postgres_schema() as copy_url:
        real = _migrated_for_real(real_url)
        assert real["tables"] and real["version"]
        assert _copied(copy_url) == real


def test_a_database_that_is_not_empty_is_migrated_for_real(tmp_path: Path) -> None:
    """Only a new, empty database gets the copy: one with tables gets the migrations themselves."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    database = Database(url)
    upgrade(database.engine, "0001")
    database.dispose()
    migrate(url)
    database = Database(url)
    real = _migrated_for_real(f"sqlite:///{tmp_path / 'real.sqlite3'}")
    assert _snapshot(database.engine) == real
    database.dispose()
