"""Test databases: a fresh PostgreSQL schema per test, and migrated databases made fast.

Used by the fixtures in tests/conftest.py (which also re-exports these names for the tests
that import them from there).
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from regie.store.db import Database
from regie.store.migrate import upgrade

POSTGRES_URL = os.environ.get("REGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_schema(base_url: str = POSTGRES_URL, prefix: str = "regie_test") -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema of its own (so parallel runs never collide),
    dropped afterwards."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()



# --- Migrated databases, made fast ---------------------------------------------------------
# Running the migrations costs about 0.3 s of CPU per database (SQLite's batch mode copies
# tables), and most tests need a migrated database, not the act of migrating. So each test
# process migrates once and copies the result: for SQLite the file, for PostgreSQL the schema
# the migrations made, written out as one script (tables with their columns, keys and checks,
# the rows the migrations left, foreign keys, indexes) and run in the test's own schema.
# Replaying the 197 statements the migrations sent cost PostgreSQL about twice the CPU: the
# tables they changed afterwards, the ALTERs, the UPDATEs of empty tables. The script is read
# from PostgreSQL's own catalog (pg_get_constraintdef, pg_get_indexdef, ...); a migrated schema
# with anything the script does not reproduce falls back to replaying the statements, with a
# warning. tests/store/test_migrate.py still runs the real migrations on empty databases;
# tests/test_migrated_copy.py checks that a copy has exactly the schema and rows the
# migrations make, and that the script is what copies.

_SCHEMA_CHANGES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "COMMENT")
_templates: dict[str, Any] = {}


def _template_dir() -> Path:
    if "dir" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="regie-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _templates["dir"] = folder
    return _templates["dir"]


def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        path = _template_dir() / "migrated.sqlite3"
        database = Database(f"sqlite:///{path}")
        upgrade(database.engine)
        database.dispose()
        with sqlite3.connect(path) as connection:  # everything in the main file, no -wal beside it
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        _templates["sqlite"] = path
    return _templates["sqlite"]


# What the script cannot reproduce, found in the current schema (the first on search_path).
# Every object in a schema depends on it in pg_depend, so the first query sees any sequence,
# view, function, type, collation, operator, extension or statistics object; the next ones
# what a table, column or index can carry beyond its definition text.
_POSTGRES_UNSUPPORTED = """
WITH ours AS (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)
SELECT format('%s %s in the schema', d.classid::regclass, d.objid) FROM pg_depend d
 WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = current_schema()::regnamespace
   AND d.classid <> 'pg_statistic_ext'::regclass
   AND NOT (d.classid = 'pg_class'::regclass
            AND (SELECT relkind FROM pg_class WHERE oid = d.objid) = 'r')
UNION ALL
SELECT format('%s %s depends on %s', d.classid::regclass, d.objid, d.refobjid::regclass) FROM pg_depend d
 WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM ours)
   AND d.classid NOT IN ('pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_type'::regclass,
                         'pg_statistic_ext'::regclass)
   AND NOT (d.classid = 'pg_class'::regclass
            AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 't'))
   AND NOT (d.classid = 'pg_trigger'::regclass
            AND (SELECT tgisinternal AND tgconstraint <> 0 FROM pg_trigger WHERE oid = d.objid))
UNION ALL
SELECT format('relation %s: kind, persistence, options, rights or tablespace', c.relname)
  FROM pg_class c WHERE c.oid IN (SELECT oid FROM ours)
   AND (c.relkind NOT IN ('r', 'i') OR c.relpersistence <> 'p' OR c.reloptions IS NOT NULL
        OR c.relacl IS NOT NULL OR c.reltablespace <> 0 OR c.relrowsecurity
        OR c.relforcerowsecurity OR c.relispartition OR c.relhassubclass OR c.relhasrules
        OR (c.relkind = 'r' AND c.relreplident <> 'd'))
