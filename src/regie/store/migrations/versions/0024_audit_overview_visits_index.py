"""audit: an index of the overview visits

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-22 22:20:00

The start page shows what is new since the person's last visit, found in the audit trail:
the newest ``overview`` entry of that person on that record. The only index to find it by
was ``(user_id, at, id)``, and every page viewed adds entries (a list page about fifty), so
PostgreSQL read the user's whole trail for it: 50-150 ms of database CPU per start page for
a user with ~150,000 entries, growing with use. A partial index of the overview entries
alone finds the newest in one step (docs/benchmarks.md, session 9).
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_WHERE = "action = 'overview'"


def upgrade() -> None:
    op.create_index("ix_audit_entries_overview_visits", "audit_entries", ["user_id", "actor_id", "at", "id"],
                    unique=False, sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index("ix_audit_entries_overview_visits", table_name="audit_entries")
