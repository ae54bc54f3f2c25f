"""Importing a Regie export archive into an account (switching PGO).

Safe reading first (:class:`SafeArchive`): the zip must be one Regie made, within the
limits of :mod:`.layout` (members, sizes, compression ratio), with only the names the
format knows (no paths outside the archive, links or encrypted members), and every
member must match the manifest's SHA-256. Then one database transaction for the
whole archive: a broken or refused archive imports nothing.

Resources are read and validated by :mod:`regie.fhir` like any import, grouped as they
arrived (same source, file, FHIR version and time) and stored with
:meth:`RecordRepository.store_document` under their original source name, file name and
arrival time, so provenance survives the move. Importing the same archive again finds
every resource by its identity and writes nothing; earlier versions are replayed only
for resources the account does not hold yet.
"""
from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from regie.errors import RegieError
from regie.fhir import FhirReadError, FhirVersion, read_bytes
from regie.fhir.reader import no_cyclic_gc
from regie.owndata import notes as notes_mod
from regie.portability import layout
from regie.portability.rows import resource_key
from regie.store.ingest import RecordService
from regie.store.models import new_id
from regie.store.owndata_models import RecordNote
from regie.store.record import RecordRepository, UserKeys

_GROUP_BYTES = 32 * 1024 * 1024  # one stored document at most (the reader allows 64 MiB)


class ArchiveError(RegieError):
    """The archive is refused; nothing was imported. The message says why; ``code`` says
    what kind of problem it is (for a translated sentence): not-zip, unsafe, too-large,
    zip-bomb, not-regie, newer-format, damaged or invalid."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class SourceOutcome:
    name: str
    resources: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    previous_versions: int = 0


@dataclass
class ImportReport:
    created_at: str | None = None  # when the archive was made
    generator: str | None = None
    sources: dict[str, SourceOutcome] = field(default_factory=dict)
    notes_added: int = 0
    notes_present: int = 0
    not_imported: list[str] = field(default_factory=list)  # account sections kept for reading only

    def source(self, name: str) -> SourceOutcome:
        return self.sources.setdefault(name, SourceOutcome(name))

    @property
    def resources(self) -> int:
        return sum(s.resources for s in self.sources.values())

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources.values())

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources.values())

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.sources.values())


def is_archive(path: Path) -> bool:
    """True when the file starts like a zip archive (what `regie import` routes here)."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


