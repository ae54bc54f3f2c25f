"""record summary index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 23:03:53.567594
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.create_index('ix_record_resources_user_summary', ['user_id', 'resource_type', 'category', 'source_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.drop_index('ix_record_resources_user_summary')

