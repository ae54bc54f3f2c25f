"""record resources: withdrawn flag

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 01:31:00.369985

A plain flag for items their source withdrew ("entered-in-error", also own data the patient
deleted), so the viewer can leave them out of its counts without decrypting every row, and
a partial index over just those rows. Rows stored before this migration read as not
withdrawn: a migration has the database, not the keys to read the status. The viewer's lists
check the decrypted status as well, so they hide such rows anyway; their counts are right
after the next import or collection of that data (docs/viewer.md).
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_record_resources_user_withdrawn', ['user_id', 'source_id', 'category', 'sort_date', 'resource_type', 'updated_at'], unique=False, sqlite_where=sa.text('withdrawn'), postgresql_where=sa.text('withdrawn'))


def downgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.drop_index('ix_record_resources_user_withdrawn', sqlite_where=sa.text('withdrawn'), postgresql_where=sa.text('withdrawn'))
        batch_op.drop_column('withdrawn')
