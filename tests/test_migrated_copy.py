"""The test infrastructure's shortcut (tests/databases.py ``migrate``): a copy of a database
migrated once has exactly the schema and version that running the migrations gives.

On PostgreSQL the copy is a script read from the migrated schema's catalog; it is compared
with the migrations both through SQLAlchemy's inspector and through the catalog itself
(definitions as PostgreSQL prints them, every object in the schema, the rows)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from regie.store.db import Database
from regie.store.migrate import upgrade
from tests.conftest import postgres_problem, skip_or_fail
from tests.databases import POSTGRES_URL, _postgres_script, _postgres_template, migrate, postgres_schema


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


# The PostgreSQL catalog of the current schema, without the schema's name or object ids.
_CATALOG = {
    "objects in the schema": """
        SELECT classid::regclass::text, count(*) FROM pg_depend
         WHERE refclassid = 'pg_namespace'::regclass AND refobjid = current_schema()::regnamespace
         GROUP BY 1 ORDER BY 1""",
    "relations": """
        SELECT relname, relkind, relpersistence, reloptions::text, relacl::text, reltablespace,
               relrowsecurity, relforcerowsecurity, relreplident, relhasrules, reltoastrelid <> 0
          FROM pg_class WHERE relnamespace = current_schema()::regnamespace ORDER BY relname""",
    "columns": """
        SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
               a.attcollation, a.attidentity, a.attgenerated, a.attstattarget, a.attstorage,
               a.attcompression, a.attacl::text,
               array(SELECT o FROM unnest(a.attoptions) AS o WHERE o LIKE 'n\\_distinct%')::text
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), condeferrable,
               condeferred, convalidated, conislocal
          FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2""",
    "indexes": """
        SELECT c.relname, replace(pg_get_indexdef(i.indexrelid), quote_ident(current_schema()) || '.', ''),
               i.indisclustered, i.indisvalid, i.indisreplident, c.reloptions::text
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1""",
    "statistics": """
        SELECT s.stxname, c.relname, s.stxkind::text, pg_get_statisticsobjdef_columns(s.oid),
               coalesce(s.stxstattarget, -1)
          FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid
         WHERE s.stxnamespace = current_schema()::regnamespace ORDER BY 1""",
    "triggers": """
        SELECT t.tgrelid::regclass::text, t.tgisinternal,
               CASE WHEN t.tgisinternal THEN t.tgfoid::regproc::text ELSE pg_get_triggerdef(t.oid) END
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1, 2, 3""",
    "comments": """
        SELECT count(*) FROM pg_description WHERE objoid IN
               (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)""",
}


def _catalog(url: str) -> dict:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = {name: [tuple(row) for row in connection.execute(text(query))]
                 for name, query in _CATALOG.items()}
        found["rows"] = {
            table: connection.execute(text(f'SELECT json_agg(t ORDER BY t::text) FROM "{table}" AS t')).scalar()
            for table in inspect(connection).get_table_names()}
    engine.dispose()
    return found


@pytest.fixture
def postgres() -> Iterator[None]:
    problem = postgres_problem()
    if problem:
        skip_or_fail(problem, "REQUIRE_POSTGRES")
    yield


@pytest.fixture
def migrated_for_real(postgres) -> Iterator[tuple[dict, dict]]:
    """The inspector's and the catalog's view of a schema the migrations made."""
    with postgres_schema() as url:
        real = _migrated_for_real(url)
        assert real["tables"] and real["version"]
        yield real, _catalog(url)


def test_postgres_copy_is_the_consolidated_script() -> None:
    """The migrations make nothing the script leaves out, so the script (not the slower replay)
    is what copies; a migration that adds, say, a sequence or a comment fails here until
    _postgres_script reproduces it."""
    if postgres_problem():
        skip_or_fail(postgres_problem(), "REQUIRE_POSTGRES")
    template = _postgres_template(POSTGRES_URL)
    assert template["problems"] == []
    assert template["script"].startswith("CREATE TABLE")


def test_postgres_copy_equals_the_migrations(migrated_for_real) -> None:
    real, real_catalog = migrated_for_real
    assert real_catalog["rows"]["alembic_version"] == [{"version_num": real["version"][0]}]
    with postgres_schema() as copy_url:
        assert _copied(copy_url) == real
        assert _catalog(copy_url) == real_catalog


def test_postgres_replayed_copy_equals_the_migrations(migrated_for_real, monkeypatch) -> None:
    """The fallback for a schema the script can't reproduce: the migrations' statements replayed."""
    real, real_catalog = migrated_for_real
    template = dict(_postgres_template(POSTGRES_URL), script=None)
    monkeypatch.setattr("tests.databases._postgres_template", lambda base_url: template)
    with postgres_schema() as copy_url:
        assert _copied(copy_url) == real
        assert _catalog(copy_url) == real_catalog


@pytest.mark.parametrize("extra", [
    "CREATE SEQUENCE counter",
    "CREATE VIEW names AS SELECT name FROM things",
    "CREATE TYPE mood AS ENUM ('ok')",
    "CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE things ADD COLUMN n int GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE things ADD COLUMN twice int GENERATED ALWAYS AS (2) STORED",
    'ALTER TABLE things ALTER COLUMN name TYPE text COLLATE "C"',
    "ALTER TABLE things ALTER COLUMN name SET STORAGE PLAIN",
    "ALTER TABLE things ALTER COLUMN name SET (n_distinct = 5)",
    "ALTER TABLE things ALTER COLUMN name SET STATISTICS 5",
    "ALTER TABLE things SET (fillfactor = 50)",
    "ALTER TABLE things ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE things REPLICA IDENTITY FULL",
    "CREATE TABLE children () INHERITS (things)",
    "CREATE UNLOGGED TABLE scratch (x int)",
    "COMMENT ON TABLE things IS 'a comment'",
    "COMMENT ON COLUMN things.name IS 'a comment'",
    "GRANT SELECT ON things TO PUBLIC",
    "CREATE RULE nothing AS ON DELETE TO things DO INSTEAD NOTHING",
    "CREATE TRIGGER t BEFORE UPDATE ON things FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    ["CREATE INDEX things_name ON things (name)", "CLUSTER things USING things_name"],
    ["CREATE STATISTICS things_stats ON (id + 1) FROM things", "ALTER STATISTICS things_stats SET STATISTICS 5"],
    "ALTER TABLE things ADD CONSTRAINT no_overlap EXCLUDE USING btree (name WITH =)",
])
def test_postgres_script_refuses_what_it_would_not_copy(postgres, extra: str | list[str]) -> None:
    """Anything in a schema beyond tables, columns (type, default, not null), constraints,
    indexes, extended statistics and rows keeps the script from being used (the copy falls
    back to the replay)."""
    with postgres_schema() as url:
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE things (id int PRIMARY KEY, name varchar(10))"))
            script, problems = _postgres_script(connection)
            assert script is not None and problems == []
            for statement in [extra] if isinstance(extra, str) else extra:
                connection.execute(text(statement))
            script, problems = _postgres_script(connection)
            assert script is None and problems, extra
        engine.dispose()


def test_postgres_script_copies_tables_rows_keys_and_indexes(postgres) -> None:
    """What the script does reproduce, on a small schema of its own: defaults, checks, keys
    that point at each other, partial and expression indexes, extended statistics (on an
    expression, of some kinds, of every kind), rows of several types."""
    setup = [
        "CREATE TABLE people (id varchar(8) PRIMARY KEY, born date, n int DEFAULT 7 NOT NULL,"
        " photo bytea, data jsonb, CONSTRAINT n_positive CHECK (n > 0))",
        "CREATE TABLE pets (owner varchar(8) REFERENCES people (id) ON DELETE CASCADE,"
        " name text, at timestamp, UNIQUE (owner, name),"
        " CONSTRAINT later UNIQUE (name, at) DEFERRABLE INITIALLY DEFERRED)",
        "ALTER TABLE people ADD COLUMN best_pet_owner varchar(8), ADD COLUMN best_pet text,"
        " ADD FOREIGN KEY (best_pet_owner, best_pet) REFERENCES pets (owner, name)",
        "ALTER TABLE people DROP COLUMN born",
        "CREATE INDEX pets_named ON pets (lower(name)) WHERE name IS NOT NULL",
        "CREATE UNIQUE INDEX people_n ON people (n DESC NULLS LAST) INCLUDE (id)",
        "INSERT INTO people (id, photo, data) VALUES ('a', '\\x00ff', '{\"k\": [1, 2.5]}')",
        "INSERT INTO pets VALUES ('a', 'it''s', '2024-02-29 12:00:00.123456')",
        "UPDATE people SET best_pet_owner = 'a', best_pet = 'it''s'",
        "CREATE STATISTICS pets_named_now ON (name = lower(name)) FROM pets",
        "CREATE STATISTICS pets_together (dependencies, mcv) ON owner, name, (at IS NULL) FROM pets",
        "CREATE STATISTICS people_all ON n, best_pet FROM people",
    ]
    with postgres_schema() as original, postgres_schema() as copy:
        engine = create_engine(original, poolclass=NullPool)
        with engine.begin() as connection:
            for statement in setup:
                connection.execute(text(statement))
            script, problems = _postgres_script(connection)
        engine.dispose()
        assert problems == []
        engine = create_engine(copy, poolclass=NullPool)
        raw = engine.raw_connection()
        raw.cursor().execute(script)
        raw.commit()
        raw.close()
        engine.dispose()
        expected = _catalog(original)
        assert expected["rows"]["people"] and expected["rows"]["pets"]
        assert _catalog(copy) == expected


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
