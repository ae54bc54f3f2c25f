"""Rebuild a user's keyed record indexes from the encrypted rows, one user at a time.

What an import writes beside the encrypted blobs (docs/storage.md) — the ``ref_hash`` of a
row, the ``target_ref`` of a Flag, the ``record_links`` of related items, the encrypted
search index, the plain ``is_current`` flag — is made under the user's data key (or from
the decrypted item). Rows stored before those existed lack them, and a
migration cannot add them: it has the database, not the users' keys. So a migration lists
the users in ``record_reindex_pending`` and this module does the work per user, with the
user's key, in one transaction: a failure leaves that user as before (still pending), a
second run changes nothing (links are inserted "if absent", hashes set only where
missing).

Who runs it (docs/decisions/0010-rebuild-in-the-background.md): ``regie worker`` works
through the waiting users in the background (the ``record.reindex`` job), a record opened
before its turn is rebuilt first (:mod:`regie.store.reindex_gate`), and ``regie db
reindex`` (or ``regie db upgrade --reindex-now``) does it at once. A user is taken by
locking their mark, so two of these never rebuild the same user at the same time.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, func, select, tuple_, update
from sqlalchemy.orm import Session

from regie.store.crypto import KeyRing
from regie.store.db import Database
from regie.store.models import User
from regie.store.record import LINK_RELATIONS, RecordRepository, UserKeys, _target, is_current
from regie.store.record_models import RecordLink, RecordReindexPending, RecordResource
from regie.store.record_search import Entry, entry_for
from regie.store.types import utcnow

log = logging.getLogger("regie.store")

#: Rows decrypted per query: bounded memory for a large record.
_BATCH = 1000
#: Waiting users read per query: the list of a whole country is never held at once.
_WAITING_BATCH = 500


@dataclass
class ReindexResult:
    user_id: str
    rows: int = 0
    ref_hashes: int = 0
    flag_targets: int = 0
    links: int = 0
    current_flags: int = 0


@dataclass(frozen=True, slots=True)
class _Row:
    id: str
    source_id: str
    file: str | None
    resource_type: str
    ref_key: str  # what the import hashes with the type: the id, else fullUrl or place in the file
    full_url: str | None
    ref_hash: str | None
    target_ref: str | None
    links: tuple[tuple[str, str], ...]  # (relation, reference) of the item's links
    search: Entry  # the row's entry in the search index
    stored_current: bool | None  # the plain is_current column as it is
    current: bool  # what regie.store.record.is_current says of the item


def pending_user_ids(db: Database) -> list[str]:
    """The users waiting for a rebuild, the longest waiting first."""
    return [user_id for _, user_id in _waiting(db, limit=None, after=None)]


def anyone_waiting(db: Database) -> bool:
    with db.reading() as session:
        return bool(session.scalar(select(exists().where(RecordReindexPending.user_id.is_not(None)))))


def is_waiting(db: Database, user_id: str) -> bool:
    with db.reading() as session:
        return session.scalar(select(RecordReindexPending.user_id)
                              .where(RecordReindexPending.user_id == user_id)) is not None


def waiting_count(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(RecordReindexPending)) or 0


def _waiting(db: Database, *, limit: int | None, after: tuple[object, str] | None) -> list[tuple[object, str]]:
    pending = RecordReindexPending
    statement = select(pending.since, pending.user_id).order_by(pending.since, pending.user_id)
    if after is not None:
        statement = statement.where(tuple_(pending.since, pending.user_id) > tuple_(*after))
    if limit is not None:
        statement = statement.limit(limit)
    with db.reading() as session:
        return [(since, user_id) for since, user_id in session.execute(statement)]


def _to_the_back(db: Database, user_id: str) -> None:
    """A user whose rebuild failed waits behind the others: the next runs do them first."""
    try:
        with db.session() as session:
            session.execute(update(RecordReindexPending).where(RecordReindexPending.user_id == user_id)
                            .values(since=utcnow()))
    except Exception:  # it stays where it was; the next run tries it first again
        log.debug("could not move a failed rebuild back", exc_info=True)


@dataclass
class PendingRun:
    """What one pass over the waiting users did."""

    results: list[ReindexResult] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # user ids, still waiting
    finished: bool = True  # False: stopped at its time budget with users still waiting


def reindex_pending(db: Database, keyring: KeyRing, *,
                    progress: Callable[[ReindexResult], None] | None = None) -> list[ReindexResult]:
    """Reindex every pending user, each in its own transaction (resumable: run it again).
    The first failure stops the run and is raised (the command line reports it)."""
    return run_pending(db, keyring, progress=progress).results


def run_pending(db: Database, keyring: KeyRing, *, progress: Callable[[ReindexResult], None] | None = None,
                budget_seconds: float | None = None, keep_going: bool = False) -> PendingRun:
    """Reindex the waiting users in order, each in its own transaction. ``budget_seconds``:
    start no user after that long (a worker's job ends within its grace period).
    ``keep_going``: a user whose rebuild fails is logged (ids only), stays waiting at the
    back of the line and is skipped, instead of stopping the run; the others go on. A user another process is
    rebuilding right now is skipped (it is being done)."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    run = PendingRun()
    after: tuple[object, str] | None = None
    while True:
        batch = _waiting(db, limit=_WAITING_BATCH, after=after)
        for since, user_id in batch:
            if user_id in run.failed:
                continue  # moved to the back of the line: met again in this run
            # At least one account per run, however small the budget: a run always gets on.
            if deadline is not None and (run.results or run.failed) and time.monotonic() >= deadline:
                run.finished = False
                return run
            try:
                result = reindex_user(db, keyring, user_id, only_if_waiting=True, skip_locked=True)
            except Exception as exc:
                if not keep_going:
                    raise
                # The kind of error only: its text could quote a statement's parameters.
                log.error("record rebuild failed", extra={"user": user_id, "error": type(exc).__name__})
                run.failed.append(user_id)
                _to_the_back(db, user_id)
                continue
            if result is not None:
                run.results.append(result)
                if progress:
                    progress(result)
        if len(batch) < _WAITING_BATCH:
            return run
        after = batch[-1]


def reindex_user(db: Database, keyring: KeyRing, user_id: str, *, only_if_waiting: bool = False,
                 skip_locked: bool = False) -> ReindexResult | None:
    """Rebuild one user's indexes and clear the user's pending mark, atomically. None when
    the user no longer exists (deleted meanwhile: the mark went with it), or, with
    ``only_if_waiting``, when the user does not wait (any more). The mark is locked first, so
    a second rebuild of the same user waits for the first and then finds nothing to do
    (``skip_locked``: does not wait, returns None)."""
    with db.session() as session:
        if only_if_waiting and not _take_mark(session, user_id, skip_locked=skip_locked):
            return None
        user = session.get(User, user_id)
        if user is None or not user.wrapped_data_key:
            return None
        keys = UserKeys(user.id, keyring.user_cipher(user.id, user.wrapped_data_key),
                        keyring.user_index_key(user.id, user.wrapped_data_key))
        repo = RecordRepository(session, keys)
        repo.categories = None  # the whole record, whoever runs it
        result = reindex(repo)
        session.execute(delete(RecordReindexPending).where(RecordReindexPending.user_id == user_id))
    return result


def _take_mark(session: Session, user_id: str, *, skip_locked: bool) -> bool:
    """Lock the user's mark for this transaction; False when there is none (any more).
    A write, so the lock is taken here and not at the first write of the rebuild: on
    PostgreSQL the row's lock (a second rebuild waits, then finds the mark gone), on SQLite
    the database's write lock (the same, one writer at a time)."""
    mark = RecordReindexPending.user_id == user_id
    if skip_locked and session.get_bind().dialect.name == "postgresql":
        if session.scalar(select(RecordReindexPending.user_id).where(mark).with_for_update(skip_locked=True)) is None:
            return False  # none, or another transaction is rebuilding this user right now
    taken = session.execute(update(RecordReindexPending).where(mark)
                            .values(since=RecordReindexPending.since)).rowcount
    return bool(taken)


def reindex(repo: RecordRepository) -> ReindexResult:
    """Add the missing keyed indexes of ``repo``'s user, inside the caller's transaction."""
    result = ReindexResult(repo.user_id)
    rows = list(_rows(repo))
    result.rows = len(rows)

    # Reference hashes, where missing (rows stored before migration 0008).
    taken = {(row.source_id, row.ref_hash) for row in rows if row.ref_hash}
    hashes = []
    for row in rows:
        if row.ref_hash is None:
            ref = repo._ref(row.resource_type, row.ref_key)
            if (row.source_id, ref) not in taken:  # the unique key: never two rows of a source
                taken.add((row.source_id, ref))
                hashes.append({"id": row.id, "ref_hash": ref})
    repo._update_rows(RecordResource, hashes)
    result.ref_hashes = len(hashes)

    # The episode a Flag points at, where missing (read time marks the episode with it).
    flags = []
    for row in rows:
        if row.resource_type == "Flag" and row.target_ref is None:
            target = next((_target(ref) for relation, ref in row.links if relation == "detail"), None)
            if target:
                flags.append({"id": row.id, "target_identity": repo._identity(row.source_id, *target),
                              "target_ref": repo._ref(*target)})
    repo._update_rows(RecordResource, flags)
    result.flag_targets = len(flags)

    # The plain "current" flag, where missing (rows stored before migration 0026) or not
    # what the rule says now (docs/decisions/0009).
    current = [{"id": row.id, "is_current": row.current} for row in rows if row.stored_current is not row.current]
    repo._update_rows(RecordResource, current)
    result.current_flags = len(current)

    # Links for related items, by the import's rules (RecordRepository.store_document): a
    # urn:uuid reference means the entry of the same file with that fullUrl.
    by_url: dict[tuple[str, str | None], dict[str, tuple[str, str]]] = {}
    for row in rows:
        if row.full_url:
            by_url.setdefault((row.source_id, row.file), {})[row.full_url] = (row.resource_type, row.ref_key)
    links = []
    for row in rows:
        urls = by_url.get((row.source_id, row.file), {})
        targets = set()
        for relation, reference in row.links:
            if relation not in LINK_RELATIONS or not reference or reference.startswith("#"):
                continue
            target = urls.get(reference) or _target(reference)
            if target:
                targets.add(repo._ref(*target))
        links.extend({"target_ref": t, "row_id": row.id} for t in sorted(targets))
    result.links = _insert_missing_links(repo, links)

    # The encrypted search index (text search, trend pages), rebuilt whole from the rows
    # as they are now (stale entries of older versions go).
    repo.replace_search_index([row.search for row in rows], utcnow())
    return result


def _insert_missing_links(repo: RecordRepository, links: list[dict[str, str]]) -> int:
    """Insert the links not there yet; returns how many were added."""
    existing = {(t, r) for t, r in repo.session.execute(repo._select(RecordLink, RecordLink.target_ref, RecordLink.row_id))}
    new = [link for link in links if (link["target_ref"], link["row_id"]) not in existing]
    for start in range(0, len(new), _BATCH):
        # "if absent" too: an import running at the same time may add the same link.
        repo._insert(RecordLink, new[start:start + _BATCH], ignore_existing=True)
    return len(new)


def _rows(repo: RecordRepository) -> Iterator[_Row]:
    """Every row of the user, decrypted in batches in primary-key order."""
    columns = (RecordResource.id, RecordResource.version, RecordResource.record_encrypted,
               RecordResource.source_id, RecordResource.resource_type, RecordResource.ref_hash,
               RecordResource.target_ref, RecordResource.is_current)
    last: str | None = None
    while True:
        statement = repo._select(RecordResource, *columns).order_by(RecordResource.id).limit(_BATCH)
        if last is not None:
            statement = statement.where(RecordResource.id > last)
        batch = repo.session.execute(statement).all()
        for row in batch:
            record = repo._decrypt_record(row.id, row.version, row.record_encrypted)
            item = record["items"][0]
            provenance = record.get("provenance") or {}
            full_url = provenance.get("full_url")
            rid = item.get("resource_id")
            yield _Row(
                row.id, row.source_id, provenance.get("file"), row.resource_type,
                rid or "\x1e" + (full_url or f"@{provenance.get('location')}"), full_url,
                row.ref_hash, row.target_ref,
                tuple((x.get("relation") or "", x.get("reference") or "")
                      for i in record["items"] for x in i.get("links", ())),
                entry_for(row.id, record["items"]),
                row.is_current, is_current(item),
            )
        if len(batch) < _BATCH:
            return
        last = batch[-1].id
