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

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
        render_item=render_item,
    )
    context.run_migrations()
