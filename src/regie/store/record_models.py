"""Tables of the health record and its audit trail (see docs/storage.md).

Medical content lives only in the ``*_encrypted`` columns (AES-256-GCM under the
user's data key, bound to user and row). Plain columns are what ordering,
filtering and identity need: user, source id, category, kind, resource type, a
sortable date, and keyed hashes (HMAC under a per-user key) that reveal nothing
without that key.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy import Boolean, false, text
from sqlalchemy.orm import Mapped, mapped_column

from regie.store.models import Base, new_id
from regie.store.types import UTCDateTime, utcnow


def _user_fk() -> Mapped[str]:
    return mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)


class RecordSource(Base):
    """Where resources came from: a provider + MedMij service, a file name, or "self"."""

    __tablename__ = "record_sources"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"), UniqueConstraint("user_id", "name_hash"),)

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    name_hash: Mapped[str] = mapped_column(String(64))  # HMAC of the name
    name_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordResource(Base):
    """One FHIR resource (current version) with its record item(s) and provenance.

    ``identity`` = HMAC(source id, resource type, resource id): re-importing the same
    resource from the same source finds this row. ``match_hash`` = HMAC of
    :func:`regie.record.match_key`; rows of one user with the same match hash form a
    group whose ``group_id`` is the id of its first row (shown once in lists).
    """

    __tablename__ = "record_resources"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        # Foreign keys between user-data tables carry user_id (Citus co-location).
        ForeignKeyConstraint(["user_id", "source_id"], ["record_sources.user_id", "record_sources.id"],
                             ondelete="CASCADE"),
        # One index finds a resource of a source (re-import) and a reference's target in any
        # source: ``ref_hash`` is keyed by (type, id) alone. Every hash-keyed index makes each
        # insert land on a random page, so there are as few as the lookups need (docs/storage.md).
        Index("ux_record_resources_user_ref_source", "user_id", "ref_hash", "source_id", unique=True),
        # Rows stored before ref_hash was set for every row (before migration 0017) are found by
        # identity until they are imported again; new rows never enter this index.
        Index("ux_record_resources_user_identity_legacy", "user_id", "identity", unique=True,
              sqlite_where=text("ref_hash IS NULL"), postgresql_where=text("ref_hash IS NULL")),
        Index("ix_record_resources_user_category_date", "user_id", "category", "sort_date", "id"),
        Index("ix_record_resources_user_date", "user_id", "sort_date", "id"),
        # Partial: the rows without a value (no match key; not a Flag) are never looked up.
        Index("ix_record_resources_user_match", "user_id", "match_hash",
              sqlite_where=text("match_hash IS NOT NULL"), postgresql_where=text("match_hash IS NOT NULL")),
        Index("ix_record_resources_user_target", "user_id", "target_identity",
              sqlite_where=text("target_identity IS NOT NULL"),
              postgresql_where=text("target_identity IS NOT NULL")),
        Index("ix_record_resources_user_target_ref", "user_id", "target_ref",
              sqlite_where=text("target_ref IS NOT NULL"), postgresql_where=text("target_ref IS NOT NULL")),
        # Covers the summary's and the overview's per-source GROUP BY (counts, last delivery,
        # new since): both read only this index, never the table. Source first, so the rows
        # of one import land next to each other in it.
        Index("ix_record_resources_user_counts", "user_id", "source_id", "category", "resource_type",
              "updated_at"),
        # Only the (few) withdrawn rows: the viewer subtracts their counts from the totals.
        Index("ix_record_resources_user_withdrawn", "user_id", "source_id", "category", "sort_date",
              "resource_type", "updated_at", sqlite_where=text("withdrawn"), postgresql_where=text("withdrawn")),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    # No index of its own: ix_record_resources_user_counts starts with (user_id, source_id).
    source_id: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    # Sortable UTC date key of the item ('' when undated), see regie.record.FhirDate.sort_key.
    sort_date: Mapped[str] = mapped_column(String(32), default="")
    # Withdrawn by the source ("entered-in-error"): not medical content, and a plain flag so
    # the viewer's counts can leave these out (regie.store.record.entered_in_error).
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Still applies (regie.store.record.is_current): lets the database pre-select a "current" or
    # "past" list, which then decrypts the rows it shows rather than twice as many
    # (docs/decisions/0009). NULL: not known yet (stored before migration 0026 and not yet
    # rebuilt by regie.store.record_reindex): such rows are read and decided after decrypting.
    is_current: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    match_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    group_id: Mapped[str] = mapped_column(String(32))
    # For a Flag: the identity of the episode it points at (attention flag at read time).
    target_identity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # HMAC of (resource type, resource id) without the source, to resolve a reference across
    # the user's sources when the source itself does not hold the target (see docs/storage.md).
    ref_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # For a Flag: ``ref_hash`` of the episode it points at.
    target_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # HMAC of the original JSON
    version: Mapped[int] = mapped_column(Integer, default=1)
    original_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    record_encrypted: Mapped[bytes] = mapped_column(LargeBinary)  # items + provenance
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordLink(Base):
    """A reference from a record row to another resource, keyed for the reverse lookup.

    ``target_ref`` is the ``ref_hash`` of the resource pointed at (HMAC of its type and id),
    so "what points at this item" (the agreements of a medication, the journal lines of an
    encounter) is one index range, across sources. Only references between clinical items
    are kept (not the patient, authors or organisations). Rows whose resource changed its
    references keep their old link rows: readers check the decrypted links (docs/storage.md).
    """

    __tablename__ = "record_links"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "target_ref", "row_id"),
        {"sqlite_with_rowid": False},
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    target_ref: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(32))


class RecordResourceVersion(Base):
    """A previous version of a resource, kept when a re-import changed it."""

    __tablename__ = "record_resource_versions"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        ForeignKeyConstraint(["user_id", "resource_id"], ["record_resources.user_id", "record_resources.id"],
                             ondelete="CASCADE"),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = _user_fk()
    resource_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    original_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    record_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who read or wrote record data, when and how. Never medical content."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id"),
        Index("ix_audit_entries_user_at", "user_id", "at", "id"),
        # The start page's "new since your last visit" (regie.store.record_sql.last_visit): only
        # the overview visits, a small share of a trail that grows with every page viewed.
        Index("ix_audit_entries_overview_visits", "user_id", "actor_id", "at", "id",
              sqlite_where=text("action = 'overview'"), postgresql_where=text("action = 'overview'")),
    )

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(40))  # a record item id, "summary", "items"
    channel: Mapped[str] = mapped_column(String(20))  # web, api-session, api-token, cli
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordReindexPending(Base):
    """A user whose stored rows still need their keyed indexes (re)built by
    :mod:`regie.store.record_reindex`: reference hashes and links of rows stored before
    migration 0017. Migrations can only list the users (they have no data keys); the
    rebuild runs per user with the user's key (``regie worker`` in the background, first for a
    record opened, or ``regie db reindex``: docs/decisions/0010)."""

    __tablename__ = "record_reindex_pending"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordStamp(Base):
    """How often the user's record changed: a counter raised in the same transaction as
    every write to what the record pages show (:mod:`regie.store.record_stamp`). A page
    rendered for one value of it is the page for as long as the value stays
    (:mod:`regie.web.page_cache`, docs/decisions/0011). No medical content: a number."""

    __tablename__ = "record_stamps"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    stamp: Mapped[int] = mapped_column(Integer, default=0)


class RecordSearchSegment(Base):
    """A piece of the user's encrypted search index (``regie.store.record_search``): the
    searchable text and measurement codes of the rows one import wrote, in one blob under
    the user's data key (associated data ``regie-search|<user>|<segment>``)."""

    __tablename__ = "record_search_segments"
    __table_args__ = (PrimaryKeyConstraint("user_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), default=new_id)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    row_count: Mapped[int] = mapped_column(Integer)  # entries in the blob: small segments get merged
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    index_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
