"""Tables for the user's own data beside the record (see docs/own-data.md).

* ``record_notes``: a personal note on a record item. The text is AES-256-GCM under the
  user's data key, bound to user, note and item (``regie-note|<user>|<note>|<item>``).
  Deleting the item deletes its notes.
* ``calendar_feeds``: the secret calendar feed URLs. Only the SHA-256 of the token is
  stored (the token is 256 random bits, so a plain hash cannot be guessed back);
  revoking sets ``revoked_at``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow


class RecordNote(Base):
    __tablename__ = "record_notes"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        ForeignKeyConstraint(["user_id", "resource_id"], ["record_resources.user_id", "record_resources.id"],
                             ondelete="CASCADE"),
        Index("ix_record_notes_user_item", "user_id", "resource_id"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(String(32))
    text_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"
    # The feed URL holds only the token: looked up by its hash (indexed), unique per user.
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), UniqueConstraint("user_id", "token_hash"),
                      Index("ix_calendar_feeds_token_hash", "token_hash"))

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
