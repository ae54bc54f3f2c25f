"""questionnaire tasks and access

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 02:10:00.000000

Questionnaire tasks from care providers (MedMij service 906) and the authorizations used
to find and accept them (docs/share.md). Everything medical is encrypted.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('questionnaire_tasks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('task_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('content_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('draft_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('send_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_questionnaire_tasks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_questionnaire_tasks')),
    sa.UniqueConstraint('user_id', 'task_key', name=op.f('uq_questionnaire_tasks_user_id_task_key'))
    )
    with op.batch_alter_table('questionnaire_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_questionnaire_tasks_user_updated', ['user_id', 'updated_at'], unique=False)

    op.create_table('questionnaire_access',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('task_row', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=True),
    sa.Column('state_hash', sa.String(length=64), nullable=True),
    sa.Column('verifier_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('correlation_id', sa.String(length=40), nullable=True),
    sa.Column('authorize_expires_at', sa.DateTime(), nullable=True),
    sa.Column('token_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(), nullable=True),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_questionnaire_access_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_questionnaire_access'))
    )
    with op.batch_alter_table('questionnaire_access', schema=None) as batch_op:
        batch_op.create_index('ix_questionnaire_access_state_hash', ['state_hash'], unique=False)
        batch_op.create_index('ix_questionnaire_access_user_provider', ['user_id', 'provider'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('questionnaire_access', schema=None) as batch_op:
        batch_op.drop_index('ix_questionnaire_access_user_provider')
        batch_op.drop_index('ix_questionnaire_access_state_hash')
    op.drop_table('questionnaire_access')
    with op.batch_alter_table('questionnaire_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_questionnaire_tasks_user_updated')
    op.drop_table('questionnaire_tasks')
