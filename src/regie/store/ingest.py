"""Importing FHIR files into a user's record: one database transaction per file.

Used by ``regie import``, the web upload and the benchmark. A file is read and
validated completely (regie.fhir) before anything is written; then all its
resources are stored in one transaction, so a failing file leaves nothing behind.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from regie.fhir import FhirReadError, FhirVersion, read_bytes
from regie.fhir.reader import DEFAULT_MAX_BYTES
from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.models import User
from regie.store.record import RecordRepository, UserKeys

FHIR_SUFFIXES = (".json", ".xml")


@dataclass
class FileOutcome:
    """What happened to one file. ``error`` is a full sentence naming file, resource,
    location and reason; the other ``error_*`` fields are the parts."""

    name: str
    resources: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    error_resource: str | None = None
    error_location: str | None = None
    error_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class RecordService:
    """Opens a user's record (keys unwrapped once) and imports files into it."""

    def __init__(self, db: Database, keyring: KeyRing) -> None:
        self.db = db
        self.keyring = keyring
        # (user id) -> committed source ids by name hash: saves a query per imported file.
        self._source_ids: dict[str, dict[str, str]] = {}

    def keys(self, user: User) -> UserKeys:
        return UserKeys(
            user.id,
            self.keyring.user_cipher(user.id, user.wrapped_data_key),
            self.keyring.user_index_key(user.id, user.wrapped_data_key),
        )

    @contextmanager
    def open(self, keys: UserKeys) -> Iterator[RecordRepository]:
        """A repository for one unit of work (committed at the end, rolled back on error)."""
        known = self._source_ids.setdefault(keys.user_id, {})
        with self.db.session() as session:
            repo = RecordRepository(session, keys, known)
            yield repo
        known.update(repo.created_sources)  # only after the commit succeeded

    def import_bytes(
        self, keys: UserKeys, data: bytes, *, name: str, source: str | None = None,
        fhir_version: FhirVersion | None = None, channel: str, actor_id: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> FileOutcome:
        """Read and store one file; never raises for bad input (see ``FileOutcome.error``)."""
        outcome = FileOutcome(name)
        try:
            doc = read_bytes(data, name=name, fhir_version=fhir_version, max_bytes=max_bytes)
        except FhirReadError as exc:
            outcome.error = str(exc)
            outcome.error_resource = (
                f"{exc.resource_type}/{exc.resource_id or '?'}" if exc.resource_type else None
            )
            outcome.error_location = exc.location
            outcome.error_reason = exc.reason
            return outcome
        try:
            with self.open(keys) as repo:
                result, written = repo.store_document(doc, source=source or name, file_name=name)
                # One entry per imported file (not per resource): the audit trail says who
                # wrote how much, when and how; the items carry their own provenance.
                repo.audit(actor_id or keys.user_id, "import", [f"{len(written)} items"], channel)
        except Exception as exc:  # nothing was committed: the transaction rolled back
            outcome.error = f"{name}: could not be stored ({type(exc).__name__}); nothing from this file was kept."
            outcome.error_reason = "could not be stored"
            return outcome
        outcome.resources = result.resources
        outcome.new, outcome.updated, outcome.unchanged = result.new, result.updated, result.unchanged
        outcome.by_category = result.by_category
        outcome.by_type = result.by_type
        return outcome

    def import_path(self, keys: UserKeys, path: Path, **options) -> FileOutcome:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return FileOutcome(path.name, error=f"{path.name}: cannot be read ({exc.strerror}).",
                               error_reason="cannot be read")
        return self.import_bytes(keys, data, name=path.name, **options)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and every .json/.xml file under given folders (sorted, recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FHIR_SUFFIXES))
        else:
            files.append(path)
    return files
