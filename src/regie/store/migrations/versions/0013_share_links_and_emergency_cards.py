"""share links and emergency cards

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 01:14:24.978249
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emergency_cards',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('content_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_emergency_cards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_emergency_cards'))
    )
    op.create_table('share_links',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('details_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('has_code', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('failed_codes', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('blocked_at', sa.DateTime(), nullable=True),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('last_opened_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_share_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('user_id', 'token_hash', name=op.f('uq_share_links_user_id_token_hash'))
    )
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.create_index('ix_share_links_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('share_link_opens',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('link_id', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id', 'link_id'], ['share_links.user_id', 'share_links.id'], name=op.f('fk_share_link_opens_user_id_share_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_share_link_opens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_share_link_opens'))
    )
    with op.batch_alter_table('share_link_opens', schema=None) as batch_op:
        batch_op.create_index('ix_share_link_opens_user_link_at', ['user_id', 'link_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_link_opens', schema=None) as batch_op:
        batch_op.drop_index('ix_share_link_opens_user_link_at')

    op.drop_table('share_link_opens')
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.drop_index('ix_share_links_user_created')

    op.drop_table('share_links')
    op.drop_table('emergency_cards')
