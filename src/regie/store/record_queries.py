"""Read queries for the record viewer (overview, filtered lists, timeline, trends, documents).

Kept apart from :mod:`regie.store.record` (the ingest side) on purpose. Every statement
is built with ``RecordRepository._select``, which adds the user's id, so these queries
can only ever see the owner's rows. Medical content is encrypted: filters on plain
columns (category, source, date, resource type) run in the database; filters on
content (status, codes, text) decrypt rows in date order until a page is full; text and
trend codes first ask the user's encrypted search index (regie.store.record_search) which
rows can match, so only those are decrypted.
"""
from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, func, literal_column, select

from regie.store.record import (
    CURRENT_STATUSES,
    RecordRepository,
    _target,
    decode_cursor,
    encode_cursor,
    is_current,
)
from regie.store import record_sql
from regie.store.record_models import RecordLink, RecordResource
from regie.store.record_search import MEASUREMENT_CATEGORIES, SearchIndex
from regie.store.record_search import searched_strings

#: Up to this many candidates from the search index are fetched by id (one query);
#: above it the rows are read in date order and only the candidates decrypted.
_MAX_CANDIDATES_BY_ID = 2000

#: Columns read for lists: never the (possibly large) original.
_COLUMNS = (
    RecordResource.id, RecordResource.version, RecordResource.record_encrypted, RecordResource.source_id,
    RecordResource.sort_date, RecordResource.category, RecordResource.kind, RecordResource.resource_type,
    RecordResource.match_hash, RecordResource.identity, RecordResource.arrived_at, RecordResource.updated_at,
)

#: Scans of at most this many rows read every list column at once (see RecordQueries.scan).
_SHORT_SCAN = 300

#: The smallest first batch of a scan with a content filter (see RecordQueries._plan).
_FIRST_FILTERED = 32

#: Columns read while a content filter (text, status, code) decrypts rows in order.
_SCAN_COLUMNS = (RecordResource.id, RecordResource.version, RecordResource.record_encrypted, RecordResource.sort_date)

#: Categories where "current vs past" is a meaningful filter.
STATUS_CATEGORIES = frozenset({"problems", "medication", "allergies", "directives", "devices", "care_plans",
                               "appointments"})
#: Resource types that are a document a person would open.
DOCUMENT_TYPES = ("DocumentReference",)
_FILE_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain"}


#: Rows withdrawn by their source. Written as the bare column so the condition is the one of
#: the partial index ix_record_resources_user_withdrawn (SQLite uses it only then).
_WITHDRAWN = literal_column("record_resources.withdrawn")


def is_withdrawn(item: dict[str, Any]) -> bool:
    """Entered in error: hidden from every list and count (still in its history and exports).
    The rule of :func:`regie.store.record.entered_in_error`, on a decrypted item dict: a plain
    loop, as every row a list decrypts passes here (two generators per row showed as ~4 % of
    a loaded process's time)."""
    if item.get("status") == "entered-in-error":
        return True
    for detail in item.get("details", ()):
        if detail.get("label") == "Verificatie" and detail.get("text") == "entered-in-error":
            return True
    return False


@dataclass
class Filters:
    """What a list page asks for. Dates are sort-key prefixes (``2024``, ``2024-06``)."""

    category: str | None = None
    categories: tuple[str, ...] = ()
    source_id: str | None = None
    since: str | None = None
    before: str | None = None
    status: str | None = None  # "current" / "past"
    resource_types: tuple[str, ...] = ()
    q: str | None = None
    code: str | None = None


def _codes_of(item: dict[str, Any]) -> Iterator[str]:
    for coding in item.get("codes", ()):
        if coding.get("code"):
            yield coding["code"]


def _all_codes(item: dict[str, Any]) -> set[str]:
    codes = set(_codes_of(item))
    for component in item.get("components", ()):
        codes.update(c["code"] for c in component.get("codes", ()) if c.get("code"))
    return codes


