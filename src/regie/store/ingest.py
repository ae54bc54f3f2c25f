"""Importing FHIR files into a user's record, atomically per file.

Used by ``regie import``, the web upload, the collector and the benchmark. A file is
read and validated completely (regie.fhir) before anything is written; then all its
resources are stored together, so a failing file leaves nothing behind. One file is one
transaction (:meth:`RecordService.import_bytes`); several files share a transaction
with a SAVEPOINT each (:meth:`RecordService.import_many`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from regie.fhir import FhirReadError, FhirVersion, parse_fhir_version, read_bytes
from regie.fhir.reader import DEFAULT_MAX_BYTES, no_cyclic_gc
from regie.store.crypto import KeyRing
from regie.store.db import ConnectionUnit, Database
from regie.store.models import User
from regie.store.record import RecordRepository, StoreResult, UserKeys
from regie.store.reindex_gate import gate_of

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
    def open(self, keys: UserKeys, *, reading: bool = False) -> Iterator[RecordRepository]:
        """A repository for one unit of work (committed at the end, rolled back on error).
        ``reading``: for reads and their audit entry only, each statement committed on its
        own (:meth:`Database.reading`): never for imports or other writes."""
        known = self._source_ids.setdefault(keys.user_id, {})
        gate_of(self.db).ensure_rebuilt(self.keyring, keys.user_id)  # a user still waiting: rebuilt first
        with (self.db.reading() if reading else self.db.session()) as session:
            repo = RecordRepository(session, keys, known)
            yield repo
        known.update(repo.created_sources)  # only after the commit succeeded

    def open_on(self, keys: UserKeys, connection: Connection) -> RecordRepository:
        """A repository on an autocommit connection the caller holds, for the reads that run
        on driver SQL and their audit entry (:class:`regie.store.db.ConnectionUnit`)."""
        gate_of(self.db).ensure_rebuilt(self.keyring, keys.user_id)
        return RecordRepository(ConnectionUnit(connection), keys, self._source_ids.setdefault(keys.user_id, {}))

    def import_bytes(
        self, keys: UserKeys, data: bytes, *, name: str, source: str | None = None,
        fhir_version: FhirVersion | str | None = None, channel: str, actor_id: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> FileOutcome:
        """Read and store one file; never raises for bad input (see ``FileOutcome.error``).
        A ``fhir_version`` that is not a version (see ``parse_fhir_version``) is a caller's
        mistake, not the file's: ``UnknownFhirVersion`` (a ValueError), before anything is read."""
        return self.import_many(keys, [(name, data)], source=source, fhir_version=fhir_version,
                                channel=channel, actor_id=actor_id, max_bytes=max_bytes)[0]

    def import_many(
        self, keys: UserKeys, files: Iterable[tuple[str, bytes]], *, source: str | None = None,
        fhir_version: FhirVersion | str | None = None, channel: str, actor_id: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES, batch_files: int = 64, batch_bytes: int = 8 * 1024 * 1024,
        progress: Callable[[FileOutcome], None] | None = None,
    ) -> list[FileOutcome]:
        """Import several files, atomic per file: each file is read and validated completely,
        then stored inside a SAVEPOINT of a transaction shared by up to ``batch_files`` files
        (``batch_bytes`` of input), so a failing file leaves nothing behind while the others
        of the batch are kept. Small files no longer pay a commit each. ``fhir_version`` as
        for :meth:`import_bytes` (checked once, before the first file)."""
        fhir_version = parse_fhir_version(fhir_version)
        outcomes: list[FileOutcome] = []
        batch: list[tuple[FileOutcome, Any]] = []
        size = 0
        for name, data in files:
            outcome = FileOutcome(name)
            outcomes.append(outcome)
            with no_cyclic_gc():
                doc = self._read(outcome, data, fhir_version, max_bytes)
            if doc is None:
                if progress:
                    progress(outcome)
                continue
            batch.append((outcome, doc))
            size += len(data)
            if len(batch) >= batch_files or size >= batch_bytes:
                self._store_batch(keys, batch, source, channel, actor_id, progress)
                batch, size = [], 0
        if batch:
            self._store_batch(keys, batch, source, channel, actor_id, progress)
        return outcomes

    @staticmethod
    def _read(outcome: FileOutcome, data: bytes, fhir_version: FhirVersion | None, max_bytes: int) -> Any:
        try:
            return read_bytes(data, name=outcome.name, fhir_version=fhir_version, max_bytes=max_bytes)
        except FhirReadError as exc:
            outcome.error = str(exc)
            outcome.error_resource = (
                f"{exc.resource_type}/{exc.resource_id or '?'}" if exc.resource_type else None
            )
            outcome.error_location = exc.location
            outcome.error_reason = exc.reason
            return None

    def _store_batch(self, keys: UserKeys, batch: list[tuple[FileOutcome, Any]], source: str | None,
                     channel: str, actor_id: str | None,
                     progress: Callable[[FileOutcome], None] | None) -> None:
        results: list[tuple[FileOutcome, StoreResult]] = []
        try:
            with no_cyclic_gc(), self.open(keys) as repo:
                if len(batch) > 1:
                    _begin(repo.session)
                for outcome, doc in batch:
                    created = dict(repo.created_sources)
                    try:
                        with _savepoint(repo.session) if len(batch) > 1 else nullcontext():
                            result, written = repo.store_document(doc, source=source or outcome.name,
                                                                  file_name=outcome.name)
                            # One entry per imported file (not per resource): the audit trail says
                            # who wrote how much, when and how; the items carry their own provenance.
                            repo.audit(actor_id or keys.user_id, "import", [f"{len(written)} items"], channel)
                    except Exception as exc:
                        if len(batch) == 1:
                            raise
                        # The savepoint rolled back: nothing of this file, nor a source it created.
                        repo.created_sources = created
                        repo._source_names = None
                        _store_failed(outcome, exc)
                        continue
                    results.append((outcome, result))
        except Exception as exc:  # nothing was committed: the transaction rolled back
            for outcome, _ in batch:
                if outcome.error is None:
                    _store_failed(outcome, exc)
            results = []
        for outcome, result in results:
            outcome.resources = result.resources
            outcome.new, outcome.updated, outcome.unchanged = result.new, result.updated, result.unchanged
            outcome.by_category = result.by_category
            outcome.by_type = result.by_type
        if progress:
            for outcome, _ in batch:
                progress(outcome)

    def import_paths(self, keys: UserKeys, paths: list[Path], **options) -> list[FileOutcome]:
        """:meth:`import_many` for files on disk (read one at a time)."""
        unreadable: dict[int, FileOutcome] = {}

        def contents() -> Iterator[tuple[str, bytes]]:
            for i, path in enumerate(paths):
                try:
                    yield path.name, path.read_bytes()
                except OSError as exc:
                    unreadable[i] = FileOutcome(path.name, error=f"{path.name}: cannot be read ({exc.strerror}).",
                                                error_reason="cannot be read")
        progress = options.pop("progress", None)
        done = self.import_many(keys, contents(), progress=progress, **options)
        out, it = [], iter(done)
        for i in range(len(paths)):
            if i in unreadable:
                out.append(unreadable[i])
                if progress:
                    progress(unreadable[i])
            else:
                out.append(next(it))
        return out

    def import_path(self, keys: UserKeys, path: Path, **options) -> FileOutcome:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return FileOutcome(path.name, error=f"{path.name}: cannot be read ({exc.strerror}).",
                               error_reason="cannot be read")
        return self.import_bytes(keys, data, name=path.name, **options)


