"""Alembic migrations, run from code: `regie db upgrade` and the start-up check."""
from __future__ import annotations

from enum import Enum

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from regie.errors import SchemaVersionError


class SchemaState(Enum):
    EMPTY = "empty"
    BEHIND = "behind"
    CURRENT = "current"
    AHEAD = "ahead"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "regie.store:migrations")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head", *, keyring=None) -> None:
    """*keyring*: for migrations that encrypt existing rows (0020); without it such a
    migration stops on a database that has rows to convert."""
    state = schema_state(engine)
    if state is SchemaState.AHEAD:
        raise _ahead_error(engine)
    config = alembic_config(engine)
    config.attributes["keyring"] = keyring
    command.upgrade(config, revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_state(engine: Engine) -> SchemaState:
    current = current_revision(engine)
    if current is None:
        return SchemaState.EMPTY
    script = ScriptDirectory.from_config(alembic_config())
    if current == script.get_current_head():
        return SchemaState.CURRENT
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState.BEHIND if current in known else SchemaState.AHEAD


def require_current(engine: Engine) -> None:
    """Refuse to serve from a database this code does not match."""
    state = schema_state(engine)
    if state is SchemaState.AHEAD:
        raise _ahead_error(engine)
    if state in (SchemaState.EMPTY, SchemaState.BEHIND):
        raise SchemaVersionError(
            "The database is not up to date with this version of Regie. Run: regie db upgrade"
        )


def _ahead_error(engine: Engine) -> SchemaVersionError:
    return SchemaVersionError(
        f"The database is at migration {current_revision(engine)!r}, which is newer than this "
        f"version of Regie knows (latest: {head_revision()!r}). Install the newer Regie that "
        "migrated it, or restore a backup."
    )
