"""record: a per-user change counter for the record pages

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-23 06:00:00

``record_stamps`` holds one number per user, raised in the same transaction as every write
to what the record pages show (regie.store.record_stamp). A web process keeps a page it
rendered for as long as that number stays the same (regie.web.page_cache,
docs/decisions/0011). Users without a row read 0; the first write after this migration
creates the row. Nothing to fill: no page was kept before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'record_stamps',
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('stamp', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_record_stamps_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_record_stamps')),
    )


def downgrade() -> None:
    op.drop_table('record_stamps')
