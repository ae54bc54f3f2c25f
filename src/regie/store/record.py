"""The health record store: one user's encrypted resources, scoped in one place.

:class:`RecordRepository` is the only code that queries the record tables. It is
built for one user and every statement it runs goes through :meth:`_select`,
:meth:`_select_ids`, :meth:`_rows_where_in`, :meth:`_update`, :meth:`_update_rows` (``WHERE user_id = ? AND id = ?``) or
:meth:`_insert` (which sets ``user_id`` itself), so a query for another user's rows
cannot be written by accident. The hot reads (an item's detail, its references, groups,
source names) are driver SQL through :meth:`_driver_rows`: each starts ``WHERE user_id = ?``
and adds the delegate's category scope (:meth:`_scope_sql`) on ``record_resources``.
See docs/storage.md.
"""
from __future__ import annotations

import base64
import functools
import hmac
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Select, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from regie.fhir import ParsedDocument, ParsedResource
from regie.record import (
    apply_attention_flags,
    item_from_dict,
    item_to_dict,
    match_key,
    resolve_medication,
)
from regie.store import acting, driver_sql, record_sql
from regie.store.crypto import Cipher
from regie.store.db import ConnectionUnit
from regie.store.models import new_id
from regie.store.record_models import (
    AuditEntry,
    RecordLink,
    RecordReindexPending,
    RecordResource,
    RecordResourceVersion,
    RecordSearchSegment,
    RecordSource,
)
from regie.store.record_search import Entry, SearchIndex, Segment, encode_segment, entry_for, merge, searched_strings
from regie.store.record_stamp import STAMPED_TABLES, note_change, stamp_of
from regie.store.types import utcnow

CHANNELS = ("web", "api-session", "api-token", "cli", "collect")
_CHUNK = 500

#: Relations between clinical items that are indexed for the reverse lookup ("related"): not
#: subject, author, performer, organisation, location (they point at people and places).
LINK_RELATIONS = frozenset({
    "encounter", "episode", "specimen", "based_on", "member", "related", "focus", "condition",
    "medication", "request", "binary", "device", "questionnaire", "detail",
})


#: Types whose item date must not become the plain ``sort_date`` (a birth date).
_UNDATED_TYPES = frozenset({"Patient"})

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def _batch_ids() -> Iterator[str]:
    """Row ids for one stored document: a random prefix shared by the document's rows and a
    random suffix per row (both 64 bits). The rows of one import then sit next to each other
    in the primary key (a few index pages per import instead of one per row: docs/storage.md),
    and an id still says nothing about its neighbours."""
    prefix = secrets.token_hex(8)
    while True:
        yield prefix + secrets.token_hex(8)


def _ref_key(res: ParsedResource) -> str:
    """What ``ref_hash`` is made of besides the type: the id, else the Bundle's fullUrl or the
    place in the file, marked so it can never equal an id (FHIR ids have no control characters)."""
    return res.id or "\x1e" + (res.full_url or f"@{res.location}")


@dataclass(frozen=True, slots=True)
class UserKeys:
    """A user's data cipher and index (HMAC) key, unwrapped for one unit of work."""

    user_id: str
    cipher: Cipher
    index_key: bytes

    def mac(self, *parts: str) -> str:
        # hmac.digest is the one-shot C implementation: same value as hmac.new(...).hexdigest().
        return hmac.digest(self.index_key, "\x1f".join(parts).encode(), "sha256").hex()

    def mac_bytes(self, label: str, data: bytes) -> str:
        return hmac.digest(self.index_key, label.encode() + b"\x1f" + data, "sha256").hex()


@dataclass
class StoreResult:
    """What storing one document did."""

    resources: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)


class BadCursor(ValueError):
    pass


def entered_in_error(status: str | None, details: Iterable[tuple[str, str]] = ()) -> bool:
    """Withdrawn by its source (FHIR status or verification status ``entered-in-error``; own data
    deleted by the patient is stored so too). Kept with its history and in exports; the
    viewer neither shows nor counts it (the plain ``withdrawn`` column, docs/viewer.md)."""
    return status == "entered-in-error" or any(
        label == "Verificatie" and text == "entered-in-error" for label, text in details)


#: Statuses that mean "this still applies" when the item has no explicit active flag.
CURRENT_STATUSES = frozenset({"active", "in-progress", "booked", "current", "intended", "on-hold", "planned",
                              "proposed", "pending", "arrived", "requested", "accepted", "ready"})


def is_current(item: dict[str, Any]) -> bool:
    """Still applies (a current problem, medication, allergy, appointment): the item's active
    flag, else its status. The one rule for the viewer's "current"/"past" filter and for the
    plain ``is_current`` column that lets the database pre-select for it (docs/decisions/0009).
    Changing it means resetting that column (see migration 0026)."""
    if item.get("active") is not None:
        return bool(item["active"])
    return (item.get("status") or "") in CURRENT_STATUSES


def _target(reference: str | None) -> tuple[str, str] | None:
    """(type, id) of a relative or absolute reference; None for contained/urn references."""
    if not reference or reference.startswith(("#", "urn:")):
        return None
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or not parts[-2] or not parts[-1]:
        return None
    return parts[-2], parts[-1]