UNION ALL
SELECT format('column %s.%s: identity, generated, collation, storage or options',
              a.attrelid::regclass, a.attname)
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid
 WHERE a.attrelid IN (SELECT oid FROM ours) AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attstattarget <> -1 OR a.attfdwoptions IS NOT NULL OR a.attacl IS NOT NULL
        OR EXISTS (SELECT FROM unnest(a.attoptions) AS o WHERE o LIKE 'n\\_distinct%')
        OR (c.relkind = 'r' AND (a.attidentity <> '' OR a.attgenerated <> '' OR a.attinhcount <> 0
                                 OR a.attcollation <> t.typcollation OR a.attstorage <> t.typstorage
                                 OR a.attcompression <> '')))
UNION ALL
SELECT format('index %s: clustered, replica identity or not valid', i.indexrelid::regclass)
  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM ours)
   AND (i.indisclustered OR i.indisreplident OR NOT i.indisvalid OR NOT i.indisready)
UNION ALL
SELECT format('constraint %s of kind %s', conname, contype) FROM pg_constraint
 WHERE connamespace = current_schema()::regnamespace
   AND (contype NOT IN ('p', 'u', 'f', 'c')
        OR (conindid <> 0 AND contype <> 'f' AND conname <> (SELECT relname FROM pg_class WHERE oid = conindid)))
UNION ALL
SELECT format('statistics %s: a target of its own', stxname) FROM pg_statistic_ext
 WHERE stxnamespace = current_schema()::regnamespace AND coalesce(stxstattarget, -1) <> -1
UNION ALL
SELECT format('a comment or label on %s', objoid) FROM pg_description
 WHERE objoid IN (SELECT oid FROM ours) OR objoid IN (SELECT oid FROM pg_constraint
                                                      WHERE connamespace = current_schema()::regnamespace)
UNION ALL
SELECT format('a security label on %s', objoid) FROM pg_seclabel WHERE objoid IN (SELECT oid FROM ours)
"""

_POSTGRES_TABLES = """
SELECT c.relname, quote_ident(c.relname),
       string_agg(format('%s %s%s%s', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
                         ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),
                         CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ', ' ORDER BY a.attnum)
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
 GROUP BY c.oid, c.relname ORDER BY c.relname
"""

_POSTGRES_CONSTRAINTS = """
SELECT c.relname, con.contype = 'f',
       format('CONSTRAINT %s %s', quote_ident(con.conname), pg_get_constraintdef(con.oid))
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE con.connamespace = current_schema()::regnamespace
 ORDER BY c.relname, con.conname
"""

# pg_get_indexdef names the table with its schema: the definition without it, when it starts
# as expected (else the schema stays in it, and the script is not used).
_POSTGRES_INDEXES = """
SELECT CASE WHEN starts_with(definition, prefix || quote_ident(current_schema()) || '.')
            THEN prefix || substr(definition, length(prefix || quote_ident(current_schema()) || '.') + 1)
            ELSE definition END
  FROM (SELECT c.relname,
               pg_get_indexdef(i.indexrelid) AS definition,
               format('CREATE %sINDEX %s ON ', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
                      quote_ident(c.relname)) AS prefix
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = current_schema()::regnamespace
           AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = i.indexrelid AND contype <> 'f')) AS found
 ORDER BY relname
"""

# Extended statistics (CREATE STATISTICS), unqualified like the indexes.
_POSTGRES_STATISTICS = """
SELECT format('CREATE STATISTICS %s%s ON %s FROM %s', quote_ident(s.stxname),
              CASE WHEN cardinality(s.stxkind) > 0 AND NOT s.stxkind @> '{e}' OR cardinality(s.stxkind) > 1
                   THEN ' (' || array_to_string(ARRAY(
                        SELECT CASE k WHEN 'd' THEN 'ndistinct' WHEN 'f' THEN 'dependencies'
                                      WHEN 'm' THEN 'mcv' END
                          FROM unnest(s.stxkind) AS k WHERE k <> 'e'), ', ') || ')'
                   ELSE '' END,
              pg_get_statisticsobjdef_columns(s.oid), quote_ident(c.relname))
  FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid
 WHERE s.stxnamespace = current_schema()::regnamespace
 ORDER BY s.stxname
