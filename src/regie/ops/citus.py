"""The statements that spread Regie's schema over a Citus cluster (docs/scale.md).

Generated from the models, so a table added later is in the plan without anyone
remembering it: ``python -m regie.ops.citus`` prints the SQL for the schema of this
version. Decisions (docs/scale.md explains them):

* ``users`` is a **reference table** (a copy on every node): log-in looks a user up by
  e-mail before the user is known, the e-mail stays unique, and every user-data table
  keeps its foreign key ``user_id → users.id`` (distributed → reference is allowed).
  Users are written rarely (registration, password change), which is what reference
  tables are for.
* Every other table with ``user_id`` is **distributed by user_id**, all in one
  co-location group, so a user's rows of every table live on one node and joins between
  them (always on ``user_id``) stay there.
* ``web_sessions``, ``api_tokens``, ``email_tokens`` and ``jobs`` stay **local** on the coordinator: they are
  looked up by a secret's hash or by queue order, not by user. Their foreign keys point
  at ``users`` (a reference table), which Citus allows for coordinator-local tables.
* The global tables without ``user_id`` (lists, throttles) are local too, except the
  MedMij lists, which every node may read: a reference table.
"""
from __future__ import annotations

from sqlalchemy import MetaData, Table

# user_id, but not distributed (see above).
LOCAL_USER_TABLES = frozenset({"web_sessions", "api_tokens", "jobs", "email_tokens"})
REFERENCE_TABLES = ("users", "medmij_lists")
# Not in the models: Alembic's own table stays on the coordinator.
LOCAL_TABLES = frozenset({"throttles", "alembic_version"}) | LOCAL_USER_TABLES


def distributed_tables(metadata: MetaData) -> list[Table]:
    """Tables distributed by user_id, parents before children (foreign keys need that)."""
    return [t for t in metadata.sorted_tables if "user_id" in t.columns and t.name not in LOCAL_USER_TABLES]


def plan(metadata: MetaData) -> list[str]:
    """The SQL to run on the coordinator after `regie db upgrade` on an empty Citus database."""
    statements = [f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES]
    tables = distributed_tables(metadata)
    if tables:
        first = tables[0].name
        statements.append(f"SELECT create_distributed_table('{first}', 'user_id');")
        statements += [f"SELECT create_distributed_table('{t.name}', 'user_id', colocate_with => '{first}');"
                       for t in tables[1:]]
    return statements


def main() -> None:
    from regie.store.models import Base

    print("-- Regie on Citus: run on the coordinator after `regie db upgrade` (docs/scale.md)")
    for statement in plan(Base.metadata):
        print(statement)
    print("-- Stay local on the coordinator: " + ", ".join(sorted(LOCAL_TABLES)))


if __name__ == "__main__":
    main()