def encode_cursor(values: Sequence[str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadCursor("The cursor is not one this server gave out.") from exc
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise BadCursor("The cursor is not one this server gave out.")
    return values


@dataclass(frozen=True, slots=True)
class _WritePlan:
    """A DBAPI statement for many rows of one shape, with the columns' bind processors."""

    sql: str
    names: tuple[str, ...]  # parameter order; "user_id" is the user's id
    processors: tuple[tuple[int, Any, bool], ...]  # (index, processor, memoise)

    def rows_sql(self, count: int) -> str:
        """The INSERT for ``count`` rows in one statement (``VALUES (...), (...)``)."""
        return _rows_sql(self.sql, count)

    def values(self, rows: list[dict[str, Any]], user_id: str) -> list[tuple[Any, ...]]:
        names = self.names
        out = []
        memo: dict[tuple[int, Any], Any] = {}
        for row in rows:
            values = [user_id if n == "user_id" else row[n] for n in names]
            for i, process, memoise in self.processors:
                value = values[i]
                if value is None:
                    continue
                if memoise:  # e.g. the one timestamp of an import: convert it once
                    key = (i, value)
                    if key not in memo:
                        memo[key] = process(value)
                    values[i] = memo[key]
                else:
                    values[i] = process(value)
            out.append(tuple(values))
        return out


# PostgreSQL: the audit entries of one read, whatever their number (see _audit_as_arrays).
# Ids and targets arrive as one comma-separated text each: psycopg writes a list parameter
# as an array element by element in Python (~1 ms of CPU for a page's 2 x 50), one text it
# sends as it is. Ids are hex; targets with a comma (none so far) take the other way.
_AUDIT_FROM_ARRAYS = (
    "INSERT INTO audit_entries (actor_id, channel, at, user_id, id, action, target) "
    "SELECT %s, %s, %s, %s, entry.id, entry.action, entry.target"
    " FROM unnest(string_to_array(%s, ','), string_to_array(%s, ','), string_to_array(%s, ','))"
    " AS entry(id, action, target)")


@functools.lru_cache(maxsize=8)
def _audit_at_processor(dialect: Any) -> Any:
    """How the audit time column binds its value (UTCDateTime), per dialect."""
    return AuditEntry.__table__.c.at.type.bind_processor(dialect)


_PLANS: dict[tuple[Any, ...], _WritePlan | None] = {}
#: Parameters per multi-row INSERT: under SQLite's oldest limit (999).
_PARAMS_PER_INSERT = 900


@functools.lru_cache(maxsize=512)
def _rows_sql(sql: str, count: int) -> str:
    head, rest = sql.split(" VALUES ", 1)
    values, _, tail = rest.partition(")")  # tail: e.g. " ON CONFLICT DO NOTHING"
    return f"{head} VALUES {', '.join(values + ')' for _ in range(count))}{tail}"


_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _write_plan(dialect: Any, table: Any, keys: tuple[str, ...], kind: str) -> _WritePlan | None:
    """INSERT (user_id added) or UPDATE ... WHERE user_id = ? AND id = ? for rows with ``keys``."""
    cache_key = (dialect.name, dialect.paramstyle, table.name, keys, kind)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    mark = _MARKS.get(dialect.paramstyle)
    plan = None
    if mark is not None:
        if kind in ("insert", "insert_ignore"):
            names = (*[k for k in keys if k != "user_id"], "user_id")
            sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
                   f"VALUES ({', '.join(mark for _ in names)})")
            if kind == "insert_ignore":  # rows already there (same primary key) stay as they are
                sql = (sql.replace("INSERT", "INSERT OR IGNORE", 1) if dialect.name == "sqlite"
                       else sql + " ON CONFLICT DO NOTHING")
        else:
            columns = tuple(k for k in keys if k not in ("id", "user_id"))
            names = (*columns, "user_id", "id")
            sql = (f"UPDATE {table.name} SET {', '.join(f'{c} = {mark}' for c in columns)} "
                   f"WHERE user_id = {mark} AND id = {mark}")
        processors = []
        for i, name in enumerate(names):
            column_type = table.c[name].type
            process = column_type.bind_processor(dialect)
            if process is not None:
                processors.append((i, process, isinstance(column_type, TypeDecorator)))
        plan = _WritePlan(sql, names, tuple(processors))
    _PLANS[cache_key] = plan
    return plan


_JSON_ESCAPED = frozenset('"\\') | frozenset(map(chr, range(0x20)))


def could_contain(plain: bytes, needle: str) -> bool:
    """False only if no string value of the JSON text ``plain`` contains ``needle`` (casefolded).

    orjson writes strings as UTF-8 and escapes only ``"``, ``\\`` and control characters,
    and case folding maps each character on its own, so a casefolded string that holds
    the needle puts it, unchanged, into the casefolded text, unless the needle has one
    of the escaped characters (then: True, the caller checks the parsed strings)."""
    if not needle or not _JSON_ESCAPED.isdisjoint(needle):
        return True
    if plain.isascii():  # the common case: ASCII case folding is lower(), on the bytes
        return needle.isascii() and needle.encode() in plain.lower()
    return needle in plain.decode().casefold()


def _entries_by_url(doc: ParsedDocument) -> dict[str, tuple[str, str]]:
    """fullUrl -> (type, ref key) of a Bundle's entries, for references written as urn:uuid."""
    return {res.full_url: (res.resource_type, _ref_key(res)) for res in doc.resources if res.full_url}


def _link_target(reference: str | None, by_url: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(type, ref key) a reference points at: relative or absolute ``Type/id``, or the entry of
    the same Bundle with that fullUrl; None for contained (``#``) and unknown references."""
    if not reference or reference.startswith("#"):
        return None
    if reference in by_url:
        return by_url[reference]
    return _target(reference)


class _DetailRow(NamedTuple):
    """The columns of a record row that :meth:`RecordRepository.detail` (and ``_enrich``,
    ``_flags_for``) read: a plain tuple instead of an ORM entity for the hot item read."""

    id: str
    source_id: str
    identity: str
    resource_type: str
    group_id: str
    match_hash: str | None
    version: int
    record_encrypted: bytes
    arrived_at: datetime
    updated_at: datetime


_SOURCE_JOIN = ("FROM record_resources LEFT JOIN record_sources ON record_sources.user_id = record_resources.user_id"
                " AND record_sources.id = record_resources.source_id ")
#: One round trip for an item: its row (kind 0) and the members of its group (kind 1, the
#: row itself among them, oldest first as in ``_groups``), each with its source's encrypted
#: name. UNION ALL, LEFT JOIN and a scalar subquery: the same on SQLite and PostgreSQL.
_DETAIL_SQL = (
    "SELECT 0, record_resources.id, record_resources.source_id, identity, resource_type, group_id, match_hash,"
    " version, record_encrypted, arrived_at, updated_at, record_sources.name_encrypted "
    + _SOURCE_JOIN + "WHERE record_resources.user_id = ? AND record_resources.id = ?{scope} "
    "UNION ALL "
    "SELECT 1, record_resources.id, record_resources.source_id, NULL, NULL, NULL, NULL, NULL, NULL, arrived_at, NULL,"
    " record_sources.name_encrypted "
    + _SOURCE_JOIN + "WHERE record_resources.user_id = ? AND record_resources.match_hash = ("
    "SELECT own.match_hash FROM record_resources own WHERE own.user_id = ? AND own.id = ?{own_scope}){scope} "
    "ORDER BY 1, 10, 2"
)
_DETAIL_NAMES = (None, "id", "source_id", "identity", "resource_type", "group_id", "match_hash", "version",
                 "record_encrypted", "arrived_at", "updated_at", None)


class RecordRepository:
    """One user's health record inside one database session."""

    def __init__(self, session: Session | ConnectionUnit, keys: UserKeys,
                 source_ids: dict[str, str] | None = None) -> None:
        # A ConnectionUnit (the item read) serves the driver-SQL reads and the audit entry only.
        self.session = session
        self.keys = keys
        self.user_id = keys.user_id
        self._source_names: dict[str, str] | None = None
        # name hash -> source id, for sources known to be committed (shared by the caller
        # across units of work); sources created here are reported in ``created_sources``.
        self._source_ids = source_ids if source_ids is not None else {}
        self.created_sources: dict[str, str] = {}
        # A delegate's read scope (regie.store.acting): only these categories are visible.
        scope = acting.scope_for(self.user_id)
        self.categories = scope.categories if scope is not None else None

    # -- the one place that scopes queries to the user ---------------------------
    def _select(self, model: Any, *columns: Any) -> Select[Any]:
        statement = select(*columns) if columns else select(model)
        return self._within_scope(model, statement.where(model.user_id == self.user_id))

    def _within_scope(self, model: Any, statement: Select[Any]) -> Select[Any]:
        if self.categories is not None and model is RecordResource:
            statement = statement.where(RecordResource.category.in_(sorted(self.categories)))
        return statement

    def _select_ids(self, model: Any, ids: Sequence[str], *columns: Any) -> Select[Any]:
        """Rows by id, the user's only. The primary key is ``(user_id, id)`` (Citus layout), so
        ``user_id = ? AND id IN (...)`` is a seek in it; hiding ``user_id`` behind an expression
        (as before migration 0012) would make the database read the user's whole key range."""
        statement = select(*columns) if columns else select(model)
        return self._within_scope(model, statement.where(model.user_id == self.user_id, model.id.in_(list(ids))))

    def _rows_where_in(self, table: str, columns: str, column: str, values: Sequence[str],
                       extra: str = "", extra_params: tuple[Any, ...] = ()) -> list[Any]:
        """``SELECT columns FROM table WHERE user_id = ? AND column IN (values) extra`` as plain
        DBAPI SQL: these run once or twice per imported file, and building them with
        SQLAlchemy cost more than running them (docs/benchmarks.md). Names are ours only;
        ``extra`` writes its parameters as ``?`` (``extra_params``)."""
        connection = self.session.connection()
        mark = _MARKS.get(connection.dialect.paramstyle)
        if mark is None:
            raise NotImplementedError(connection.dialect.paramstyle)
        sql = (f"SELECT {columns} FROM {table} WHERE user_id = {mark} AND {column} IN "
               f"({', '.join(mark for _ in values)}){extra.replace('?', mark)}")
        return connection.exec_driver_sql(sql, (self.user_id, *values, *extra_params)).all()

    def _scope_sql(self, qualifier: str = "") -> tuple[str, tuple[str, ...]]:
        """The delegate's category scope (:meth:`_within_scope`) for driver SQL on
        ``record_resources``: ``" AND category IN (?, ...)"`` and its parameters."""
        if self.categories is None:
            return "", ()
        if not self.categories:
            return " AND 1 = 0", ()
        categories = tuple(sorted(self.categories))
        return f" AND {qualifier}category IN ({', '.join('?' for _ in categories)})", categories

    def _driver_rows(self, sql: str, params: tuple[Any, ...], table: Any, names: tuple[str | None, ...]) -> list[Any]:
        """Plain DBAPI rows of ``sql`` (parameters written as ``?``), each value converted by
        the column of ``table`` it is named after in ``names`` (None: as the driver gives it):
        SQLAlchemy's statement building and result handling cost more than a short read."""
        connection = self.session.connection()
        mark = driver_sql.mark_of(connection.dialect)
        return record_sql.read(connection, sql.replace("?", mark) if mark != "?" else sql, params,
                               names=names, table=table)

    def note_write(self, model: Any) -> None:
        """A write to ``model``'s table: the record's change counter goes up at the commit
        when the pages show that table (regie.store.record_stamp)."""
        if model.__tablename__ in STAMPED_TABLES:
            note_change(self.session, self.user_id)

    def stamp(self) -> int:
        """The record's change counter now. A page reads it before the record
        (regie.web.page_cache): what it then reads is at least this new."""
        return stamp_of(self.session.connection(), self.user_id)

    def _update(self, model: Any):
        self.note_write(model)
        return update(model).where(model.user_id == self.user_id)

    def _insert(self, model: Any, rows: list[dict[str, Any]], *, ignore_existing: bool = False,
                one_statement: bool = False) -> None:
        """Insert rows (dicts with the same keys) for this user: ``user_id`` is set here.
        ``ignore_existing``: a row whose primary key is taken is left out (no error).
        ``one_statement``: one multi-row INSERT (per :data:`_PARAMS_PER_INSERT` parameters) instead
        of an executemany, for the few rows of a request (the audit entries of a page)."""
        if not rows:
            return
        self.note_write(model)
        connection = self.session.connection()
        plan = _write_plan(connection.dialect, model.__table__, tuple(rows[0]),
                           "insert_ignore" if ignore_existing else "insert")
        if plan is None:  # a driver with another parameter style: Core executemany
            for row in rows:
                row["user_id"] = self.user_id
            statement = model.__table__.insert()
            if ignore_existing:
                statement = statement.prefix_with("OR IGNORE", dialect="sqlite")
            self.session.execute(statement, rows)
            return
        values = plan.values(rows, self.user_id)
        if one_statement:
            per = max(1, _PARAMS_PER_INSERT // len(plan.names))
            for start in range(0, len(values), per):
                chunk = values[start : start + per]
                driver_sql.execute(connection, plan.rows_sql(len(chunk)), tuple(v for row in chunk for v in row))
            return
        # DBAPI executemany with the columns' own bind processors: SQLAlchemy's per-row
        # parameter handling cost more than the insert itself (see docs/benchmarks.md).
        connection.exec_driver_sql(plan.sql, values)

    def _update_rows(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Update rows by ``id`` (dicts with the same keys, ``id`` included), this user's only."""
        if not rows:
            return
        self.note_write(model)
        connection = self.session.connection()
        plan = _write_plan(connection.dialect, model.__table__, tuple(rows[0]), "update")
        if plan is None:
            for row in rows:
                values = {k: v for k, v in row.items() if k != "id"}
                self.session.execute(self._update(model).where(model.id == row["id"]).values(**values))
            return
        connection.exec_driver_sql(plan.sql, plan.values(rows, self.user_id))

    # -- encryption --------------------------------------------------------------
    def _aad(self, row_id: str, version: int, part: str) -> bytes:
        return f"regie-record|{self.user_id}|{row_id}|{version}|{part}".encode()

    def _decrypt_record(self, row_id: str, version: int, blob: bytes) -> dict[str, Any]:
        return orjson.loads(self.keys.cipher.decrypt(blob, self._aad(row_id, version, "record")))

    def _decrypt_record_if(self, row_id: str, version: int, blob: bytes, needle: str | None) -> dict[str, Any] | None:
        """The record, or None when its JSON text shows that no string in it contains ``needle``
        (text search: skips parsing and walking the rows that cannot match)."""
        plain = self.keys.cipher.decrypt(blob, self._aad(row_id, version, "record"))
        if needle is not None and not could_contain(plain, needle):
            return None
        return orjson.loads(plain)

    def _decrypt_original(self, row_id: str, version: int, blob: bytes) -> bytes:
        return self.keys.cipher.decrypt(blob, self._aad(row_id, version, "original"))

    # -- sources -----------------------------------------------------------------
    def source_id(self, name: str) -> str:
        name_hash = self.keys.mac("source", name)
        cached = self._source_ids.get(name_hash) or self.created_sources.get(name_hash)
        if cached is not None:
            return cached
        rows = self._rows_where_in("record_sources", "id", "name_hash", [name_hash])
        found = rows[0][0] if rows else None
        if found is not None:
            self._source_ids[name_hash] = found
            return found
        row_id = new_id()
        aad = f"regie-source|{self.user_id}|{row_id}".encode()
        self._insert(RecordSource, [{
            "id": row_id, "name_hash": name_hash,
            "name_encrypted": self.keys.cipher.encrypt(name.encode(), aad), "created_at": utcnow(),
        }])
        self._source_names = None
        self.created_sources[name_hash] = row_id
        return row_id

    def source_names(self) -> dict[str, str]:
        if self._source_names is None:
            rows = self._driver_rows("SELECT id, name_encrypted FROM record_sources WHERE user_id = ?",
                                     (self.user_id,), RecordSource.__table__, (None, None))
            self._source_names = {
                row_id: self.keys.cipher.decrypt(blob, f"regie-source|{self.user_id}|{row_id}".encode()).decode()
                for row_id, blob in rows
            }
        return self._source_names

    # -- writing -----------------------------------------------------------------
    def _identity(self, source_id: str, resource_type: str, key: str) -> str:
        return self.keys.mac("resource", source_id, resource_type, key)

    def _ref(self, resource_type: str, resource_id: str) -> str:
        """Keyed hash of (type, id) without the source: for references across sources."""
        return self.keys.mac("ref", resource_type, resource_id)

    def resolve(self, source_id: str, resource_type: str, resource_id: str) -> RecordResource | None:
        """The row a reference of ``source_id`` points at (rules: :meth:`resolve_ids`)."""
        row_id = self.resolve_ids(source_id, [(resource_type, resource_id)]).get((resource_type, resource_id))
        return self.get(row_id) if row_id is not None else None

    def resolve_ids(self, source_id: str, targets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Row ids for references ``(type, id)`` made by a resource of ``source_id``.

        A reference means the resource of its own source when that source holds one;
        otherwise the user's one resource with that type and id in another source, or,
        when several sources hold it, the group they were all grouped into (the same
        medication from the GP and the pharmacy). Anything else is ambiguous: unresolved.
        """
        wanted = {self._ref(*t): t for t in set(targets)}
        found: dict[tuple[str, str], str] = {}
        if not wanted:
            return found
        # Rows stored before every row had a ref_hash are found by identity, in their source only,
        # for the references the ref_hash finds nothing for: asked in the same statement (a second
        # branch, its own index lookup) and used below only for those.
        identity_of = {ref: self._identity(source_id, *t) for ref, t in wanted.items()}
        legacy = {identity: wanted[ref] for ref, identity in identity_of.items()}
        scope, categories = self._scope_sql()
        candidates: dict[str, list[tuple[str, str, str]]] = {}
        legacy_rows: list[tuple[str, str]] = []
        refs = sorted(wanted)
        for start in range(0, len(refs), _CHUNK):
            chunk = refs[start : start + _CHUNK]
            identities = sorted(identity_of[ref] for ref in chunk)
            marks = ", ".join("?" for _ in chunk)
            for kind, row_id, ref, row_source, group_id in self._driver_rows(
                f"SELECT 0, id, ref_hash, source_id, group_id FROM record_resources"
                f" WHERE user_id = ? AND ref_hash IN ({marks}){scope}"
                f" UNION ALL SELECT 1, id, identity, NULL, NULL FROM record_resources"
                f" WHERE user_id = ? AND identity IN ({marks}) AND ref_hash IS NULL{scope}",
                (self.user_id, *chunk, *categories, self.user_id, *identities, *categories),
                RecordResource.__table__, (None, "id", None, None, None),
            ):
                if kind == 0:
                    candidates.setdefault(ref, []).append((row_id, row_source, group_id))
                else:
                    legacy_rows.append((row_id, ref))
        for ref, rows in candidates.items():
            own = [row_id for row_id, row_source, _ in rows if row_source == source_id]
            if own:
                found[wanted[ref]] = own[0]
            elif len({group_id for _, _, group_id in rows}) == 1:
                lead = rows[0][2]
                found[wanted[ref]] = lead if any(row_id == lead for row_id, _, _ in rows) else rows[0][0]
        for row_id, identity in legacy_rows:
            if legacy[identity] not in found:
                found[legacy[identity]] = row_id
        return found

    def store_document(
        self, doc: ParsedDocument, *, source: str, file_name: str | None, now: datetime | None = None
    ) -> tuple[StoreResult, list[tuple[str, str]]]:
        """Insert or update every resource of ``doc``. Returns the result and
        (row id, "import"/"update") for each row written (for the audit trail)."""
        now = now or utcnow()
        source_id = self.source_id(source)
        result = StoreResult()
        mac = self.keys.mac
        # The same resource twice in one file: the last one counts (as a re-import would).
        # identity -> (resource, ref_hash)
        planned: dict[str, tuple[ParsedResource, str]] = {}
        for res in doc.resources:
            key = res.id or res.full_url or f"@{res.location}"
            planned[mac("resource", source_id, res.resource_type, key)] = (
                res, mac("ref", res.resource_type, _ref_key(res)))
        existing = self._existing_rows(source_id, planned)

        prepared = []
        unchanged: list[tuple[ParsedResource, str, Any]] = []
        by_type = result.by_type
        by_category = result.by_category
        mac_bytes = self.keys.mac_bytes
        for identity, (res, ref) in planned.items():
            content_hash = mac_bytes("content", res.json)
            old = existing.get(identity)
            item = res.items[0]
            by_type[res.resource_type] += 1
            by_category[item.category.value] += 1
            if old is not None and old.content_hash == content_hash:
                result.unchanged += 1
                # Links (and the ref_hash) of rows stored before they existed are added now; the
                # rows themselves stay as they are (no new version).
                unchanged.append((res, ref, old))
                continue
            m = match_key(item)
            prepared.append((res, identity, ref, content_hash, old, mac("match", m) if m else None))
        result.resources = len(planned)

        groups = self._existing_groups({p[5] for p in prepared if p[5]})
        new_rows: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        written: list[tuple[str, str]] = []
        provenance_base = {
            "source": source, "file": file_name, "fhir_version": str(doc.fhir_version),
            "format": doc.format, "bundle_type": doc.bundle_type,
        }
        encrypt = self.keys.cipher.encrypt
        aad_prefix = f"regie-record|{self.user_id}|"
        updated = [p for p in prepared if p[4] is not None]
        versions = self._version_rows([p[4].id for p in updated], now) if updated else []
        ids = _batch_ids()
        by_url = _entries_by_url(doc)
        search_entries: list[Entry] = []

        def link_rows(res: ParsedResource, row_id: str) -> None:
            targets = {mac("ref", *t) for i in res.items for x in i.links
                       if x.relation in LINK_RELATIONS and (t := _link_target(x.reference, by_url))}
            links.extend({"target_ref": t, "row_id": row_id} for t in targets)

        backfill = [{"id": old.id, "ref_hash": ref} for _, ref, old in unchanged if old.ref_hash != ref]
        self._update_rows(RecordResource, backfill)
        for res, _, old in unchanged:
            link_rows(res, old.id)
        for res, identity, ref, content_hash, old, match_hash in prepared:
            row_id = old.id if old is not None else next(ids)
            version = old.version + 1 if old is not None else 1
            item = res.items[0]
            flag_target = flag_ref = None
            if res.resource_type == "Flag":
                link = item.link("detail")
                target = _target(link.reference) if link else None
                if target:
                    flag_target = self._identity(source_id, *target)
                    flag_ref = self._ref(*target)
            record = {
                "items": [item_to_dict(i) for i in res.items],
                "provenance": {**provenance_base, "location": res.location, "full_url": res.full_url,
                               "profiles": list(res.profiles)},
            }
            aad = f"{aad_prefix}{row_id}|{version}|"
            values = {
                "resource_type": res.resource_type, "kind": item.kind[:100],
                "category": item.category.value,
                # A Patient's date is the birth date: medical, so only in the encrypted item.
                "sort_date": "" if res.resource_type in _UNDATED_TYPES else item.sort_key,
                "withdrawn": entered_in_error(item.status, ((d.label, d.text) for d in item.details)),
                "is_current": is_current(record["items"][0]),
                "match_hash": match_hash, "target_identity": flag_target, "target_ref": flag_ref,
                "ref_hash": ref,
                "content_hash": content_hash, "version": version,
                "original_encrypted": encrypt(res.json, (aad + "original").encode()),
                "record_encrypted": encrypt(orjson.dumps(record), (aad + "record").encode()),
                "updated_at": now,
            }
            link_rows(res, row_id)
            search_entries.append(entry_for(row_id, record["items"]))
            if old is None:
                group_id = groups.get(match_hash, row_id) if match_hash else row_id
                if match_hash:
                    groups.setdefault(match_hash, row_id)
                new_rows.append({"id": row_id, "source_id": source_id, "identity": identity,
                                 "group_id": group_id, "arrived_at": now, **values})
                written.append((row_id, "import"))
                result.new += 1
            else:
                group_id = old.group_id
                if match_hash != old.match_hash:
                    self._leave_group(old.id, old.group_id)
                    group_id = groups.get(match_hash, row_id) if match_hash else row_id
                    if match_hash:
                        groups.setdefault(match_hash, row_id)
                changed.append({"id": old.id, "group_id": group_id, **values})
                written.append((row_id, "update"))
                result.updated += 1
        self._insert(RecordResourceVersion, versions)
        self._update_rows(RecordResource, changed)
        self._insert(RecordResource, new_rows)
        # Rows stored before may have their links already: those are left as they are.
        self._insert(RecordLink, links, ignore_existing=bool(changed or unchanged))
        self._add_search_segment(search_entries, now)
        return result, written

    # -- the encrypted search index (regie.store.record_search) ------------------------
    #: Segments with fewer rows than this are merged once there are more than _SMALL_SEGMENTS.
    _SMALL_ROWS = 4096
    _SMALL_SEGMENTS = 16

    def _search_aad(self, segment_id: str) -> bytes:
        return f"regie-search|{self.user_id}|{segment_id}".encode()

    def _add_search_segment(self, entries: list[Entry], now: datetime) -> None:
        """Index the rows just written (append only), then merge small segments if many."""
        if not entries:
            return
        self._write_segment(entries, now)
        small = self.session.execute(
            self._select(RecordSearchSegment, RecordSearchSegment.id)
            .where(RecordSearchSegment.row_count < self._SMALL_ROWS)).all()
        if len(small) > self._SMALL_SEGMENTS:
            self._merge_segments([row.id for row in small])

    def _write_segment(self, entries: list[Entry], now: datetime) -> str:
        segment_id = new_id()
        self._insert(RecordSearchSegment, [{
            "id": segment_id, "row_count": len(entries), "created_at": now,
            "index_encrypted": self.keys.cipher.encrypt(encode_segment(entries), self._search_aad(segment_id)),
        }])
        return segment_id

    def _segments(self, ids: Sequence[str] | None = None) -> list[tuple[Any, Segment]]:
        statement = (self._select(RecordSearchSegment) if ids is None
                     else self._select_ids(RecordSearchSegment, ids))
        rows = self.session.scalars(statement.order_by(RecordSearchSegment.created_at, RecordSearchSegment.id)).all()
        return [(row, Segment.decode(self.keys.cipher.decrypt(row.index_encrypted, self._search_aad(row.id))))
                for row in rows]

    def _merge_segments(self, ids: list[str]) -> None:
        """Replace segments by one (by id: segments another import adds meanwhile stay)."""
        pairs = self._segments(ids)
        if len(pairs) < 2:
            return
        self._write_segment(merge([segment for _, segment in pairs]), max(row.created_at for row, _ in pairs))
        self.session.execute(delete(RecordSearchSegment).where(
            RecordSearchSegment.user_id == self.user_id, RecordSearchSegment.id.in_([row.id for row, _ in pairs])))

    def replace_search_index(self, entries: list[Entry], now: datetime, *, chunk: int = 8192) -> None:
        """The reindex: the given entries replace the segments there were (read first: a
        segment an import adds while this runs is kept)."""
        old = [row.id for row in self.session.execute(self._select(RecordSearchSegment, RecordSearchSegment.id))]
        if old:
            self.session.execute(delete(RecordSearchSegment).where(
                RecordSearchSegment.user_id == self.user_id, RecordSearchSegment.id.in_(old)))
        for start in range(0, len(entries), chunk):
            self._write_segment(entries[start:start + chunk], now)

    def search_index(self) -> SearchIndex | None:
        """The user's search index; None while the user waits for a reindex (rows stored
        before the index existed are not in it: callers read every row then)."""
        pending = self.session.scalar(
            select(RecordReindexPending.user_id).where(RecordReindexPending.user_id == self.user_id))
        if pending is not None:
            return None
        return SearchIndex([segment for _, segment in self._segments()])

    def _existing_rows(self, source_id: str, planned: dict[str, tuple[ParsedResource, str]]) -> dict[str, Any]:
        """identity -> stored row, for the resources about to be stored from ``source_id``."""
        by_ref = {ref: identity for identity, (_, ref) in planned.items()}
        existing: dict[str, Any] = {}
        refs = list(by_ref)
        columns = "id, identity, ref_hash, content_hash, version, match_hash, group_id"
        for start in range(0, len(refs), _CHUNK):
            for row in self._rows_where_in("record_resources", columns, "ref_hash", refs[start : start + _CHUNK],
                                           " AND source_id = ?", (source_id,)):
                existing[by_ref[row.ref_hash]] = row
        missing = [identity for identity in planned if identity not in existing]
        for start in range(0, len(missing), _CHUNK):
            # Rows stored before every row had a ref_hash (the partial index holds only those).
            for row in self._rows_where_in("record_resources", columns, "identity", missing[start : start + _CHUNK],
                                           " AND ref_hash IS NULL"):
                existing[row.identity] = row
        return existing

    def _version_rows(self, row_ids: list[str], now: datetime) -> list[dict[str, Any]]:
        """The current versions of rows about to be updated, as version-table rows."""
        out = []
        for start in range(0, len(row_ids), _CHUNK):
            for old in self.session.execute(
                self._select_ids(RecordResource, row_ids[start : start + _CHUNK], RecordResource.id,
                                 RecordResource.version, RecordResource.original_encrypted,
                                 RecordResource.record_encrypted, RecordResource.updated_at)
            ):
                # The blobs are copied as they are: their associated data names (row id, version).
                out.append({"id": new_id(), "resource_id": old.id, "version": old.version,
                            "original_encrypted": old.original_encrypted,
                            "record_encrypted": old.record_encrypted,
                            "arrived_at": old.updated_at, "superseded_at": now})
        return out

    def _existing_groups(self, hashes: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        ordered = sorted(hashes)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            for match_hash, group_id in self._rows_where_in(
                    "record_resources", "match_hash, group_id", "match_hash", chunk, " AND id = group_id"):
                found[match_hash] = group_id
        return found

    def _leave_group(self, row_id: str, group_id: str) -> None:
        """A row whose match key changed leaves its group; a new first member leads it."""
        if group_id != row_id:
            return
        members = self.session.scalars(
            self._select(RecordResource, RecordResource.id)
            .where(RecordResource.group_id == row_id, RecordResource.id != row_id)
            .order_by(RecordResource.arrived_at, RecordResource.id)
        ).all()
        if members:
            self.session.execute(
                self._update(RecordResource).where(RecordResource.id.in_(members))
                .values(group_id=members[0])
            )

    # -- reading -----------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        rows = self.session.execute(
            self._select(RecordResource, RecordResource.resource_type, RecordResource.category,
                         RecordResource.source_id, func.count())
            # In the order of ix_record_resources_user_counts: an index-only scan, no sorting.
            .group_by(RecordResource.source_id, RecordResource.category, RecordResource.resource_type)
        ).all()
        by_type: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        names = self.source_names() if rows else {}
        for resource_type, category, source_id, count in rows:
            by_type[resource_type] += count
            categories[category] += count
            sources[names.get(source_id, source_id)] += count
        return {
            "resources": sum(by_type.values()),
            "by_type": dict(sorted(by_type.items())),
            "categories": dict(sorted(categories.items())),
            "sources": dict(sorted(sources.items())),
        }

    def version_count(self, row_id: str) -> int:
        rows = self._driver_rows("SELECT count(*) FROM record_resource_versions WHERE user_id = ? AND resource_id = ?",
                                 (self.user_id, row_id), RecordResourceVersion.__table__, (None,))
        return rows[0][0] or 0

    def page(
        self, *, category: str | None = None, since: str | None = None, q: str | None = None,
        cursor: str | None = None, limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Record items, newest first, one per group. ``since`` is a sort key (UTC)."""
        # As record_sql.GROUP_HEAD: a condition PostgreSQL can estimate (migration 0025).
        base = self._select(RecordResource).where((RecordResource.group_id == RecordResource.id).is_(True))
        if category:
            base = base.where(RecordResource.category == category)
        if since:
            base = base.where(RecordResource.sort_date >= since)
        position = decode_cursor(cursor, 2) if cursor else None
        needle = q.casefold().strip() if q else None
        # The search index names the rows that can match (docs/storage.md): only they are decrypted.
        index = self.search_index() if needle and SearchIndex.answers(needle) else None
        candidates = index.candidates(needle) if index is not None and needle else None
        if candidates is not None:
            if not candidates:
                return [], None
            if len(candidates) <= 2000:
                base = base.where(RecordResource.id.in_(sorted(candidates)))
                candidates = None
        found: list[tuple[RecordResource, dict[str, Any]]] = []
        batch = limit + 1 if needle is None else max(200, limit + 1)
        while len(found) <= limit:
            statement = base
            if position is not None:
                # A row value: an index range (the equivalent OR scans the user's whole index).
                statement = statement.where(tuple_(RecordResource.sort_date, RecordResource.id) < tuple(position))
            rows = self.session.scalars(
                statement.order_by(RecordResource.sort_date.desc(), RecordResource.id.desc()).limit(batch)
            ).all()
            for row in rows:
                if candidates is not None and row.id not in candidates:
                    continue
                record = self._decrypt_record_if(row.id, row.version, row.record_encrypted, needle)
                if record is None:
                    continue
                if needle is None or any(needle in s.casefold() for s in searched_strings(record["items"])):
                    found.append((row, record))
                    if len(found) > limit:
                        break
            if len(rows) < batch:
                break
            position = [rows[-1].sort_date, rows[-1].id]
        more = len(found) > limit
        found = found[:limit]
        next_cursor = encode_cursor([found[-1][0].sort_date, found[-1][0].id]) if more and found else None
        groups = self._groups([row for row, _ in found])
        names = self.source_names()
        items = []
        for row, record in found:
            item = self._enrich(row, record["items"][0])
            members = groups.get(row.match_hash, [(row.id, row.source_id)]) if row.match_hash else [(row.id, row.source_id)]
            items.append({
                "id": row.id, **item,
                "sources": sorted({names.get(s, s) for _, s in members}),
                "group": [member_id for member_id, _ in members if member_id != row.id],
            })
        return items, next_cursor

    def _groups(self, rows: Iterable[RecordResource]) -> dict[str, list[tuple[str, str]]]:
        hashes = sorted({r.match_hash for r in rows if r.match_hash})
        groups: dict[str, list[tuple[str, str]]] = {}
        scope, categories = self._scope_sql()
        for start in range(0, len(hashes), _CHUNK):
            chunk = hashes[start : start + _CHUNK]
            for row_id, source_id, match_hash in self._driver_rows(
                f"SELECT id, source_id, match_hash FROM record_resources WHERE user_id = ? AND match_hash IN"
                f" ({', '.join('?' for _ in chunk)}){scope} ORDER BY arrived_at, id",
                (self.user_id, *chunk, *categories), RecordResource.__table__, (None, None, None),
            ):
                groups.setdefault(match_hash, []).append((row_id, source_id))
        return groups

    def _enrich(self, row: RecordResource | _DetailRow, item: dict[str, Any]) -> dict[str, Any]:
        """Cross-file enrichment at read time: attention flags and medication products."""
        if row.resource_type == "EpisodeOfCare":
            flags = self._flags_for(row, item)
            if flags:
                flag_items = [item_from_dict(self._decrypt_record(f.id, f.version, f.record_encrypted)["items"][0])
                              for f in flags]
                # Give the episode the flag's view of the reference (it may be from another source).
                episode = item_from_dict(item)
                enriched = apply_attention_flags([episode, *[_point_at(f, episode) for f in flag_items]])[0]
                return item_to_dict(enriched)
            return item
        links = [x for x in item.get("links", ()) if x.get("relation") == "medication"]
        if links and not item.get("codes"):
            target = _target(links[0].get("reference"))
            if target and target[0] == "Medication":
                product = self.resolve(row.source_id, *target)
                if product is not None:
                    med = item_from_dict(self._decrypt_record(
                        product.id, product.version, product.record_encrypted)["items"][0])
                    event = item_from_dict(item)
                    from dataclasses import replace

                    med = replace(med, resource_id=target[1])
                    event = replace(event, links=tuple(
                        replace(x, reference=f"Medication/{target[1]}") if x.relation == "medication" else x
                        for x in event.links))
                    resolved = resolve_medication([event, med])[0]
                    out = item_to_dict(resolved)
                    out["links"] = item["links"]
                    return out
        return item

    def _flags_for(self, row: RecordResource | _DetailRow, item: dict[str, Any]) -> list[RecordResource]:
        """Flags pointing at an episode: those of its source, and those of other sources whose
        reference resolves to this episode (or to one grouped with it; see :meth:`resolve_ids`)."""
        resource_id = item.get("resource_id")
        flag = RecordResource.resource_type == "Flag"
        own = list(self.session.scalars(
            self._select(RecordResource).where(RecordResource.target_identity == row.identity, flag)).all())
        if not resource_id:
            return own
        # Two queries, not an OR: each one is an index lookup on its own column.
        target = (row.resource_type, resource_id)
        others = [f for f in self.session.scalars(
            self._select(RecordResource).where(RecordResource.target_ref == self._ref(*target), flag)).all()
            if f.target_identity != row.identity]
        resolved: dict[str, str | None] = {}
        for other in others:
            if other.source_id not in resolved:
                resolved[other.source_id] = self.resolve_ids(other.source_id, [target]).get(target)
            found = resolved[other.source_id]
            if found is not None and (found == row.id or found == row.group_id
                                      or self._group_of(found) == row.group_id):
                own.append(other)
        return own

    def _group_of(self, row_id: str) -> str | None:
        return self.session.scalar(self._select(RecordResource, RecordResource.group_id)
                                   .where(RecordResource.id == row_id))

    def get(self, row_id: str) -> RecordResource | None:
        return self.session.scalar(self._select(RecordResource).where(RecordResource.id == row_id))

    def _detail_rows(self, row_id: str) -> tuple[_DetailRow, list[tuple[str, str]], dict[str, str]] | None:
        """The row, its group's members ``(id, source id)`` and the names of their sources
        (only those: not every source of the user), in one statement; None when not visible."""
        scope, categories = self._scope_sql("record_resources.")
        own_scope, _ = self._scope_sql("own.")
        rows = self._driver_rows(
            _DETAIL_SQL.format(scope=scope, own_scope=own_scope),
            (self.user_id, row_id, *categories, self.user_id, self.user_id, row_id, *categories, *categories),
            RecordResource.__table__, _DETAIL_NAMES)
        if not rows or rows[0][0] != 0:
            return None
        first = rows[0]
        row = _DetailRow(*first[1:11])
        blobs = {row.source_id: first[11]}
        members = []
        for _, member_id, source_id, *_, blob in rows[1:]:
            members.append((member_id, source_id))
            blobs.setdefault(source_id, blob)
        decrypt = self.keys.cipher.decrypt
        names = {source_id: decrypt(blob, f"regie-source|{self.user_id}|{source_id}".encode()).decode()
                 for source_id, blob in blobs.items() if blob is not None}
        return row, members, names

    def detail(self, row_id: str) -> dict[str, Any] | None:
        found = self._detail_rows(row_id)
        if found is None:
            return None
        row, members, names = found
        record = self._decrypt_record(row.id, row.version, row.record_encrypted)
        item = self._enrich(row, record["items"][0])
        targets = {t for link in item.get("links", ()) if (t := _target(link.get("reference")))}
        resolved = self.resolve_ids(row.source_id, targets) if targets else {}
        links = []
        for link in item.get("links", ()):
            target = _target(link.get("reference"))
            links.append({**link, "item_id": resolved.get(target) if target else None})
        return {
            "id": row.id, **item, "links": links,
            "more_items": record["items"][1:],
            "provenance": {**record["provenance"], "source": names.get(row.source_id, record["provenance"]["source"]),
                           "arrived_at": row.arrived_at.isoformat(), "updated_at": row.updated_at.isoformat(),
                           "version": row.version,
                           # A row at version 1 was never updated: no older versions to count.
                           "previous_versions": self.version_count(row.id) if row.version > 1 else 0},
            "group": [{"id": member_id, "source": names.get(source_id, source_id)}
                      for member_id, source_id in members if member_id != row.id],
        }

    def source_rows(self, source: str, category: str | None = None) -> list[tuple[RecordResource, bytes]]:
        """Current rows of one source (e.g. "self"), newest first, with their original FHIR JSON."""
        source_id = self._source_ids.get(self.keys.mac("source", source)) or self.session.scalar(
            self._select(RecordSource, RecordSource.id).where(RecordSource.name_hash == self.keys.mac("source", source))
        )
        if source_id is None:
            return []
        statement = self._select(RecordResource).where(RecordResource.source_id == source_id)
        if category:
            statement = statement.where(RecordResource.category == category)
        rows = self.session.scalars(
            statement.order_by(RecordResource.sort_date.desc(), RecordResource.id.desc())
        ).all()
        return [(row, self._decrypt_original(row.id, row.version, row.original_encrypted)) for row in rows]

    def row_for(self, source: str, resource_type: str, resource_id: str) -> str | None:
        """The row id of a resource (by source name, type and id), or None."""
        source_id = self.source_id(source)
        # ``resource_id`` is the key the store used: the id, else a fullUrl or "@place in the file".
        key = resource_id if _FHIR_ID.fullmatch(resource_id) else "\x1e" + resource_id
        found = self.session.scalar(self._select(RecordResource, RecordResource.id).where(
            RecordResource.ref_hash == self._ref(resource_type, key), RecordResource.source_id == source_id))
        if found is None:  # a row stored before every row had a ref_hash
            found = self.session.scalar(self._select(RecordResource, RecordResource.id).where(
                RecordResource.identity == self._identity(source_id, resource_type, resource_id),
                RecordResource.ref_hash.is_(None)))
        return found

    def source_of(self, row_id: str) -> str | None:
        """The source name of one row (None when the row is not this user's)."""
        row = self.get(row_id)
        return self.source_names().get(row.source_id) if row is not None else None

    def original(self, row_id: str) -> bytes | None:
        scope, categories = self._scope_sql()
        rows = self._driver_rows(
            f"SELECT id, version, original_encrypted FROM record_resources WHERE user_id = ? AND id = ?{scope}",
            (self.user_id, row_id, *categories), RecordResource.__table__, (None, None, None))
        if not rows:
            return None
        found_id, version, blob = rows[0]
        return self._decrypt_original(found_id, version, blob)

    def previous_originals(self, row_id: str) -> list[tuple[int, bytes]]:
        rows = self.session.execute(
            self._select(RecordResourceVersion, RecordResourceVersion.version,
                         RecordResourceVersion.original_encrypted)
            .where(RecordResourceVersion.resource_id == row_id).order_by(RecordResourceVersion.version)
        ).all()
        return [(v, self._decrypt_original(row_id, v, blob)) for v, blob in rows]

    # -- audit -------------------------------------------------------------------
    def audit(self, actor_id: str, action: str, targets: Iterable[str], channel: str) -> None:
        self.audit_entries(actor_id, [(action, target) for target in targets], channel)

    def audit_entries(self, actor_id: str, entries: Iterable[tuple[str, str]], channel: str) -> None:
        """Audit entries ``(action, target)`` of one moment, in one statement (a page that
        writes two kinds, such as the start page's "overview" and "list", pays one)."""
        assert channel in CHANNELS, channel
        scope = acting.scope_for(self.user_id)
        actor_id = scope.actor_id if scope is not None else actor_id  # a delegate is named, not the owner
        now = utcnow()
        entries = list(entries)
        connection = self.session.connection()
        if (len(entries) > 1 and connection.dialect.name == "postgresql"
                and not any("," in action or "," in target for action, target in entries)):  # ids never have one
            self._audit_as_arrays(connection, actor_id, entries, channel, now)
            return
        self._insert(AuditEntry, [
            {"id": new_id(), "actor_id": actor_id, "action": action, "target": target,
             "channel": channel, "at": now}
            for action, target in entries
        ], one_statement=True)

    def _audit_as_arrays(self, connection: Any, actor_id: str, entries: list[tuple[str, str]], channel: str,
                         now: datetime) -> None:
        """A page's audit entries (one per item shown) as one statement of fixed shape with three
        lists. psycopg converts a statement with more than 50 parameters anew on every run
        (a regular-expression pass over the SQL): for the 700 parameters of a page's 100
        entries that cost 2-3 ms of CPU, a sixth of a whole page (docs/benchmarks.md, Load)."""
        at = _audit_at_processor(connection.dialect)
        driver_sql.execute(connection, _AUDIT_FROM_ARRAYS, (
            actor_id, channel, at(now) if at else now, self.user_id,
            ",".join(new_id() for _ in entries), ",".join(action for action, _ in entries),
            ",".join(target for _, target in entries)))

    def audit_page(self, cursor: str | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        statement = self._select(AuditEntry)
        if cursor:
            at_text, entry_id = decode_cursor(cursor, 2)
            try:
                at = datetime.fromisoformat(at_text)
            except ValueError as exc:
                raise BadCursor("The cursor is not one this server gave out.") from exc
            statement = statement.where((AuditEntry.at < at) | ((AuditEntry.at == at) & (AuditEntry.id < entry_id)))
        rows = self.session.scalars(
            statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [{"id": r.id, "at": r.at.isoformat(), "actor_id": r.actor_id, "action": r.action,
                    "target": r.target, "channel": r.channel} for r in rows]
        next_cursor = encode_cursor([rows[-1].at.isoformat(), rows[-1].id]) if more and rows else None
        return entries, next_cursor


def _point_at(flag, episode):
    """The flag item with its detail link written as the episode's ``Type/id``."""
    from dataclasses import replace

    return replace(flag, links=tuple(
        replace(x, reference=f"EpisodeOfCare/{episode.resource_id}") if x.relation == "detail" else x
        for x in flag.links))


__all__ = ["BadCursor", "CHANNELS", "CURRENT_STATUSES", "ParsedResource", "RecordRepository", "StoreResult",
           "UserKeys", "is_current"]
