"""collections and medmij_consents: provider, services and scope encrypted

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 01:11:00.132322

Which provider a patient collects from, and which services, are medical content. New
columns hold them encrypted with the user's data key plus a keyed hash for lookups; the
plain columns become nullable. Existing rows cannot be re-encrypted here: a migration
has the database, not the master key that unwraps the users' data keys. The web process
seals them (encrypts, then empties the plain columns) when it starts
(``Collections.seal_legacy_rows``, docs/collect.md); a later migration drops the plain
columns.
Downgrading after sealing is not possible without data loss (the plain columns are empty).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('provider_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('services_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('progress_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.alter_column('provider',
               existing_type=sa.VARCHAR(length=120),
               nullable=True)
        batch_op.alter_column('services',
               existing_type=sa.TEXT(),
               nullable=True)
        batch_op.create_index('ix_collections_user_provider', ['user_id', 'provider_hash'], unique=False)

    with op.batch_alter_table('medmij_consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('provider_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('scope_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.alter_column('provider',
               existing_type=sa.VARCHAR(length=120),
               nullable=True)
        batch_op.alter_column('scope',
               existing_type=sa.TEXT(),
               nullable=True)
        batch_op.create_index('ux_medmij_consents_user_provider', ['user_id', 'provider_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('medmij_consents', schema=None) as batch_op:
        batch_op.drop_index('ux_medmij_consents_user_provider')
        batch_op.alter_column('scope',
               existing_type=sa.TEXT(),
               nullable=False)
        batch_op.alter_column('provider',
               existing_type=sa.VARCHAR(length=120),
               nullable=False)
        batch_op.drop_column('language')
        batch_op.drop_column('scope_encrypted')
        batch_op.drop_column('provider_encrypted')
        batch_op.drop_column('provider_hash')

    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index('ix_collections_user_provider')
        batch_op.alter_column('services',
               existing_type=sa.TEXT(),
               nullable=False)
        batch_op.alter_column('provider',
               existing_type=sa.VARCHAR(length=120),
               nullable=False)
        batch_op.drop_column('progress_encrypted')
        batch_op.drop_column('language')
        batch_op.drop_column('services_encrypted')
        batch_op.drop_column('provider_encrypted')
        batch_op.drop_column('provider_hash')
