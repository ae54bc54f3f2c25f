"""user_id in the primary, unique and foreign keys of every user-data table (Citus)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 01:30:00

Citus distributes a table by one column and requires it in every primary key, unique
constraint and foreign key between distributed tables (docs/scale.md). Regie distributes
by ``user_id``: the primary keys become ``(user_id, id)``, the foreign keys between record
tables ``(user_id, x_id) → (user_id, id)``, and the secrets looked up before the user is
known (passkey credential, calendar token, OAuth state hashes) unique per user plus a
plain index for the lookup. Rows are kept: SQLite copies each table (batch mode, with
foreign keys off during the migration, see env.py), PostgreSQL alters in place.
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Every table that holds a user's rows and is distributed on Citus. web_sessions,
# api_tokens and jobs stay local on the coordinator (looked up by a hash or queue order).
TABLES = ("totp_factors", "passkeys", "recovery_codes", "security_events", "record_sources",
          "record_resources", "record_resource_versions", "audit_entries", "collections",
          "medmij_consents", "record_notes", "calendar_feeds", "medmij_sends")
# child table, its column, parent table
FOREIGN_KEYS = (("record_resources", "source_id", "record_sources"),
                ("record_resource_versions", "resource_id", "record_resources"),
                ("record_notes", "resource_id", "record_resources"))
# table, column that was unique on its own
SECRETS = (("passkeys", "credential_id"), ("calendar_feeds", "token_hash"),
           ("collections", "state_hash"), ("medmij_sends", "state_hash"))


def upgrade() -> None:
    # Foreign keys first: PostgreSQL refuses to drop a primary key a foreign key uses.
    for child, column, parent in FOREIGN_KEYS:
        with op.batch_alter_table(child) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_{column}_{parent}", type_="foreignkey")
    secrets = dict(SECRETS)
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["user_id", "id"])
            if table in secrets:
                column = secrets[table]
                batch_op.drop_constraint(f"uq_{table}_{column}", type_="unique")
                batch_op.create_unique_constraint(f"uq_{table}_user_id_{column}", ["user_id", column])
                batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)
    for child, column, parent in FOREIGN_KEYS:
        with op.batch_alter_table(child) as batch_op:
            batch_op.create_foreign_key(f"fk_{child}_user_id_{parent}", parent, ["user_id", column],
                                        ["user_id", "id"], ondelete="CASCADE")


def downgrade() -> None:
    for child, column, parent in FOREIGN_KEYS:
        with op.batch_alter_table(child) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_user_id_{parent}", type_="foreignkey")
    secrets = dict(SECRETS)
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            if table in secrets:
                column = secrets[table]
                batch_op.drop_index(f"ix_{table}_{column}")
                batch_op.drop_constraint(f"uq_{table}_user_id_{column}", type_="unique")
                batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["id"])
    for child, column, parent in FOREIGN_KEYS:
        with op.batch_alter_table(child) as batch_op:
            batch_op.create_foreign_key(f"fk_{child}_{column}_{parent}", parent, [column], ["id"],
                                        ondelete="CASCADE")
