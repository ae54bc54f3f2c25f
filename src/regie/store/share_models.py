"""Sends to care providers (MedMij delen), see docs/share.md.

One row per send: what kind, to which provider and service, the pending authorization
(only the SHA-256 of the OAuth ``state``; the PKCE verifier encrypted), the Bundle exactly
as previewed (encrypted under the user's data key, bound to user and row), and the outcome.
Plain columns hold no medical content: kind, service, counts, status codes. The provider
(a mental-health clinic says too much) is encrypted too (migration 0020). Every query
names ``user_id`` (the ORM identity is ``(user_id, id)``, docs/scale.md).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow

SEND_STATES = ("pending", "sending", "sent", "failed")


class MedMijSend(Base):
    __tablename__ = "medmij_sends"
    # The OAuth callback finds the send by the state's hash (indexed), unique per user.
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), UniqueConstraint("user_id", "state_hash"),
                      Index("ix_medmij_sends_user_created", "user_id", "created_at"),
                      Index("ix_medmij_sends_state_hash", "state_hash"))

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # measurements, document, questionnaire, correction
    # Zorgaanbiedernaam, encrypted (AAD regie-send|<user>|<send>|provider).
    provider_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    service_id: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    channel: Mapped[str] = mapped_column(String(20))  # web, api
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verifier_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    authorize_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    bundle_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    response_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
