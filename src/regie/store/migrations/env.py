"""Alembic environment: the engine comes from regie.store.migrate, never from an ini file."""
from alembic import context

from regie.store.models import Base
from regie.store.types import UTCDateTime


def render_item(type_, obj, autogen_context):
    # Migrations must not depend on Regie's Python types: UTCDateTime is a plain DateTime column.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the old one; with foreign keys on, that drop
        # would cascade deletes into the tables that reference it. The pragma only takes
        # effect outside a transaction, so before begin(); checked again at the end.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            if sqlite:
                # Python's sqlite3 begins a transaction only before INSERT/UPDATE/DELETE, so
                # each CREATE/ALTER/DROP would commit on its own and an upgrade killed halfway
                # would leave tables its rerun cannot create again. BEGIN makes the whole
                # upgrade one transaction, as on PostgreSQL (tests/reliability).
                connection.exec_driver_sql("BEGIN")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,  # SQLite can only alter tables by copying them
                compare_type=True,
                render_item=render_item,
            )
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a migration left rows whose foreign keys point nowhere")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
