"""indexes for the periodic clean-up

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-22 05:05:00

The clean-up job (``regie.jobs.cleanup``) looks for what expired: sessions, e-mail links,
share links, throttle counters, finished jobs, OAuth states, invitations, child claims,
questionnaire access tokens and erased accounts. Without these indexes each of its
statements read a whole table (``users`` included). Where most rows are history, the index
is partial: only rows that still hold a secret (``regie.store.cleanup_indexes``).
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

PLAIN = [
    ("ix_web_sessions_last_seen_at", "web_sessions", "last_seen_at"),
    ("ix_web_sessions_created_at", "web_sessions", "created_at"),
    ("ix_email_tokens_expires_at", "email_tokens", "expires_at"),
    ("ix_throttles_last_failure_at", "throttles", "last_failure_at"),
    ("ix_jobs_finished_at", "jobs", "finished_at"),
    ("ix_share_links_expires_at", "share_links", "expires_at"),
    ("ix_share_links_revoked_at", "share_links", "revoked_at"),
]
PARTIAL = [
    ("ix_collections_open_authorizations", "collections", "authorize_expires_at", "verifier_encrypted IS NOT NULL"),
    ("ix_medmij_sends_open_authorizations", "medmij_sends", "authorize_expires_at", "verifier_encrypted IS NOT NULL"),
    ("ix_questionnaire_access_open_authorizations", "questionnaire_access", "authorize_expires_at",
     "verifier_encrypted IS NOT NULL"),
    ("ix_questionnaire_access_live_tokens", "questionnaire_access", "token_expires_at", "token_encrypted IS NOT NULL"),
    ("ix_delegations_open_invitations", "delegations", "invite_expires_at", "token_hash IS NOT NULL"),
    ("ix_managed_records_open_claims", "managed_records", "claim_expires_at", "claim_token_hash IS NOT NULL"),
]


def upgrade() -> None:
    for name, table, column in PLAIN:
        op.create_index(name, table, [column], unique=False)
    for name, table, column, where in PARTIAL:
        op.create_index(name, table, [column], unique=False,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    # The empty wrapped key of an account whose erasure stopped half-way (regie.leaving.erase).
    op.create_index("ix_users_shredded", "users", ["id"], unique=False,
                    sqlite_where=sa.text("wrapped_data_key = X''"),
                    postgresql_where=sa.text("wrapped_data_key = '\\x'::bytea"))


def downgrade() -> None:
    op.drop_index("ix_users_shredded", table_name="users")
    for name, table, *_ in reversed(PARTIAL):
        op.drop_index(name, table_name=table)
    for name, table, _ in reversed(PLAIN):
        op.drop_index(name, table_name=table)
