"""Reading all of one user's stored resources, a chunk at a time.

:class:`PortableRecord` extends :class:`regie.store.record.RecordRepository`, so every
statement still goes through its user-scoped helpers (``_select``, ``_select_ids``):
no query here can see another user's rows. It adds what an export needs and the
viewer does not: every current row of a source in arrival order, the previous
versions, the notes, each with its decrypted original and provenance.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select

from regie.owndata import notes as notes_mod
from regie.store.owndata_models import RecordNote
from regie.store.record import RecordRepository
from regie.store.record_models import RecordResource, RecordResourceVersion, RecordSource

CHUNK = 200  # rows decrypted at a time: memory stays flat however large the record


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One stored resource (current or previous version) with where it came from."""

    row_id: str
    source: str
    resource_type: str
    category: str
    version: int
    original: bytes  # the FHIR JSON as stored
    record: dict[str, Any]  # {"items": [...], "provenance": {...}}
    arrived_at: datetime  # first arrival (current rows); when this version was stored (previous)
    updated_at: datetime

    @property
    def provenance(self) -> dict[str, Any]:
        return self.record.get("provenance", {})


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: str
    name: str
    created_at: datetime
    resources: int


class PortableRecord(RecordRepository):
    """The export's view of one user's record (read-only)."""

    def sources(self) -> list[SourceInfo]:
        """Every source with its number of current resources, in order of creation."""
        names = self.source_names()
        counts: dict[str, int] = {}
        for source_id, category, resource_type, count in self.session.execute(
            self.summary_rows()
        ):
            counts[source_id] = counts.get(source_id, 0) + count
        rows = self.session.execute(
            self._select(RecordSource, RecordSource.id, RecordSource.created_at)
            .order_by(RecordSource.created_at, RecordSource.id)
        ).all()
        return [SourceInfo(row_id, names[row_id], created, counts.get(row_id, 0)) for row_id, created in rows
                # A delegate limited to some categories does not learn of sources outside them.
                if self.categories is None or counts.get(row_id)]

    def summary_rows(self):
        return (self._select(RecordResource, RecordResource.source_id, RecordResource.category,
                             RecordResource.resource_type, func.count())
                .group_by(RecordResource.source_id, RecordResource.category, RecordResource.resource_type))

    def current_ids(self, sources: list[SourceInfo]) -> list[tuple[str, str]]:
        """(row id, source name) of the current resources of ``sources``: source by source in
        the order given, each in the order its resources were last written. One query (a record
        of loose files has thousands of one-resource sources); ids only, not the content."""
        rank = {s.id: (i, s.name) for i, s in enumerate(sources)}
        rows = self.session.execute(
            self._select(RecordResource, RecordResource.id, RecordResource.source_id)
            .order_by(RecordResource.updated_at, RecordResource.id)).all()
        planned = [(rank[source_id][0], row_id, rank[source_id][1]) for row_id, source_id in rows
                   if source_id in rank]
        planned.sort(key=lambda p: p[0])  # stable: the written order stays within a source
        return [(row_id, name) for _, row_id, name in planned]

    def current(self, planned: list[tuple[str, str]], *, original: bool = True,
                record: bool = True) -> Iterator[StoredResource]:
        """The rows of :meth:`current_ids`, a chunk at a time, decrypting only the parts asked for."""
        for start in range(0, len(planned), CHUNK):
            chunk = planned[start : start + CHUNK]
            rows = {row.id: row for row in self.session.scalars(
                self._select_ids(RecordResource, [row_id for row_id, _ in chunk]))}
            for row_id, source in chunk:
                row = rows[row_id]
                yield StoredResource(
                    row.id, source, row.resource_type, row.category, row.version,
                    self._decrypt_original(row.id, row.version, row.original_encrypted) if original else b"",
                    self._decrypt_record(row.id, row.version, row.record_encrypted) if record else {},
                    row.arrived_at, row.updated_at,
                )
            self.session.expunge_all()  # the ORM's identity map would keep every row

    def previous_ids(self, sources: list[SourceInfo]) -> list[tuple[str, str]]:
        """(version row id, source name) of the previous versions of ``sources``' resources,
        source by source, oldest first. One query."""
        rank = {s.id: (i, s.name) for i, s in enumerate(sources)}
        rows = self.session.execute(
            self._select(RecordResourceVersion, RecordResourceVersion.id, RecordResource.source_id)
            .join(RecordResource, RecordResource.id == RecordResourceVersion.resource_id)
            .where(RecordResource.user_id == self.user_id,
                   *([RecordResource.category.in_(sorted(self.categories))] if self.categories is not None else []))
            .order_by(RecordResourceVersion.arrived_at, RecordResourceVersion.version, RecordResourceVersion.id)
        ).all()
        planned = [(rank[source_id][0], row_id, rank[source_id][1]) for row_id, source_id in rows
                   if source_id in rank]
        planned.sort(key=lambda p: p[0])
        return [(row_id, name) for _, row_id, name in planned]

    def previous(self, planned: list[tuple[str, str]], *, original: bool = True,
                 record: bool = True) -> Iterator[StoredResource]:
        """Previous versions (see :meth:`previous_ids`); ``arrived_at`` is when that version was stored."""
        for start in range(0, len(planned), CHUNK):
            chunk = planned[start : start + CHUNK]
            rows = {row.id: row for row in self.session.scalars(
                self._select_ids(RecordResourceVersion, [key for key, _ in chunk]))}
            types = {row_id: resource_type for row_id, resource_type in self.session.execute(
                self._select_ids(RecordResource, sorted({r.resource_id for r in rows.values()}),
                                 RecordResource.id, RecordResource.resource_type))}
            for key, source in chunk:
                old = rows[key]
                yield StoredResource(
                    old.resource_id, source, types.get(old.resource_id, ""), "", old.version,
                    self._decrypt_original(old.resource_id, old.version, old.original_encrypted) if original else b"",
                    self._decrypt_record(old.resource_id, old.version, old.record_encrypted) if record else {},
                    old.arrived_at, old.superseded_at,
                )
            self.session.expunge_all()

    def notes(self) -> Iterator[tuple[notes_mod.Note, StoredResource]]:
        """Every note with the resource it is about."""
        item_ids = self.session.scalars(
            select(RecordNote.resource_id).where(RecordNote.user_id == self.user_id).distinct()
        ).all()
        names = self.source_names()
        for item_id in sorted(item_ids):
            row = self.get(item_id)
            if row is None:
                continue
            target = StoredResource(
                row.id, names.get(row.source_id, ""), row.resource_type, row.category, row.version,
                self._decrypt_original(row.id, row.version, row.original_encrypted),
                self._decrypt_record(row.id, row.version, row.record_encrypted),
                row.arrived_at, row.updated_at,
            )
            for note in notes_mod.notes_for(self, item_id):
                yield note, target

    def latest_original(self, resource_type: str) -> dict[str, Any] | None:
        """The most recently written resource of a type (e.g. the Patient), decrypted."""
        row = self.session.scalar(
            self._select(RecordResource).where(RecordResource.resource_type == resource_type)
            .order_by(RecordResource.updated_at.desc(), RecordResource.id.desc()).limit(1))
        if row is None:
            return None
        return orjson.loads(self._decrypt_original(row.id, row.version, row.original_encrypted))

    def items(self, categories: set[str] | None = None) -> Iterator[tuple[StoredResource, dict[str, Any]]]:
        """Current record items (one per group, enriched as the viewer shows them), newest first."""
        statement = self._select(RecordResource, RecordResource.id).where(RecordResource.group_id == RecordResource.id)
        if categories:
            statement = statement.where(RecordResource.category.in_(sorted(categories)))
        ids = self.session.scalars(
            statement.order_by(RecordResource.sort_date.desc(), RecordResource.id.desc())).all()
        names = self.source_names()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = {row.id: row for row in self.session.scalars(self._select_ids(RecordResource, chunk))}
            for row_id in chunk:
                row = rows[row_id]
                record = self._decrypt_record(row.id, row.version, row.record_encrypted)
                stored = StoredResource(row.id, names.get(row.source_id, ""), row.resource_type, row.category,
                                        row.version, b"", record, row.arrived_at, row.updated_at)
                yield stored, self._enrich(row, record["items"][0])


def resource_key(resource: dict[str, Any], provenance: dict[str, Any]) -> str:
    """The key the store's identity is made of: the id, else the fullUrl, else the place in the file."""
    return resource.get("id") or provenance.get("full_url") or f"@{provenance.get('location', '$')}"

