"""record resources: the plain "current" flag

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-23 01:00:00

Whether an item still applies (regie.store.record.is_current), set on every write, so a
"current" or "past" list (the start page's problems, medication and allergies, the category
pages) lets the database pre-select rows instead of decrypting about twice what it shows
(docs/decisions/0009). Rows stored before read NULL: the lists read and decide those after
decrypting, as before. Setting it needs the decrypted items, so every user with rows is
marked for the per-user rebuild (``record_reindex_pending``, regie.store.record_reindex),
which runs in the background after migrating (docs/decisions/0010).

If the rule in ``is_current`` ever changes, a migration sets the column to NULL for every
row (``UPDATE record_resources SET is_current = NULL``) and marks the users pending as this
one does: the lists are right at once, and fast again once the rebuild has run.
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
    op.execute("INSERT INTO record_reindex_pending (user_id, since) "
               "SELECT DISTINCT user_id, CURRENT_TIMESTAMP FROM record_resources r WHERE NOT EXISTS "
               "(SELECT 1 FROM record_reindex_pending p WHERE p.user_id = r.user_id)")


def downgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.drop_column('is_current')
