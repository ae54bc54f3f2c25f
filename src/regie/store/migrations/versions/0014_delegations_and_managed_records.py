"""delegations and managed records

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 01:14:46.302617
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delegations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('delegate_user_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('can_add', sa.Boolean(), nullable=False),
    sa.Column('can_collect', sa.Boolean(), nullable=False),
    sa.Column('valid_until', sa.DateTime(), nullable=True),
    sa.Column('label_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('invite_expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('kept_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['delegate_user_id'], ['users.id'], name=op.f('fk_delegations_delegate_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_delegations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index('ix_delegations_delegate', ['delegate_user_id'], unique=False)
        batch_op.create_index('ix_delegations_token_hash', ['token_hash'], unique=False)

    op.create_table('managed_records',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('name_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('birth_date_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('claim_token_hash', sa.String(length=64), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_managed_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_managed_records'))
    )
    with op.batch_alter_table('managed_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_managed_records_claim_token_hash'), ['claim_token_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('managed_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_managed_records_claim_token_hash'))

    op.drop_table('managed_records')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index('ix_delegations_token_hash')
        batch_op.drop_index('ix_delegations_delegate')

    op.drop_table('delegations')