def _store_failed(outcome: FileOutcome, exc: BaseException) -> None:
    if _database_full(exc):  # SQLITE_FULL, or PostgreSQL's disk_full (53100)
        outcome.error = (f"{outcome.name}: could not be stored: the database is full (no disk space left); "
                         "nothing from this file was kept. Free space, then import it again.")
        outcome.error_reason = "database full"
        return
    outcome.error = (f"{outcome.name}: could not be stored ({type(exc).__name__}); "
                     "nothing from this file was kept.")
    outcome.error_reason = "could not be stored"


def _database_full(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL" or getattr(orig, "sqlstate", None) == "53100"


@contextmanager
def _savepoint(session: Any) -> Iterator[None]:
    """One file's SAVEPOINT, on the connection itself: the writes are Core/DBAPI statements
    (no ORM objects to expire), and the ORM's nested transactions cost ~1 ms each."""
    connection = session.connection()
    connection.exec_driver_sql("SAVEPOINT regie_file")
    try:
        yield
    except BaseException:
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT regie_file")
        connection.exec_driver_sql("RELEASE SAVEPOINT regie_file")
        raise
    connection.exec_driver_sql("RELEASE SAVEPOINT regie_file")


def _begin(session: Any) -> None:
    """Start the transaction explicitly before the first SAVEPOINT on SQLite.

    Python's sqlite3 module begins a transaction only before INSERT/UPDATE/DELETE; a
    SAVEPOINT issued first would itself open the transaction, and releasing it would
    commit. An explicit BEGIN keeps every file's savepoint inside one transaction."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and every .json/.xml file under given folders (sorted, recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FHIR_SUFFIXES))
        else:
            files.append(path)
    return files