class SafeArchive:
    """A Regie export archive, checked before anything of it is used."""

    def __init__(self, file: IO[bytes] | Path) -> None:
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ArchiveError("This file is not a zip archive (or it is damaged).", "not-zip") from exc
        infos = self.zip.infolist()
        if len(infos) > layout.MAX_MEMBERS:
            raise ArchiveError(f"The archive holds {len(infos)} files; a Regie export has at most "
                               f"{layout.MAX_MEMBERS}.", "too-large")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            _check_name(name)
            if name in self.infos:
                raise ArchiveError(f"The archive holds {name!r} twice.", "unsafe")
            if info.flag_bits & 0x1:
                raise ArchiveError(f"{name!r} is encrypted; a Regie export never is.", "not-regie")
            mode = info.external_attr >> 16
            if info.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise ArchiveError(f"{name!r} is not a plain file (a folder or a link).", "unsafe")
            if not layout.allowed(name):
                raise ArchiveError(f"{name!r} does not belong in a Regie export.", "not-regie")
            if info.file_size > layout.MAX_MEMBER_BYTES:
                raise ArchiveError(f"{name!r} is {info.file_size} bytes unpacked; the limit is "
                                   f"{layout.MAX_MEMBER_BYTES}.", "too-large")
            if info.file_size > 1024 * 1024 and info.file_size > layout.MAX_RATIO * max(info.compress_size, 1):
                raise ArchiveError(f"{name!r} unpacks to more than {layout.MAX_RATIO} times its packed "
                                   "size: refused as a possible zip bomb.", "zip-bomb")
            total += info.file_size
            self.infos[name] = info
        if total > layout.MAX_TOTAL_BYTES:
            raise ArchiveError(f"The archive unpacks to {total} bytes; the limit is {layout.MAX_TOTAL_BYTES}.",
                               "too-large")
        if layout.MANIFEST not in self.infos:
            raise ArchiveError("The archive has no manifest.json: it is not a Regie export.", "not-regie")
        try:
            self.manifest = orjson.loads(self._read_all(layout.MANIFEST, check=False))
        except orjson.JSONDecodeError as exc:
            raise ArchiveError("manifest.json is not valid JSON.", "not-regie") from exc
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != layout.FORMAT:
            raise ArchiveError("manifest.json does not describe a Regie export.", "not-regie")
        version = self.manifest.get("format_version")
        if not isinstance(version, int) or version > layout.FORMAT_VERSION:
            raise ArchiveError(f"This export is of format version {version}; this Regie reads up to "
                               f"version {layout.FORMAT_VERSION}. Update Regie first.", "newer-format")
        members = self.manifest.get("members")
        if not isinstance(members, dict):
            raise ArchiveError("manifest.json lists no files.")
        self.members: dict[str, dict[str, Any]] = members
        listed = set(members) | {layout.MANIFEST}
        if listed != set(self.infos):
            missing = sorted(listed - set(self.infos))
            extra = sorted(set(self.infos) - listed)
            raise ArchiveError(f"The archive does not match its manifest (missing: {missing or '-'}, "
                               f"not listed: {extra or '-'}).", "damaged")
        for part in layout.PARTS:
            for data, meta in ((layout.RESOURCES, layout.PROVENANCE), (layout.HISTORY, layout.HISTORY_PROVENANCE)):
                a, b = members.get(f"{part}/{data}", {}), members.get(f"{part}/{meta}", {})
                if a.get("lines") != b.get("lines"):
                    raise ArchiveError(f"{part}/{data} and {part}/{meta} differ in length.")

    def _read_all(self, name: str, check: bool = True, limit: int = 16 * 1024 * 1024) -> bytes:
        return b"".join(self.lines(name, check=check, limit=limit, split=False))

    def json(self, name: str) -> Any:
        try:
            return orjson.loads(self._read_all(name))
        except orjson.JSONDecodeError as exc:
            raise ArchiveError(f"{name} is not valid JSON.") from exc

    def lines(self, name: str, *, check: bool = True, limit: int = layout.MAX_LINE_BYTES,
              split: bool = True) -> Iterator[bytes]:
        """The member's lines (or its whole content), within the limits; at the end its
        size and SHA-256 are compared with the manifest."""
        if name not in self.infos:
            return
        expected = self.members.get(name, {}) if check else {}
        digest = hashlib.sha256()
        size = 0
        try:
            with self.zip.open(self.infos[name]) as handle:
                while True:
                    line = handle.readline(limit + 1) if split else handle.read(limit + 1)
                    if not line:
                        break
                    if len(line) > limit:
                        raise ArchiveError(f"{name}: a line (or the file) is larger than {limit} bytes.")
                    size += len(line)
                    if size > layout.MAX_MEMBER_BYTES:
                        raise ArchiveError(f"{name} unpacks to more than its limit.", "zip-bomb")
                    digest.update(line)
                    yield line.rstrip(b"\n") if split else line
                    if not split:
                        break
        except (zipfile.BadZipFile, EOFError, OSError) as exc:  # CRC error, truncated data
            raise ArchiveError(f"{name} is damaged ({exc}).", "damaged") from exc
        if check and (expected.get("bytes") != size or expected.get("sha256") != digest.hexdigest()):
            raise ArchiveError(f"{name} does not match the checksum in manifest.json: the archive is damaged "
                               "or was changed.", "damaged")

    def close(self) -> None:
        self.zip.close()


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (not name or name.startswith("/") or "\\" in name or ":" in name or "\x00" in name
            or any(p in ("", ".", "..") for p in parts)):
        raise ArchiveError(f"{name!r}: a file name that points outside the archive is refused.", "unsafe")


@dataclass
class _Pending:
    key: tuple[Any, ...]  # (source, fhir version, file, format, bundle type, time)
    entries: list[tuple[bytes, dict[str, Any]]] = field(default_factory=list)
    size: int = 0
    previous: bool = False


