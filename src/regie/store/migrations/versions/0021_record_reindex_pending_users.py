"""record: users whose keyed indexes still need building

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-22 04:29:32.671742

Rows stored before migration 0017 have no ``record_links`` (related items) and, before
0008, no ``ref_hash``. Both are keyed hashes under the user's data key, which a migration
does not have. This lists every user with stored rows in ``record_reindex_pending``; the
rebuild itself runs per user, in one transaction each, with the user's key
(``regie.store.record_reindex``: ``regie worker`` runs it in the background, first for a
record opened, and ``regie db reindex`` runs it at once: docs/decisions/0010).
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_reindex_pending',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_record_reindex_pending_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_record_reindex_pending'))
    )
    op.execute("INSERT INTO record_reindex_pending (user_id, since) "
               "SELECT DISTINCT user_id, CURRENT_TIMESTAMP FROM record_resources")


def downgrade() -> None:
    op.drop_table('record_reindex_pending')
