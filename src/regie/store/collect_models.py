"""Collections from MedMij providers and the long-lived consents they leave behind
(see docs/collect.md).

A ``collections`` row is the job's state, shared by every web process and the CLI:
what was asked (provider, services), where the OAuth flow is (hash of the ``state``,
the PKCE verifier encrypted with the user's data key, the correlation id, expiry),
the job's state and heartbeat, and the progress and receipt (encrypted with the user's
data key). Access tokens are never stored; refresh tokens only encrypted, in
``medmij_consents``.

Which provider and which services are medical content (a mental-health clinic, the
"Basisgegevens GGZ" service): they are encrypted with the user's data key, and looked
up by a keyed hash (HMAC with the user's index key, as the record's sources are). The
plain columns of rows written before migration 0011 were encrypted and dropped by
migration 0020 (docs/collect.md).

Every query names ``user_id`` (the ORM identity is ``(user_id, id)``): on a database
distributed by user (docs/scale.md) each statement then goes to one node.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow

# pending: waiting for DigiD and consent at the provider; queued: consent given, the
# job is about to start; running; done (possibly with failed services); failed (nothing
# could be collected: no consent, token refused ...); interrupted (the process stopped).
COLLECTION_STATES = ("pending", "queued", "running", "done", "failed", "interrupted")
FINISHED_STATES = ("done", "failed", "interrupted")
# How often a long-lived consent re-collects, in days: never more than daily; 0 = never.
SCHEDULE_DAYS = (1, 7, 14, 30, 0)
DEFAULT_SCHEDULE_DAYS = 7


def _user_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),  # Citus readiness, docs/scale.md
        # The OAuth callback finds the collection by the state's hash (indexed), unique per user.
        UniqueConstraint("user_id", "state_hash"),
        Index("ix_collections_state_hash", "state_hash"),
        Index("ix_collections_state_heartbeat", "state", "heartbeat_at"),
        Index("ix_collections_user_provider", "user_id", "provider_hash"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within the batch
    # Zorgaanbiedernaam (xxx@medmij) and the JSON list of GegevensdienstIds, encrypted;
    # provider_hash = HMAC(user's index key, "collect-provider", name) for lookups.
    provider_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    services_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The language the patient used when starting it (for texts sent later: e-mail).
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    channel: Mapped[str] = mapped_column(String(20))  # web, api-session, api-token, cli
    long_lived: Mapped[bool] = mapped_column(Boolean, default=False)
    # The pending authorization: single use (cleared by the callback), expiring.
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # web session that started it
    state_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verifier_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    authorize_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Counters per service ({"49": {"done": 3, "total": 7}}), encrypted: the keys are
    # service ids.
    progress_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reference: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    receipt_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class MedMijConsent(Base):
    """A long-lived consent: the refresh token a provider granted, encrypted with the
    user's data key. Deleting the row is how a patient revokes it in Regie."""

    __tablename__ = "medmij_consents"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),  # Citus readiness, docs/scale.md
        # One consent per provider per user (NULL hashes: rows not sealed yet).
        Index("ux_medmij_consents_user_provider", "user_id", "provider_hash", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    provider_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    scope_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # "<provider>~<id> …"
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Staying up to date (regie.collect.schedule): re-collect every this many days (one of
    # SCHEDULE_DAYS; 0: only when the patient asks), when next, and whether to e-mail the
    # patient that there is new data (never what it is).
    schedule_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    email_new_data: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The patient's language for that e-mail ("nl", "en"): the one they used last on /collect.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