class _Importer:
    def __init__(self, repo: RecordRepository, archive: SafeArchive, report: ImportReport,
                 actor_id: str, channel: str) -> None:
        self.repo = repo
        self.archive = archive
        self.report = report
        self.actor_id = actor_id
        self.channel = channel
        self.pending: _Pending | None = None
        self.replayed: set[tuple[str, str, str]] = set()  # resources whose history this import wrote
        self.kept: set[tuple[str, str, str]] = set()  # resources the account had already

    def part(self, part: str) -> None:
        for raw, prov in self._pairs(f"{part}/{layout.HISTORY}", f"{part}/{layout.HISTORY_PROVENANCE}"):
            ident = self._ident(raw, prov)
            if ident in self.kept:
                continue
            if ident not in self.replayed:
                if self.repo.row_for(ident[0], ident[1], ident[2]) is not None:
                    self.kept.add(ident)
                    continue
                self.replayed.add(ident)
            self._add(raw, prov, _time(prov, "stored_at"), previous=True)
        self._flush()
        for raw, prov in self._pairs(f"{part}/{layout.RESOURCES}", f"{part}/{layout.PROVENANCE}"):
            ident = self._ident(raw, prov)
            # A resource whose earlier versions were just replayed was last written at updated_at;
            # a new one arrived at arrived_at (store_document sets both to the time given).
            when = _time(prov, "updated_at" if ident in self.replayed else "arrived_at")
            self._add(raw, prov, when)
        self._flush()

    def _pairs(self, data: str, meta: str) -> Iterator[tuple[bytes, dict[str, Any]]]:
        provenance = self.archive.lines(meta)
        for number, raw in enumerate(self.archive.lines(data), 1):
            line = next(provenance, None)
            if line is None:
                raise ArchiveError(f"{meta} has fewer lines than {data}.")
            try:
                prov = orjson.loads(line)
                resource = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ArchiveError(f"{data} line {number}: not valid JSON.") from exc
            if (not isinstance(prov, dict) or not isinstance(resource, dict)
                    or prov.get("resourceType") != resource.get("resourceType")
                    or (prov.get("id") or None) != (resource.get("id") or None)):
                raise ArchiveError(f"{data} line {number} and {meta} line {number} are about different "
                                   "resources.")
            if not isinstance(prov.get("source"), str) or not prov["source"]:
                raise ArchiveError(f"{meta} line {number} names no source.")
            prov["_resource"] = resource
            yield raw, prov
        if next(provenance, None) is not None:
            raise ArchiveError(f"{meta} has more lines than {data}.")

    @staticmethod
    def _ident(raw: bytes, prov: dict[str, Any]) -> tuple[str, str, str]:
        resource = prov["_resource"]
        return prov["source"], resource["resourceType"], resource_key(resource, prov)

    def _add(self, raw: bytes, prov: dict[str, Any], when: datetime, previous: bool = False) -> None:
        version = prov.get("fhir_version")
        if version not in (v.value for v in FhirVersion):
            raise ArchiveError(f"{prov['source']}: unknown FHIR version {version!r}.")
        key = (prov["source"], version, prov.get("file"), prov.get("format"), prov.get("bundle_type"), when)
        if self.pending is not None and (self.pending.key != key or self.pending.size + len(raw) > _GROUP_BYTES):
            self._flush()
        if self.pending is None:
            self.pending = _Pending(key, previous=previous)
        self.pending.entries.append((raw, prov))
        self.pending.size += len(raw)

    def _flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None or not pending.entries:
            return
        source, version, file_name, fmt, bundle_type, when = pending.key
        parts = []
        for raw, prov in pending.entries:
            full_url = prov.get("full_url")
            prefix = b'{"fullUrl":' + orjson.dumps(full_url) + b"," if full_url else b"{"
            parts.append(prefix + b'"resource":' + raw + b"}")
        data = b'{"resourceType":"Bundle","type":"collection","entry":[' + b",".join(parts) + b"]}"
        name = file_name or source
        try:
            doc = read_bytes(data, name=name, fhir_version=FhirVersion(version))
        except FhirReadError as exc:
            raise ArchiveError(f"{source}: a resource is not valid FHIR ({exc}).") from exc
        if len(doc.resources) != len(pending.entries):
            raise ArchiveError(f"{source}: a stored resource is itself a Bundle; it cannot be imported.")
        resources = tuple(replace(res, location=prov.get("location") or res.location)
                          for res, (_, prov) in zip(doc.resources, pending.entries, strict=True))
        doc = replace(doc, resources=resources, format=fmt if fmt in ("json", "xml") else "json",
                      bundle_type=bundle_type, name=name)
        result, written = self.repo.store_document(doc, source=source, file_name=file_name, now=when)
        if written:
            self.repo.audit(self.actor_id, "import", [f"{len(written)} items"], self.channel)
        outcome = self.report.source(source)
        if pending.previous:
            outcome.previous_versions += len(pending.entries)
            return
        outcome.resources += result.resources
        outcome.new += result.new
        outcome.updated += result.updated
        outcome.unchanged += result.unchanged

    def notes(self) -> None:
        sources = set(self.repo.source_names().values())
        for number, raw in enumerate(self.archive.lines(layout.NOTES), 1):
            try:
                basic = orjson.loads(raw)
                ext = {e["url"]: e for e in basic.get("extension", [])}
                text = ext[layout.NOTE_TEXT_EXTENSION]["valueAnnotation"]["text"]
                created = datetime.fromisoformat(ext[layout.NOTE_TEXT_EXTENSION]["valueAnnotation"]["time"])
                updated = datetime.fromisoformat(basic.get("meta", {}).get("lastUpdated") or created.isoformat())
                source = ext[layout.NOTE_SOURCE_EXTENSION]["valueString"]
                resource_type, _, key = ext[layout.NOTE_KEY_EXTENSION]["valueString"].partition("|")
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ArchiveError(f"{layout.NOTES} line {number}: not a note this Regie can read.") from exc
            if not isinstance(text, str) or len(text) > notes_mod.MAX_LENGTH or created.tzinfo is None:
                raise ArchiveError(f"{layout.NOTES} line {number}: the note is too long or has no time zone.")
            row_id = self.repo.row_for(source, resource_type, key) if source in sources else None
            if row_id is None:
                raise ArchiveError(f"{layout.NOTES} line {number}: the item the note is about is not in the archive.")
            if any(n.text == text and n.created_at == created for n in notes_mod.notes_for(self.repo, row_id)):
                self.report.notes_present += 1
                continue
            note_id = new_id()
            self.repo.note_write(RecordNote)
            self.repo.session.add(RecordNote(
                id=note_id, user_id=self.repo.user_id, resource_id=row_id, created_at=created, updated_at=updated,
                text_encrypted=self.repo.keys.cipher.encrypt(
                    text.encode(), notes_mod._aad(self.repo.user_id, note_id, row_id))))
            self.report.notes_added += 1
        if self.report.notes_added:
            self.repo.session.flush()
            self.repo.audit(self.actor_id, "add_note", [f"{self.report.notes_added} notes"], self.channel)


