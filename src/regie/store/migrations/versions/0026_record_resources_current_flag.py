"""record resources: the plain "current" flag

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-23 01:00:00

Whether an item still applies (regie.store.record.is_current), set on every write, so a
"current" or "past" list (the start page's problems, medication and allergies, the category
pages) lets the database pre-select rows instead of decrypting about twice what it shows
(docs/decisions/0009). Rows stored before read NULL: the lists read and decide those after
decrypting, as before, until an import or collection writes them again.

If the rule in ``is_current`` ever changes, a migration sets the column to NULL for every
row (``UPDATE record_resources SET is_current = NULL``): the lists are right at once, and
faster again as data is written anew.
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_current', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.drop_column('is_current')