"""


def _postgres_script(connection) -> tuple[str | None, list[str]]:
    """The script that makes a copy of the current schema of *connection* (a SQLAlchemy
    connection): its tables, the rows in them, keys, checks, indexes and extended statistics,
    unqualified (it runs in whatever schema comes first on search_path). None, and why, when
    the schema holds
    anything the script would not reproduce."""
    problems = [row[0] for row in connection.execute(text(_POSTGRES_UNSUPPORTED))]
    if problems:
        return None, problems
    inline: dict[str, list[str]] = {}
    foreign: dict[str, list[str]] = {}
    for table, is_foreign, definition in connection.execute(text(_POSTGRES_CONSTRAINTS)):
        (foreign if is_foreign else inline).setdefault(table, []).append(definition)
    creates, rows, keys = [], [], []
    for table, quoted, columns in connection.execute(text(_POSTGRES_TABLES)).all():
        creates.append(f"CREATE TABLE {quoted} ({', '.join([columns, *inline.get(table, [])])})")
        # The rows the migrations left (alembic_version's), as JSON read back into the same
        # columns: every type comes back through its own input function.
        data = connection.execute(text(f"SELECT quote_literal(json_agg(t)) FROM {quoted} AS t")).scalar()
        if data is not None:
            rows.append(f"INSERT INTO {quoted} SELECT * FROM json_populate_recordset(NULL::{quoted}, {data})")
        if table in foreign:  # after every table exists and has its rows
            keys.append(f"ALTER TABLE {quoted} " + ", ".join(f"ADD {k}" for k in foreign[table]))
    indexes = [row[0] for row in connection.execute(text(_POSTGRES_INDEXES))]
    statistics = [row[0] for row in connection.execute(text(_POSTGRES_STATISTICS))]
    script = ";\n".join([*creates, *rows, *keys, *indexes, *statistics])
    schema = connection.execute(text("SELECT current_schema()")).scalar()
    if schema in script:  # a definition that names its schema would copy into the template's
        return None, [f"the script names the schema {schema}"]
    return script, []


def _postgres_template(base_url: str) -> dict[str, Any]:
    """How to copy a migrated schema on this server and database (found once per process):
    "script", the consolidated script (None when it can't be used: "problems" says why), and
    "calls", the driver calls (statement, parameters, many) by which the migrations changed
    the schema, replayed instead of a script."""
    key = f"postgres {base_url}"
    if key not in _templates:
        calls: list[tuple[str, Any, bool]] = []

        def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:
            if statement.lstrip().split(None, 1)[0].upper() in _SCHEMA_CHANGES:
                calls.append((statement, parameters, executemany))

        with postgres_schema(base_url, prefix="regie_template") as url:
            engine = create_engine(url, poolclass=NullPool)
            event.listen(engine, "before_cursor_execute", record)
            upgrade(engine)
            event.remove(engine, "before_cursor_execute", record)
            with engine.connect() as connection:
                script, problems = _postgres_script(connection)
            engine.dispose()
        if problems:
            warnings.warn("Migrated PostgreSQL schemas are copied by replaying the migrations' "
                          f"statements (slower): the consolidated script would miss {problems}")
        _templates[key] = {"script": script, "problems": problems, "calls": calls}
    return _templates[key]


def _is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def _replay(cursor, calls: list[tuple[str, Any, bool]]) -> None:
    for statement, parameters, many in calls:
        (cursor.executemany if many else cursor.execute)(statement, parameters)


def migrate(database_url: str) -> None:
    """Bring the database at *database_url* to the newest migration. A new, empty one gets a
    copy of a database migrated once per test process; any other runs the migrations."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database and url.database != ":memory:":
        target = Path(url.database)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), target)
            return
    elif backend == "postgresql":
        base_url = url.difference_update_query(["options"]).render_as_string(hide_password=False)
        template = _postgres_template(base_url)
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            if _is_empty(engine):
                raw = engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    if template["script"] is not None:
                        cursor.execute(template["script"])  # one round trip, one transaction
                    else:
                        _replay(cursor, template["calls"])
                    raw.commit()
                finally:
                    raw.close()
                return
        finally:
            engine.dispose()
    database = Database(database_url)
    upgrade(database.engine)
    database.dispose()