def _time(prov: dict[str, Any], name: str) -> datetime:
    try:
        value = datetime.fromisoformat(prov[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"{prov.get('source')}: provenance without a valid {name}.") from exc
    if value.tzinfo is None:
        raise ArchiveError(f"{prov.get('source')}: {name} has no time zone.")
    return value


def import_archive(service: RecordService, keys: UserKeys, file: IO[bytes] | Path, *, channel: str,
                   actor_id: str | None = None) -> ImportReport:
    """Check and import an export archive into the account of ``keys``, all or nothing.
    Raises :class:`ArchiveError` (nothing imported) when the archive is refused."""
    archive = SafeArchive(file)
    report = ImportReport(created_at=str(archive.manifest.get("created_at") or "") or None,
                          generator=archive.manifest.get("generator"))
    report.not_imported = sorted(name for name in archive.infos if name.startswith(f"{layout.EXTRAS}/"))
    try:
        with no_cyclic_gc(), service.open(keys) as repo:
            importer = _Importer(repo, archive, report, actor_id or keys.user_id, channel)
            for part in layout.PARTS:
                importer.part(part)
            importer.notes()
            for name in (layout.PORTABILITY, layout.SOURCES, layout.INDEX):
                archive._read_all(name)  # checked against the manifest like the rest
            repo.audit(actor_id or keys.user_id, "import_archive", ["archive"], channel)
    finally:
        archive.close()
    return report
