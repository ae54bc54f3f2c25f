"""record: statistics of the group-head condition (PostgreSQL)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-23 00:30:00

Every list of the record (a category page, the timeline, the start page's sections) shows
one row per group of duplicates, its head (``group_id = id``), newest first. PostgreSQL
cannot estimate a comparison of two columns of one row: it assumes 0.5 % of the rows match.
With statistics on the other columns (autovacuum's ANALYZE) it therefore read all of a
category's rows through another index and sorted them, rather than walk the date index for
a page of 50: ~380 table pages for 50 rows. Statistics of the comparison as an expression
(PostgreSQL 14+) tell it that nearly every row is a head; the lists ask for the head with
``(group_id = id) IS TRUE``, the form those statistics are used for (regie.store.record_sql.
GROUP_HEAD). SQLite plans these lists well without them. Nothing is rewritten: ANALYZE
samples the table (docs/benchmarks.md, session 10).
"""
from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_NAME = "st_record_resources_group_heads"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE STATISTICS IF NOT EXISTS {_NAME} ON ((group_id = id)) FROM record_resources")
    op.execute("ANALYZE record_resources")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {_NAME}")
