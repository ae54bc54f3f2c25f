"""record: one index for resources and references, partial indexes, links for related items

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 01:42:44.930009

Every index keyed by a keyed hash (HMAC) puts each new row on a random page, so an import
writes about one page per row per such index; they were most of the cost of storing
(docs/benchmarks.md). Now:

* ``ref_hash`` (HMAC of type and id) is set for every new row, and one unique index
  ``(user_id, ref_hash, source_id)`` serves both lookups that needed two before: the row of
  a re-imported resource (same source) and a reference's target in any source.
* Rows stored earlier keep their ``identity`` index, now partial (``ref_hash IS NULL``):
  only those rows are in it, and they leave it when imported again. Their ref_hash is a
  keyed hash, so a migration (which has the database, not the users' keys) cannot fill it.
* ``ix_record_resources_source_id`` goes: ``ix_record_resources_user_counts`` starts with
  ``(user_id, source_id)``, which every query by source and the foreign key use.
* The match and Flag-target indexes become partial (``IS NOT NULL``): rows without a
  value were never looked up there.
* ``record_links``: the references between clinical items, by target, for "related items"
  across sources. Rows stored before get their links when they are imported again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

PARTIAL = (("ix_record_resources_user_match", "match_hash"),
           ("ix_record_resources_user_target", "target_identity"),
           ("ix_record_resources_user_target_ref", "target_ref"))


def upgrade() -> None:
    op.create_table('record_links',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('target_ref', sa.String(length=64), nullable=False),
    sa.Column('row_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_record_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'target_ref', 'row_id', name=op.f('pk_record_links')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_resources_user_ref'))
        batch_op.drop_index(batch_op.f('ix_record_resources_source_id'))
        batch_op.drop_constraint(batch_op.f('uq_record_resources_user_id_identity'), type_='unique')
        batch_op.create_index('ux_record_resources_user_identity_legacy', ['user_id', 'identity'], unique=True, sqlite_where=sa.text('ref_hash IS NULL'), postgresql_where=sa.text('ref_hash IS NULL'))
        batch_op.create_index('ux_record_resources_user_ref_source', ['user_id', 'ref_hash', 'source_id'], unique=True)
        for name, column in PARTIAL:
            condition = sa.text(f"{column} IS NOT NULL")
            batch_op.drop_index(name)
            batch_op.create_index(name, ['user_id', column], unique=False,
                                  sqlite_where=condition, postgresql_where=condition)


def downgrade() -> None:
    with op.batch_alter_table('record_resources', schema=None) as batch_op:
        for name, column in PARTIAL:
            batch_op.drop_index(name)
            batch_op.create_index(name, ['user_id', column], unique=False)
        batch_op.drop_index('ux_record_resources_user_ref_source')
        batch_op.drop_index('ux_record_resources_user_identity_legacy', sqlite_where=sa.text('ref_hash IS NULL'), postgresql_where=sa.text('ref_hash IS NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_record_resources_user_id_identity'), ['user_id', 'identity'])
        batch_op.create_index(batch_op.f('ix_record_resources_user_ref'), ['user_id', 'ref_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_resources_source_id'), ['source_id'], unique=False)

    op.drop_table('record_links')
