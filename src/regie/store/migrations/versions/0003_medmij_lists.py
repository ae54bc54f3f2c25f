"""MedMij lists: the global state of the four lists and the provider details

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:58:25.220089
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('medmij_lists',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('volgnummer', sa.Integer(), nullable=True),
    sa.Column('tijdstempel', sa.DateTime(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('signature', sa.Text(), nullable=True),
    sa.Column('parsed', sa.Text(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_medmij_lists'))
    )


def downgrade() -> None:
    op.drop_table('medmij_lists')
