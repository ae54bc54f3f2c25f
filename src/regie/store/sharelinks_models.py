"""Share links for a doctor and the emergency card (see docs/share-links.md).

* ``share_links``: one row per link. The link's secret is never stored, only its
  SHA-256 (``token_hash``; 256 random bits, so a plain hash cannot be guessed back).
  What is shared (the selection), the names on the page, the patient's own label and the
  optional access code are one JSON document encrypted under the user's data key, bound
  to user and link (``regie-share-link|<user>|<link>``). Plain columns are bookkeeping:
  times, counters, state. The content itself is never copied here: it is read from the
  record each time the link is opened, so a revoked or expired link shows nothing.
* ``share_link_opens``: when a link was opened (the patient sees the list).
* ``emergency_cards``: the card the patient curates; one encrypted JSON document
  (chosen record items, own lines, emergency contact), bound to the user.

Primary keys start with ``user_id`` (the distribution column, docs/scale.md); the link
URL carries the user id beside the secret so the lookup names ``user_id`` too.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
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


class ShareLink(Base):
    __tablename__ = "share_links"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        UniqueConstraint("user_id", "token_hash"),
        Index("ix_share_links_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    # Who made it: the owner, or later a delegate acting for the owner (a user id, no FK:
    # the link stays the owner's when the delegate leaves).
    created_by: Mapped[str] = mapped_column(String(32))
    details_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    has_code: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Wrong access codes: a short lock after a few, the link is blocked for good after more.
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ShareLinkOpen(Base):
    __tablename__ = "share_link_opens"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        ForeignKeyConstraint(["user_id", "link_id"], ["share_links.user_id", "share_links.id"],
                             ondelete="CASCADE"),
        Index("ix_share_link_opens_user_link_at", "user_id", "link_id", "at"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    link_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmergencyCard(Base):
    __tablename__ = "emergency_cards"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    content_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
