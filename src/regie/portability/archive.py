"""The full export: one zip archive with everything of one user's record (docs/portability.md).

Produced as a stream of byte chunks: the rows are read and decrypted a chunk at a time
inside one read-only snapshot of the database, compressed and handed out, so the
archive is never held in memory (or on the server's disk) as a whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from regie import __version__
from regie.portability import layout
from regie.portability.extras import ExportSection
from regie.portability.index import render_index
from regie.portability.report import as_json as report_json
from regie.portability.report import ProviderLine
from regie.portability.rows import PortableRecord, SourceInfo, StoredResource, resource_key
from regie.portability.zipstream import ZipStream
from regie.store.db import Database
from regie.store.record import UserKeys

_JSON = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def snapshot(session: Session) -> None:
    """Read everything that follows from one consistent state of the database, so the
    lines of resources.ndjson and provenance.ndjson (two passes) match."""
    if session.get_bind().dialect.name == "postgresql":
        # Given when the transaction begins (SQLAlchemy resets them when the connection goes
        # back to the pool), not as SET TRANSACTION, which only works as its first statement.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")  # Python's sqlite3 would run each SELECT on its own


def provenance_line(r: StoredResource, *, previous: bool = False) -> dict[str, Any]:
    p = r.provenance
    items = r.record.get("items") or [{}]
    line: dict[str, Any] = {
        "resourceType": r.resource_type, "id": items[0].get("resource_id"), "source": r.source,
        "file": p.get("file"), "fhir_version": p.get("fhir_version"), "format": p.get("format"),
        "bundle_type": p.get("bundle_type"), "location": p.get("location"), "full_url": p.get("full_url"),
        "profiles": p.get("profiles") or [], "version": r.version,
    }
    if previous:
        line.update(stored_at=r.arrived_at, superseded_at=r.updated_at)
    else:
        line.update(category=r.category, arrived_at=r.arrived_at, updated_at=r.updated_at)
    return line


def note_resource(note: Any, target: StoredResource) -> dict[str, Any]:
    """A personal note as a FHIR R4 Basic resource pointing at the resource it is about."""
    resource = orjson.loads(target.original)
    key = resource_key(resource, target.provenance)
    basic: dict[str, Any] = {
        "resourceType": "Basic", "id": note.id,
        "meta": {"lastUpdated": note.updated_at.isoformat()},
        "extension": [
            {"url": layout.NOTE_TEXT_EXTENSION,
             "valueAnnotation": {"text": note.text, "time": note.created_at.isoformat()}},
            {"url": layout.NOTE_SOURCE_EXTENSION, "valueString": target.source},
            {"url": layout.NOTE_KEY_EXTENSION, "valueString": f"{target.resource_type}|{key}"},
        ],
        "code": {"coding": [{"system": layout.NOTE_CODE_SYSTEM, "code": layout.NOTE_CODE,
                             "display": "Personal note"}]},
        "created": note.created_at.date().isoformat(),
    }
    if resource.get("id"):
        basic["subject"] = {"reference": f"{target.resource_type}/{resource['id']}"}
    return basic


def archive_chunks(db: Database, keys: UserKeys, *, now: datetime, providers: list[ProviderLine],
                   extras: list[tuple[ExportSection, Any]]) -> Iterator[bytes]:
    """The archive, chunk by chunk. The record is read inside one snapshot; ``providers`` (the
    portability report) and ``extras`` (the account sections) are small and read before."""
    stream = ZipStream(now)
    counts: dict[str, Any] = {}
    with db.session() as session:
        snapshot(session)
        repo = PortableRecord(session, keys)
        summary = repo.summary()
        sources = repo.sources()
        parts = {
            layout.RECORDS: [s for s in sources if s.name != layout.SELF_SOURCE],
            layout.OWN_DATA: [s for s in sources if s.name == layout.SELF_SOURCE],
        }
        for part, part_sources in parts.items():
            yield from _part(stream, repo, part, part_sources, counts)
        with stream.member(layout.NOTES) as out:
            for note, target in repo.notes():
                out.line(orjson.dumps(note_resource(note, target)))
                if stream.ready():
                    yield stream.take()
        counts["notes"] = out.lines
    sections = []
    for section, data in extras:
        with stream.member(f"{layout.EXTRAS}/{section.name}.json") as out:
            out.write(orjson.dumps({"title_nl": section.title_nl, "title_en": section.title_en, "data": data},
                                   option=_JSON))
        sections.append(section)
    with stream.member(layout.PORTABILITY) as out:
        out.write(orjson.dumps(report_json(providers), option=_JSON))
    source_list = [{"name": s.name, "part": part, "resources": s.resources, "created_at": s.created_at}
                   for part, part_sources in parts.items() for s in part_sources]
    with stream.member(layout.SOURCES) as out:
        out.write(orjson.dumps(source_list, option=_JSON))
    with stream.member(layout.INDEX) as out:
        out.write(render_index(now=now, summary=summary, sources=source_list, counts=counts,
                               providers=providers, sections=sections, members=stream.members).encode())
    manifest = {
        "format": layout.FORMAT, "format_version": layout.FORMAT_VERSION, "created_at": now,
        "generator": f"Regie {__version__}", "summary": summary, "counts": counts,
        "members": stream.members,
    }
    with stream.member(layout.MANIFEST) as out:
        out.write(orjson.dumps(manifest, option=_JSON))
    yield stream.close()


def _part(stream: ZipStream, repo: PortableRecord, part: str, sources: list[SourceInfo],
          counts: dict[str, Any]) -> Iterator[bytes]:
    planned = repo.current_ids(sources)
    with stream.member(f"{part}/{layout.RESOURCES}") as out:
        for r in repo.current(planned, record=False):
            out.line(r.original)
            if stream.ready():
                yield stream.take()
    with stream.member(f"{part}/{layout.PROVENANCE}") as out:
        for r in repo.current(planned, original=False):
            out.line(orjson.dumps(provenance_line(r)))
            if stream.ready():
                yield stream.take()
    counts[part] = out.lines
    old = repo.previous_ids(sources)
    with stream.member(f"{part}/{layout.HISTORY}") as out:
        for r in repo.previous(old, record=False):
            out.line(r.original)
            if stream.ready():
                yield stream.take()
    with stream.member(f"{part}/{layout.HISTORY_PROVENANCE}") as out:
        for r in repo.previous(old, original=False):
            out.line(orjson.dumps(provenance_line(r, previous=True)))
            if stream.ready():
                yield stream.take()
    counts[f"{part}_history"] = out.lines


def fhir_ndjson_chunks(db: Database, keys: UserKeys) -> Iterator[bytes]:
    """``--format fhir``: every current original resource, one per line (FHIR NDJSON)."""
    buffer = bytearray()
    with db.session() as session:
        snapshot(session)
        repo = PortableRecord(session, keys)
        for r in repo.current(repo.current_ids(repo.sources()), record=False):
            buffer += r.original + b"\n"
            if len(buffer) >= ZipStream.CHUNK:
                yield bytes(buffer)
                buffer.clear()
    yield bytes(buffer)