def _matches(item: dict[str, Any], filters: Filters, needle: str | None) -> bool:
    # The decrypted status, not the plain flag: rows stored before the flag existed count too.
    if is_withdrawn(item):
        return False
    if filters.status == "current" and not is_current(item):
        return False
    if filters.status == "past" and is_current(item):
        return False
    if filters.code is not None and filters.code not in _all_codes(item):
        return False
    if needle is not None and not any(needle in s.casefold() for s in searched_strings(item)):
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Plan:
    """How a scan reads (see RecordQueries._plan)."""

    needle: str | None
    candidates: set[str] | None  # decrypt only these (many: the keys are read first)
    batch: int
    first: int  # rows in the first batch (then doubling up to ``batch``)
    full: bool  # read every list column at once
    row_type: Any
    ids: tuple[str, ...]  # the database keeps only these rows
    visible_only: bool


class RecordQueries:
    """Read-only views of one user's record for the web pages."""

    def __init__(self, repo: RecordRepository) -> None:
        self.repo = repo

    # -- building blocks -----------------------------------------------------
    def _withdrawn(self, *columns: Any) -> Select[Any]:
        """The user's withdrawn rows, read from their partial index. SQLite has no statistics and
        would rather take a (user_id, ...) index in the order of the GROUP BY and read every row
        of the user: there the user condition is written as ``user_id || ''``, which leaves the
        small partial index (covering) as the way in. PostgreSQL picks it by its statistics."""
        statement = select(*columns).where(_WITHDRAWN)
        if self.repo.session.get_bind().dialect.name == "sqlite":
            statement = statement.where(RecordResource.user_id.concat("") == self.repo.user_id)
        else:
            statement = statement.where(RecordResource.user_id == self.repo.user_id)
        return self.repo._within_scope(RecordResource, statement)

    def _decrypt(self, row: Any) -> dict[str, Any]:
        return self.repo._decrypt_record(row.id, row.version, row.record_encrypted)

    def scan(self, filters: Filters, *, limit: int, cursor: str | None = None, ascending: bool = False,
             max_rows: int | None = None, candidates: set[str] | None = None,
             ) -> tuple[list[tuple[Any, dict[str, Any]]], str | None]:
        """(row, record) pairs in date order that pass the filters; at most ``limit``.

        ``max_rows`` bounds how many rows are decrypted (the overview uses it).
        ``candidates``: only these rows can match (from the search index); the others are
        never decrypted. A text filter finds its candidates itself."""
        plan = self._plan(filters, limit=limit, max_rows=max_rows, candidates=candidates)
        if plan is None:
            return [], None
        return self._scan(filters, plan, limit=limit, cursor=cursor, ascending=ascending, max_rows=max_rows)

    def _plan(self, filters: Filters, *, limit: int, max_rows: int | None,
              candidates: set[str] | None) -> _Plan | None:
        """How :meth:`scan` reads: batch size, columns, candidates; None when nothing can match."""
        needle = filters.q.casefold().strip() if filters.q else None
        if needle and candidates is None:
            candidates = self._text_candidates(needle)
        if candidates is not None and not candidates:
            return None
        content_filter = bool(needle or filters.status or filters.code or candidates is not None)
        batch = limit + 1 if not content_filter else max(200, limit + 1)
        if max_rows is not None:
            batch = min(batch, max_rows)
        # Filtering on content decrypts many rows that are then dropped: a long scan reads only
        # what the filter needs, and the other columns of the rows kept afterwards. A short one
        # (a page, an overview section) reads the small plain columns at once: one statement
        # less, which costs more than those few columns.
        full = not content_filter or (candidates is None and batch <= _SHORT_SCAN)
        ids: tuple[str, ...] = ()
        if candidates is not None and len(candidates) <= _MAX_CANDIDATES_BY_ID:
            row_type: Any = record_sql.SCAN
            ids = tuple(sorted(candidates))
            candidates = None  # the database keeps only them
        elif candidates is not None:  # many: walk the date index, fetch and decrypt only candidates
            row_type = record_sql.KEYS
        else:
            row_type = record_sql.LIST if full else record_sql.SCAN
        # A content filter drops rows after decrypting them, so it reads in large batches; but
        # a short list (an overview section shows 8) mostly fills from its first few dozen rows:
        # its first batch is a few times what it shows, and the next ones double up to ``batch``.
        # A status alone is pre-selected by the database on the plain flag (record_sql
        # _STATUS_SQL): its first batch is what it shows; rows without the flag yet may need more.
        status_only = bool(filters.status) and not (needle or filters.code or candidates is not None)
        if not content_filter:
            first = batch
        elif status_only:
            first = min(batch, limit + 1)
        else:
            first = min(batch, max(_FIRST_FILTERED, 4 * (limit + 1)))
        if candidates is not None:
            batch = first = 2000  # plain keys only; max_rows bounds what is decrypted
        # Withdrawn rows never match (their flag is set from the same status _matches reads):
        # without a bound on the rows read, the database leaves them out, so that a withdrawn
        # row in a page does not cost a second batch. With one (max_rows) they still count.
        return _Plan(needle, candidates, batch, first, full, row_type, ids, visible_only=max_rows is None)

    def _scan(self, filters: Filters, plan: _Plan, *, limit: int, cursor: str | None, ascending: bool,
              max_rows: int | None, first: list[Any] | None = None,
              ) -> tuple[list[tuple[Any, dict[str, Any]]], str | None]:
        """:meth:`scan` by its plan. ``first``: the first batch, when already read (the overview
        reads the first batch of every section in one statement)."""
        needle, candidates, full, row_type = plan.needle, plan.candidates, plan.full, plan.row_type
        connection = self.repo.session.connection()
        position = decode_cursor(cursor, 2) if cursor else None
        found: list[tuple[Any, dict[str, Any]]] = []
        scanned = 0
        batch = plan.first
        while len(found) <= limit:
            if first is not None and position is None:
                rows = first
            else:
                if max_rows is not None and candidates is None:
                    batch = min(batch, max_rows - scanned)  # never read rows it may not decrypt
                rows = record_sql.read(connection, *record_sql.scan_statement(
                    connection, self.repo.user_id, self.repo.categories, filters, names=row_type._fields,
                    ids=plan.ids, after=position, ascending=ascending, visible_only=plan.visible_only, limit=batch),
                    row_type)
            for row in (rows if candidates is None else self._with_blobs(rows, candidates)):
                scanned += 1
                record = self.repo._decrypt_record_if(row.id, row.version, row.record_encrypted, needle)
                if record is not None and _matches(record["items"][0], filters, needle):
                    found.append((row, record))
                    if len(found) > limit:
                        break
            if len(rows) < batch or (max_rows is not None and scanned >= max_rows):
                break
            position = [rows[-1].sort_date, rows[-1].id]
            batch = min(plan.batch, 2 * batch)
        more = len(found) > limit
        found = found[:limit]
        next_cursor = encode_cursor([found[-1][0].sort_date, found[-1][0].id]) if more and found else None
        if not full and found:
            full = {}
            ids = [row.id for row, _ in found]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for row in record_sql.read(connection, *record_sql.scan_statement(
                        connection, self.repo.user_id, self.repo.categories, Filters(), names=record_sql.LIST._fields,
                        grouped=False, ids=chunk, limit=len(chunk)), record_sql.LIST):
                    full[row.id] = row
            found = [(full[row.id], record) for row, record in found if row.id in full]
        return found, next_cursor

    def _with_blobs(self, keys: list[Any], candidates: set[str]) -> list[Any]:
        """The rows of ``keys`` (in their order) that are candidates, with their blobs."""
        wanted = [row.id for row in keys if row.id in candidates]
        if not wanted:
            return []
        fetched = {row.id: row for row in self.repo.session.execute(
            self.repo._select_ids(RecordResource, wanted, *_SCAN_COLUMNS))}
        return [fetched[row_id] for row_id in wanted if row_id in fetched]

    def _text_candidates(self, needle: str) -> set[str] | None:
        """Rows whose indexed text contains ``needle``; None when the index cannot tell
        (a user whose index is being rebuilt, a needle with a separator character)."""
        if not SearchIndex.answers(needle):
            return None
        index = self.repo.search_index()
        return index.candidates(needle) if index is not None else None

    def present(self, pairs: list[tuple[Any, dict[str, Any]]], *, enrich: bool = True,
                groups: dict[str, list[tuple[str, str]]] | None = None) -> list[dict[str, Any]]:
        """Item dicts for display: enriched, with the source names of every group member.
        ``groups``: the groups of these rows when already read (the overview reads them once)."""
        if groups is None:
            groups = self.repo._groups(row for row, _ in pairs)
        names = self.repo.source_names()
        out = []
        for row, record in pairs:
            item = self.repo._enrich(row, record["items"][0]) if enrich else record["items"][0]
            members = groups.get(row.match_hash, [(row.id, row.source_id)]) if row.match_hash else [(row.id, row.source_id)]
            out.append({
                "id": row.id, **item, "sort_date": row.sort_date, "source_id": row.source_id,
                "sources": sorted({names.get(s, s) for _, s in members}),
                "group": [member_id for member_id, _ in members if member_id != row.id],
                "arrived_at": row.arrived_at, "updated_at": row.updated_at,
            })
        return out

    def items(self, filters: Filters, *, limit: int = 50, cursor: str | None = None,
              ascending: bool = False, max_rows: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
        pairs, next_cursor = self.scan(filters, limit=limit, cursor=cursor, ascending=ascending, max_rows=max_rows)
        return self.present(pairs), next_cursor

    # -- counts ----------------------------------------------------------------
    def sources(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Per source: name, number of items, per category, last received, new/changed since ``since``."""
        connection = self.repo.session.connection()
        both = record_sql.read(connection, *record_sql.sources_statement(
            connection, self.repo.user_id, self.repo.categories, since), names=record_sql.SOURCES_NAMES)
        rows = [row[1:] for row in both if not row[0]]
        names = self.repo.source_names() if rows else {}
        gone = {(source_id, category): (count, int(new or 0))
                for hidden, source_id, category, count, _, new in both if hidden}
        by_source: dict[str, dict[str, Any]] = {}
        for source_id, category, count, last, new in rows:
            hidden, hidden_new = gone.get((source_id, category), (0, 0))
            count, new = count - hidden, int(new or 0) - hidden_new
            if count <= 0:
                continue
            entry = by_source.setdefault(source_id, {
                "id": source_id, "name": names.get(source_id, source_id), "count": 0, "last": None,
                "new": 0, "categories": {}, "new_categories": {}})
            entry["count"] += count
            entry["new"] += int(new or 0)
            entry["categories"][category] = count
            if new:
                entry["new_categories"][category] = int(new)
            if last is not None and (entry["last"] is None or last > entry["last"]):
                entry["last"] = last
        return sorted(by_source.values(), key=lambda s: s["name"].casefold())

    def source_list(self) -> list[dict[str, Any]]:
        """Sources by name only (the small sources table): for filter menus."""
        names = self.repo.source_names()
        return sorted(({"id": i, "name": n} for i, n in names.items()), key=lambda s: s["name"].casefold())

    @staticmethod
    def counts_of(sources: list[dict[str, Any]]) -> dict[str, int]:
        """Items per category from :meth:`sources` (which already counts per source and
        category, withdrawn ones left out): the overview needs both, read once."""
        counts: dict[str, int] = {}
        for source in sources:
            for category, count in source["categories"].items():
                counts[category] = counts.get(category, 0) + count
        return counts

    def category_counts(self) -> dict[str, int]:
        """Items per category, without the withdrawn ones (counted apart through their small index)."""
        statement = self.repo._select(RecordResource, RecordResource.category, func.count())
        counts = dict(self.repo.session.execute(statement.group_by(RecordResource.category)).all())
        for category, hidden in self.repo.session.execute(
                self._withdrawn(RecordResource.category, func.count()).group_by(RecordResource.category)):
            counts[category] -= hidden
        return {category: count for category, count in counts.items() if count > 0}

    def period_counts(self, filters: Filters, width: int) -> list[tuple[str, int]]:
        """Item counts per period: ``width`` 4 = per year, 7 = per month (sort-key prefix)."""
        # Counts rows (not groups), like the summary: both halves stay index-only scans.
        connection = self.repo.session.connection()
        rows = record_sql.read(connection, *record_sql.period_counts_statement(
            connection, self.repo.user_id, self.repo.categories, filters, width))
        hidden = {key: count for withdrawn, key, count in rows if withdrawn}
        return [(key, count - hidden.get(key, 0)) for withdrawn, key, count in rows
                if not withdrawn and key and not key.endswith("-00") and count > hidden.get(key, 0)]

    # -- the overview ------------------------------------------------------------
    def last_visit(self, actor_id: str, before: datetime | None = None) -> datetime | None:
        """When ``actor_id`` last opened the overview (from the audit trail); with ``before``,
        the last time before then (the start page: before this session began)."""
        return record_sql.last_visit(self.repo.session.connection(), self.repo.user_id, actor_id, before)

    def overview(self, now_key: str) -> dict[str, Any]:
        """The essentials: each section reads a bounded number of the newest rows."""
        sections = {  # key: (filters, limit, max_rows, ascending)
            "patients": (Filters(category="patient", resource_types=("Patient",)), 50, 50, False),
            "problems": (Filters(category="problems", status="current"), 8, 300, False),
            "medication": (Filters(category="medication", status="current"), 8, 300, False),
            "allergies": (Filters(category="allergies", status="current"), 8, 200, False),
            "vital_signs": (Filters(category="vital_signs"), 40, 40, False),
            "results": (Filters(category="results", resource_types=("Observation",)), 5, 5, False),
            "appointments": (Filters(category="appointments", since=now_key), 5, 50, True),
            "documents": (Filters(category="documents", resource_types=DOCUMENT_TYPES), 5, 5, False),
        }
        plans = {key: self._plan(filters, limit=limit, max_rows=max_rows, candidates=None)
                 for key, (filters, limit, max_rows, _) in sections.items()}
        # The first batch of every section in one statement, not one statement per section;
        # a section that needs more (many past items before its current ones) reads on alone.
        connection = self.repo.session.connection()
        together = [key for key, plan in plans.items()
                    if plan is not None and plan.row_type is record_sql.LIST and not plan.ids and plan.candidates is None]
        firsts: dict[str, list[Any]] = {key: [] for key in together}
        if together:
            parts = [(sections[key][0], sections[key][3], plans[key].visible_only, plans[key].first)  # type: ignore[union-attr]
                     for key in together]
            for row in record_sql.read(connection, *record_sql.batches_statement(
                    connection, self.repo.user_id, self.repo.categories, parts),
                    names=("part", "n", *record_sql.LIST._fields)):
                firsts[together[row[0]]].append(record_sql.LIST._make(row[2:]))
        picked: dict[str, list[tuple[Any, Any]]] = {}
        for key, (filters, limit, max_rows, ascending) in sections.items():
            plan = plans[key]
            picked[key] = [] if plan is None else self._scan(
                filters, plan, limit=limit, cursor=None, ascending=ascending, max_rows=max_rows,
                first=firsts.get(key))[0]
        # The groups of every section's rows in one statement, not one per section.
        groups = self.repo._groups(row for pairs in picked.values() for row, _ in pairs)
        shown = {key: self.present(pairs, groups=groups) for key, pairs in picked.items()}
        # Patient rows have no plain date (it would be the birth date): read a bounded number
        # and order them by the decrypted date, youngest first, as before.
        shown["patients"] = _distinct_titles(
            sorted(shown["patients"], key=lambda i: i.get("date") or "", reverse=True), 3)
        shown["vital_signs"] = _latest_per_code(shown["vital_signs"], 6)
        return shown

    def measurements(self, *, max_rows: int = 5000, candidates: set[str] | None = None) -> list[dict[str, Any]]:
        """Results, vital signs and pregnancy measurements, newest first (at most ``max_rows``).
        Codes are encrypted, so a trend page reads these and picks its code in Python."""
        filters = Filters(categories=MEASUREMENT_CATEGORIES)
        pairs, _ = self.scan(filters, limit=max_rows, max_rows=max_rows, candidates=candidates)
        return self.present(pairs, enrich=False)

    def trend(self, codes: Iterable[str], *, max_rows: int = 5000,
              per_code: int = 1000) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """For a trend page: (the measurements with one of ``codes``, newest first, at most
        ``per_code`` of each code; one small entry per kind of measurement in the record, for
        the list of other tests: category, title, codes, components, "a number or not").
        From the search index only the rows of those codes are decrypted; without it (while
        the user's index is rebuilt) up to ``max_rows`` measurements are, as before."""
        index = self.repo.search_index()
        if index is None:
            items = self.measurements(max_rows=max_rows)
            return items, items
        found: dict[str, dict[str, Any]] = {}
        for code in dict.fromkeys(codes):
            for item in self.measurements(max_rows=per_code, candidates=index.rows_with_codes([code])):
                found.setdefault(item["id"], item)
        items = sorted(found.values(), key=lambda i: (i["sort_date"], i["id"]), reverse=True)
        withdrawn = {row.id for row in self.repo.session.execute(self._withdrawn(RecordResource.id))}
        kinds = index.trend_kinds(withdrawn)
        if self.repo.categories is not None:  # a delegate sees only the categories shared
            kinds = [k for k in kinds if k.get("category") in self.repo.categories]
        return items, kinds

    # -- one item, its related items, documents -------------------------------------
    def related(self, item_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Items that point at this one, from any source: the journal lines of an encounter, the
        agreements and dispenses of a medication, the results of a specimen, the episode's flags.

        ``record_links`` finds the candidates (by the keyed hash of this item's type and id, and
        of the items grouped with it); each one's reference must still be in its decrypted links
        and resolve to this item or its group by the rules of :meth:`RecordRepository.resolve_ids`
        (its own source first; another source only when that source does not hold the target).
        """
        row = self.repo.get(item_id)
        if row is None:
            return []
        members = {row.id: row}
        if row.match_hash:
            for member_id, _ in self.repo._groups([row]).get(row.match_hash, []):
                if member_id not in members:
                    member = self.repo.get(member_id)
                    if member is not None:
                        members[member_id] = member
        targets: dict[str, tuple[str, str | None]] = {}  # ref hash -> (type, id); no id: Bundle-internal only
        for member in members.values():
            resource_id = self.repo._decrypt_record(member.id, member.version,
                                                    member.record_encrypted)["items"][0].get("resource_id")
            if resource_id:
                targets[self.repo._ref(member.resource_type, resource_id)] = (member.resource_type, resource_id)
            elif member.ref_hash:
                targets[member.ref_hash] = (member.resource_type, None)
        if not targets:
            return []
        pointing = self.repo.session.execute(
            self.repo._select(RecordLink, RecordLink.row_id, RecordLink.target_ref)
            .where(RecordLink.target_ref.in_(sorted(targets))).limit(2000)).all()
        by_row: dict[str, set[tuple[str, str | None]]] = {}
        for row_id, target_ref in pointing:
            if row_id not in members:
                by_row.setdefault(row_id, set()).add(targets[target_ref])
        candidates = []
        ids = sorted(by_row)
        for start in range(0, len(ids), 500):
            candidates += self.repo.session.execute(
                self.repo._select_ids(RecordResource, ids[start:start + 500], *_COLUMNS)).all()
        candidates.sort(key=lambda r: (r.sort_date, r.id), reverse=True)
        resolved: dict[tuple[str, tuple[str, str | None]], str | None] = {}
        pairs = []
        for other in candidates:
            record = self._decrypt(other)
            item = record["items"][0]
            if is_withdrawn(item):
                continue
            refs = {t for i in record["items"] for x in i.get("links", ()) if (t := _target(x.get("reference")))}
            urns = any((x.get("reference") or "").startswith("urn:") for i in record["items"] for x in i.get("links", ()))
            for target in by_row[other.id]:
                if target not in refs:
                    # Only a Bundle-internal (urn:) reference made this link: same file, same source.
                    if urns and any(m.source_id == other.source_id for m in members.values()):
                        pairs.append((other, record))
                        break
                    continue
                key = (other.source_id, target)
                if key not in resolved:
                    resolved[key] = self.repo.resolve_ids(other.source_id, [target]).get(target)  # type: ignore[list-item]
                if resolved[key] in members:
                    pairs.append((other, record))
                    break
            if len(pairs) >= limit:
                break
        return self.present(pairs, enrich=False)

    def document_file(self, item_id: str) -> tuple[str, bytes, str] | None:
        """(content type, bytes, title) of a document item (DocumentReference or Binary), or None."""
        row = self.repo.get(item_id)
        if row is None:
            return None
        original = orjson.loads(self.repo._decrypt_original(row.id, row.version, row.original_encrypted))
        record = self.repo._decrypt_record(row.id, row.version, row.record_encrypted)
        title = record["items"][0].get("title") or "document"
        if row.resource_type == "Binary":
            return _binary_payload(original, title)
        if row.resource_type != "DocumentReference":
            return None
        for content in original.get("content", ()):
            attachment = content.get("attachment") or {}
            if attachment.get("data"):
                return _decoded(attachment.get("contentType"), attachment["data"], title)
        for link in record["items"][0].get("links", ()):
            if link.get("relation") != "binary":
                continue
            binary = self._find_binary(row, link.get("reference"))
            if binary is not None:
                found = _binary_payload(orjson.loads(
                    self.repo._decrypt_original(binary.id, binary.version, binary.original_encrypted)), title)
                if found:
                    return found
        return None

    def _find_binary(self, row: Any, reference: str | None) -> Any:
        if not reference:
            return None
        target = _target(reference)
        if target is not None:
            return self.repo.resolve(row.source_id, *target)
        if reference.startswith("urn:"):
            # A Bundle's urn:uuid reference: the Binary of the same source with that fullUrl.
            for candidate in self.repo.session.scalars(
                    self.repo._select(RecordResource).where(
                        RecordResource.source_id == row.source_id, RecordResource.resource_type == "Binary")):
                record = self.repo._decrypt_record(candidate.id, candidate.version, candidate.record_encrypted)
                if record["provenance"].get("full_url") == reference:
                    return candidate
        return None

    def document_ids_with_file(self, items: Iterable[dict[str, Any]]) -> set[str]:
        """Which of these document items have a file to open (checked without decoding it)."""
        return {item["id"] for item in items if item.get("resource_type") in ("Binary", "DocumentReference")}


def _binary_payload(original: dict[str, Any], title: str) -> tuple[str, bytes, str] | None:
    data = original.get("data") or original.get("content")  # R4 data, STU3 content
    if not isinstance(data, str):
        return None
    return _decoded(original.get("contentType"), data, title)


def _decoded(content_type: str | None, data: str, title: str) -> tuple[str, bytes, str] | None:
    try:
        payload = base64.b64decode(data, validate=False)
    except ValueError:
        return None
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in _FILE_TYPES:
        kind = "application/octet-stream"
    return kind, payload, title


def _distinct_titles(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.get("title") not in seen:
            seen.add(item.get("title"))
            out.append(item)
    return out[:limit]


def _latest_per_code(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = next(_codes_of(item), None) or item.get("kind") or item.get("title")
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
        if len(out) >= limit:
            break
    return out


__all__ = ["CURRENT_STATUSES", "DOCUMENT_TYPES", "Filters", "RecordQueries", "STATUS_CATEGORIES", "is_current",
           "is_withdrawn"]
