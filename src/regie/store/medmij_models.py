"""Global MedMij state: the lists Regie holds (not per user; nothing here is medical).

One row per list kind (``ZAL``, ``OCL``, ``WHITELIST``, ``GNL``, and ``DETAILS`` for the
provider-details document). The raw bytes and the detached signature are kept exactly
as downloaded, so the check can be repeated; ``parsed`` is the checked content as JSON,
so the web processes can build the directory without re-validating the XML.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base
from regie.store.types import UTCDateTime


class MedMijListRow(Base):
    __tablename__ = "medmij_lists"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The last good version (all None until one was installed).
    volgnummer: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tijdstempel: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    parsed: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The last attempt, good or bad; last_error is None after a good one.
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
