"""record: no birth date in the plain sort_date

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-22 02:40:00

A Patient item's date is the birth date, medical content that belongs only in the
encrypted item. The store now writes an empty sort_date for Patient rows; this clears it in
rows stored before (plain SQL, no keys needed). The birth date stays in the item.
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE record_resources SET sort_date = '' WHERE resource_type = 'Patient'")


def downgrade() -> None:
    pass  # the birth dates are only in the encrypted items now: nothing to restore in plain
