"""record: encrypted search index

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-22 04:34:22.444580

Text search and trend pages decrypted every row of a record. ``record_search_segments``
holds a per-user search index in encrypted blobs (``regie.store.record_search``). Rows
stored before have no entries, and building them needs the users' keys: every user with
rows is marked for the per-user rebuild (``record_reindex_pending``; run in the background,
docs/decisions/0010). Until then that user's searches read every row as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_search_segments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('index_encrypted', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_record_search_segments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_record_search_segments'))
    )
    op.execute("INSERT INTO record_reindex_pending (user_id, since) "
               "SELECT DISTINCT user_id, CURRENT_TIMESTAMP FROM record_resources r WHERE NOT EXISTS "
               "(SELECT 1 FROM record_reindex_pending p WHERE p.user_id = r.user_id)")


def downgrade() -> None:
    op.drop_table('record_search_segments')
