"""Indexes for the periodic clean-up (regie.jobs.cleanup), migration 0023.

Kept in one place because they exist for one job: finding what expired without reading
whole tables. Each clean-up statement filters on one of them. Where most rows are finished
history (OAuth states, invitations, erased accounts), the index is *partial*: it holds only
the rows that still carry a secret, so it stays small however long the history grows, and
a run reads only what it will change.

All are plain (non-unique) indexes: allowed on Citus-distributed tables without the
distribution column (docs/scale.md).

Imported at the end of ``regie.store.models``. Some model modules are still half-imported
then (the one that was imported first pulls in ``models``), so each index is added when
its table's class is mapped, or at once for classes mapped already.
"""
from __future__ import annotations

from sqlalchemy import Index, Table, event, text
from sqlalchemy.orm import Mapper

from regie.store.models import Base

# table → (index name, column, partial-index condition or None)
INDEXES: dict[str, list[tuple[str, str, str | None]]] = {
    # Sessions end by idle time or by age; both are looked for.
    "web_sessions": [("ix_web_sessions_last_seen_at", "last_seen_at", None),
                     ("ix_web_sessions_created_at", "created_at", None)],
    "email_tokens": [("ix_email_tokens_expires_at", "expires_at", None)],
    "throttles": [("ix_throttles_last_failure_at", "last_failure_at", None)],
    "jobs": [("ix_jobs_finished_at", "finished_at", None)],
    "share_links": [("ix_share_links_expires_at", "expires_at", None),
                    ("ix_share_links_revoked_at", "revoked_at", None)],
    # Only rows that still hold a secret (a PKCE verifier, a token hash, an access token).
    "collections": [("ix_collections_open_authorizations", "authorize_expires_at", "verifier_encrypted IS NOT NULL")],
    "medmij_sends": [("ix_medmij_sends_open_authorizations", "authorize_expires_at", "verifier_encrypted IS NOT NULL")],
    "questionnaire_access": [
        ("ix_questionnaire_access_open_authorizations", "authorize_expires_at", "verifier_encrypted IS NOT NULL"),
        ("ix_questionnaire_access_live_tokens", "token_expires_at", "token_encrypted IS NOT NULL")],
    "delegations": [("ix_delegations_open_invitations", "invite_expires_at", "token_hash IS NOT NULL")],
    "managed_records": [("ix_managed_records_open_claims", "claim_expires_at", "claim_token_hash IS NOT NULL")],
}
# Accounts whose erasure stopped after the key was destroyed (regie.leaving.erase): the
# empty wrapped key. Without it, every clean-up read the whole users table.
SHREDDED_USERS = ("ix_users_shredded", "id", {"sqlite": "wrapped_data_key = X''",
                                              "postgresql": "wrapped_data_key = '\\x'::bytea"})


def _add(table: Table) -> None:
    have = {index.name for index in table.indexes}
    for name, column, where in INDEXES.get(table.name, []):
        if name not in have:
            options = {} if where is None else {"sqlite_where": text(where), "postgresql_where": text(where)}
            Index(name, table.c[column], **options)
    if table.name == "users" and SHREDDED_USERS[0] not in have:
        name, column, where = SHREDDED_USERS
        Index(name, table.c[column], sqlite_where=text(where["sqlite"]), postgresql_where=text(where["postgresql"]))


@event.listens_for(Base, "after_mapper_constructed", propagate=True)
def _on_mapped(mapper: Mapper, _class: type) -> None:
    if isinstance(mapper.local_table, Table):
        _add(mapper.local_table)


for _table in list(Base.metadata.tables.values()):
    _add(_table)
