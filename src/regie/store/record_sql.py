"""Driver SQL for the record viewer's hot reads (used by :mod:`regie.store.record_queries`).

An overview or a category page reads ``record_resources`` a handful of times per request.
Building each read with SQLAlchemy (expressions, cache keys, expanding IN lists) and handling
its result took more CPU than the database needed to answer it (docs/benchmarks.md). These
reads have a few fixed shapes, so their text is built once per dialect and shape, run with
:mod:`regie.store.driver_sql` on the session's connection (statement listeners still see them)
and their values converted by the columns' own result processors (the UTC datetimes).

Every statement here starts with ``user_id = ?`` and applies the delegate's category scope
(:attr:`regie.store.record.RecordRepository.categories`): callers pass both in.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from regie.store import driver_sql
from regie.store.driver_sql import mark_of
from regie.store.record_models import AuditEntry, RecordResource

_TABLE = RecordResource.__table__


class ListRow(NamedTuple):
    """The columns a list shows (never the possibly large original)."""

    id: str
    version: int
    record_encrypted: bytes
    source_id: str
    sort_date: str
    category: str
    kind: str
    resource_type: str
    match_hash: str | None
    identity: str
    arrived_at: Any
    updated_at: Any


class ScanRow(NamedTuple):
    """What a content filter (text, status, code) needs to decide on a row."""

    id: str
    version: int
    record_encrypted: bytes
    sort_date: str


class KeyRow(NamedTuple):
    """A row's place in date order (walking many search-index candidates)."""

    id: str
    sort_date: str


LIST = ListRow
SCAN = ScanRow
KEYS = KeyRow


@lru_cache(maxsize=64)
def _processors(dialect_name: str, dialect: Any, table: Any,
                names: tuple[str | None, ...]) -> tuple[tuple[int, Any], ...]:
    """(index, result processor) of the columns of ``table`` in ``names`` that need one (a
    name that is None or no column of ``table``: the value as the driver gives it); per dialect."""
    del dialect_name  # part of the cache key only
    found = []
    for i, name in enumerate(names):
        column = table.c.get(name)
        if column is None:
            continue
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            found.append((i, process))
    return tuple(found)


def read(connection: Any, sql: str, params: Sequence[Any], row_type: type[NamedTuple] | None = None,
         names: tuple[str | None, ...] | None = None, table: Any = _TABLE) -> list[Any]:
    """Rows of driver ``sql`` (already written with the dialect's parameter mark), as
    ``row_type`` tuples (its fields are the column names) or plain tuples named by ``names``
    (columns of ``table``) for the processors (None: the values as the driver gives them)."""
    dialect = connection.dialect
    if row_type is not None:
        names = row_type._fields
    rows = driver_sql.fetch_all(connection, sql, params, binary=_has_blobs(names))
    processors = _processors(dialect.name, dialect, table, names) if names else ()
    if not processors:
        return [row_type._make(row) for row in rows] if row_type is not None else rows
    out = []
    for row in rows:
        values = list(row)
        for i, process in processors:
            if values[i] is not None:
                values[i] = process(values[i])
        out.append(row_type._make(values) if row_type is not None else tuple(values))
    return out


@lru_cache(maxsize=256)
def _has_blobs(names: tuple[str | None, ...] | None) -> bool:
    """Whether a statement's columns include an encrypted blob (read in binary format)."""
    return any(name and name.endswith("_encrypted") for name in names or ())


def _in(mark: str, count: int) -> str:
    return f"({', '.join(mark for _ in range(count))})"


def scope_sql(mark: str, scope: int | None) -> str:
    """The delegate's category scope of ``scope`` categories (None: no scope)."""
    if scope is None:
        return ""
    if scope == 0:
        return " AND 1 = 0"
    return f" AND record_resources.category IN {_in(mark, scope)}"


def scope_params(categories: Collection[str] | None) -> tuple[str, ...]:
    return tuple(sorted(categories)) if categories else ()


class Filtered(NamedTuple):
    """Which plain-column filters of :class:`regie.store.record_queries.Filters` are set
    (and how many values an IN list has): part of a statement's shape."""

    category: bool
    categories: int
    source: bool
    since: bool
    before: bool
    types: int
    status: str | None = None  # "current" / "past": pre-selected on the plain flag


#: The plain flag's pre-selection of a status filter. NULL (not known) passes both: those
#: rows are decided after decrypting (regie.store.record_queries._matches), so the flag can
#: only spare work, never hide a row that is known only from its decrypted status.
_STATUS_SQL = {"current": "record_resources.is_current IS NOT FALSE",
               "past": "record_resources.is_current IS NOT TRUE"}


def filtered(filters: Any) -> Filtered:
    return Filtered(bool(filters.category), len(filters.categories), bool(filters.source_id), bool(filters.since),
                    bool(filters.before), len(filters.resource_types),
                    filters.status if filters.status in _STATUS_SQL else None)


def _filter_sql(m: str, shape: Filtered) -> list[str]:
    where = []
    if shape.category:
        where.append(f"record_resources.category = {m}")
    if shape.categories:
        where.append(f"record_resources.category IN {_in(m, shape.categories)}")
    if shape.source:
        where.append(f"record_resources.source_id = {m}")
    if shape.since:
        where.append(f"record_resources.sort_date >= {m}")
    if shape.before:
        where.append(f"record_resources.sort_date < {m}")
    if shape.types:
        where.append(f"record_resources.resource_type IN {_in(m, shape.types)}")
    if shape.status:
        where.append(_STATUS_SQL[shape.status])
    return where


def _filter_params(filters: Any) -> list[Any]:
    """The parameters of :func:`_filter_sql`, in its order."""
    params: list[Any] = []
    if filters.category:
        params.append(filters.category)
    params += filters.categories
    if filters.source_id:
        params.append(filters.source_id)
    if filters.since:
        params.append(filters.since)
    if filters.before:
        params.append(filters.before)
    params += filters.resource_types
    return params


class Shape(NamedTuple):
    """What varies between the viewer's list reads: every field is part of the SQL text."""

    dialect: str
    mark: str
    names: tuple[str, ...]
    scope: int | None
    grouped: bool
    filters: Filtered
    ids: int
    after: bool  # a cursor position (sort_date, id)
    ascending: bool
    visible_only: bool  # leave the withdrawn rows out in the database


#: One row per group of duplicates: its head. Written as a test of the comparison, not the bare
#: comparison: PostgreSQL cannot estimate "group_id = id" (two columns of one row: it assumes
#: 0.5 % of the rows match) and then reads a category's every row and sorts them for a page of
#: 50; the comparison as an expression has statistics of its own (migration 0025), so it knows
#: nearly every row is a head and reads the page from the date index. Same rows on SQLite.
GROUP_HEAD = "(record_resources.group_id = record_resources.id) IS TRUE"


def _scan_parts(shape: Shape) -> tuple[str, str, str]:
    """(columns, conditions, order) of a list scan."""
    m = shape.mark
    where = [f"record_resources.user_id = {m}{scope_sql(m, shape.scope)}"]
    if shape.grouped:
        where.append(GROUP_HEAD)
    where += _filter_sql(m, shape.filters)
    if shape.ids:
        where.append(f"record_resources.id IN {_in(m, shape.ids)}")
    if shape.visible_only:
        where.append("NOT record_resources.withdrawn")
    if shape.after:
        # A row value, not "a < x OR (a = x AND b < y)": SQLite turns that OR into a scan of
        # the user's whole index (every next batch slower); this is an index range.
        where.append(f"(record_resources.sort_date, record_resources.id) {'>' if shape.ascending else '<'} ({m}, {m})")
    direction = "ASC" if shape.ascending else "DESC"
    columns = ", ".join(f"record_resources.{name}" for name in shape.names)
    return columns, " AND ".join(where), f"record_resources.sort_date {direction}, record_resources.id {direction}"


@lru_cache(maxsize=512)
def scan_sql(shape: Shape) -> str:
    """``SELECT names FROM record_resources WHERE user_id = ? ... ORDER BY date LIMIT ?``:
    the statement :meth:`RecordQueries.scan` used to build with SQLAlchemy, same conditions."""
    columns, where, order = _scan_parts(shape)
    return f"SELECT {columns} FROM record_resources WHERE {where} ORDER BY {order} LIMIT {shape.mark}"


@lru_cache(maxsize=64)
def batches_sql(shapes: tuple[Shape, ...]) -> str:
    """The first batch of several scans in one statement: each scan's rows numbered in its
    own order (``part``, ``n``, then its columns), ordered by both, so the order of every
    part is its own ORDER BY's, whatever the database does with the UNION."""
    branches = []
    for i, shape in enumerate(shapes):
        columns, where, order = _scan_parts(shape)
        branches.append(f"SELECT * FROM (SELECT {i} AS part, row_number() OVER (ORDER BY {order}) AS n, {columns}"
                        f" FROM record_resources WHERE {where} ORDER BY {order} LIMIT {shape.mark}) AS part{i}")
    return " UNION ALL ".join(branches) + " ORDER BY 1, 2"


def _scan_params(user_id: str, scope: Collection[str] | None, filters: Any, ids: Sequence[str],
                 after: Sequence[Any] | None, limit: int) -> list[Any]:
    params = [user_id, *scope_params(scope), *_filter_params(filters), *ids]
    if after is not None:
        params += after
    params.append(limit)
    return params


def batches_statement(connection: Any, user_id: str, scope: Collection[str] | None,
                      parts: Sequence[tuple[Any, bool, bool, int]]) -> tuple[str, tuple[Any, ...]]:
    """(sql, parameters) of the first batch, every list column, of each of ``parts``:
    (filters, ascending, visible_only, limit), no cursor, no ids (see :func:`batches_sql`)."""
    dialect = connection.dialect
    mark = mark_of(dialect)
    scoped = None if scope is None else len(scope)
    shapes = tuple(Shape(dialect.name, mark, ListRow._fields, scoped, True, filtered(filters), 0, False, ascending,
                         visible_only) for filters, ascending, visible_only, _ in parts)
    params: list[Any] = []
    for filters, _, _, limit in parts:
        params += _scan_params(user_id, scope, filters, (), None, limit)
    return batches_sql(shapes), tuple(params)


def scan_statement(connection: Any, user_id: str, scope: Collection[str] | None, filters: Any, *,
                   names: tuple[str, ...], grouped: bool = True, ids: Sequence[str] = (),
                   after: Sequence[Any] | None = None, ascending: bool = False, visible_only: bool = False,
                   limit: int) -> tuple[str, tuple[Any, ...]]:
    """(sql, parameters) of one batch of a list scan (see :func:`scan_sql`)."""
    dialect = connection.dialect
    shape = Shape(dialect.name, mark_of(dialect), names, None if scope is None else len(scope), grouped,
                  filtered(filters), len(ids), after is not None, ascending, visible_only)
    return scan_sql(shape), tuple(_scan_params(user_id, scope, filters, ids, after, limit))


def withdrawn_user_sql(dialect_name: str, m: str) -> str:
    """The user condition of a read of the withdrawn rows. SQLite has no statistics and would
    rather take a (user_id, ...) index in the order of the GROUP BY and read every row of the
    user: there it is written as ``user_id || ''``, which leaves the small partial index
    (covering) as the way in. PostgreSQL picks that index by its statistics."""
    if dialect_name == "sqlite":
        return f"record_resources.withdrawn AND record_resources.user_id || '' = {m}"
    return f"record_resources.withdrawn AND record_resources.user_id = {m}"


@lru_cache(maxsize=256)
def period_counts_sql(dialect_name: str, m: str, scope: int | None, shape: Filtered, width: int) -> str:
    """Rows per period (``0``) and withdrawn rows per period (``1``) in one statement: two
    index-only reads (the date index, the small partial index of the withdrawn rows)."""
    period = f"substr(record_resources.sort_date, 1, {int(width)})"
    conditions = "".join(f" AND {c}" for c in _filter_sql(m, shape))
    tail = f"{scope_sql(m, scope)}{conditions} AND record_resources.sort_date != ''"
    return (f"SELECT 0 AS hidden, {period} AS period, count(*) AS n FROM record_resources"
            f" WHERE record_resources.user_id = {m}{tail} GROUP BY {period}"
            f" UNION ALL SELECT 1, {period}, count(*) FROM record_resources"
            f" WHERE {withdrawn_user_sql(dialect_name, m)}{tail} GROUP BY {period}"
            f" ORDER BY 1, 2 DESC")


def period_counts_statement(connection: Any, user_id: str, scope: Collection[str] | None, filters: Any,
                            width: int) -> tuple[str, tuple[Any, ...]]:
    dialect = connection.dialect
    sql = period_counts_sql(dialect.name, mark_of(dialect), None if scope is None else len(scope),
                            filtered(filters)._replace(status=None), width)  # counts every row
    params = (user_id, *scope_params(scope), *_filter_params(filters))
    return sql, params + params


#: Names of the columns of :func:`sources_statement` (for the result processors).
SOURCES_NAMES = ("hidden", "source_id", "category", "count", "updated_at", "changed")


@lru_cache(maxsize=64)
def _sources_sql(dialect_name: str, m: str, scope: int | None, since: bool) -> str:
    changed = "sum(CASE WHEN record_resources.updated_at > {m} THEN 1 ELSE 0 END)".format(m=m) if since else "0"
    scope_part = scope_sql(m, scope)
    return (f"SELECT 0 AS hidden, record_resources.source_id, record_resources.category, count(*) AS n,"
            f" max(record_resources.updated_at) AS last, {changed} AS changed FROM record_resources"
            f" WHERE record_resources.user_id = {m}{scope_part}"
            " GROUP BY record_resources.source_id, record_resources.category"
            f" UNION ALL SELECT 1, record_resources.source_id, record_resources.category, count(*), NULL, {changed}"
            f" FROM record_resources WHERE {withdrawn_user_sql(dialect_name, m)}{scope_part}"
            " GROUP BY record_resources.source_id, record_resources.category")


def sources_statement(connection: Any, user_id: str, scope: Collection[str] | None,
                      since: Any) -> tuple[str, tuple[Any, ...]]:
    """Rows (``0``) and withdrawn rows (``1``) per source and category, with the last change
    and how many changed after ``since``, in one statement (two index-only reads). The first
    half's rows come first, in the order its GROUP BY gives them, as before."""
    dialect = connection.dialect
    sql = _sources_sql(dialect.name, mark_of(dialect), None if scope is None else len(scope), since is not None)
    scoped = scope_params(scope)
    if since is None:
        return sql, (user_id, *scoped, user_id, *scoped)
    at = _bind(dialect, "updated_at")(since)
    return sql, (at, user_id, *scoped, at, user_id, *scoped)


@lru_cache(maxsize=16)
def _bind_processor(dialect_name: str, dialect: Any, table: Any, name: str) -> Any:
    del dialect_name  # part of the cache key only
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else (lambda value: value)


def _bind(dialect: Any, name: str, table: Any = _TABLE) -> Any:
    """The column's own parameter conversion (a UTC datetime to the stored form)."""
    return _bind_processor(dialect.name, dialect, table, name)


_LAST_VISIT = ("SELECT audit_entries.at FROM audit_entries WHERE audit_entries.user_id = ?"
               " AND audit_entries.action = 'overview' AND audit_entries.actor_id = ?{before}"
               " ORDER BY audit_entries.at DESC, audit_entries.id DESC LIMIT 1")


def last_visit(connection: Any, user_id: str, actor_id: str, before: Any = None) -> Any:
    """When ``actor_id`` last opened the overview of ``user_id``'s record (None: never);
    with ``before``, the last time before that moment (the start of this session)."""
    sql = _LAST_VISIT.format(before=" AND audit_entries.at < ?" if before is not None else "")
    params = (user_id, actor_id) if before is None else (
        user_id, actor_id, _bind(connection.dialect, "at", AuditEntry.__table__)(before))
    rows = read(connection, sql.replace("?", mark_of(connection.dialect)), params,
                names=("at",), table=AuditEntry.__table__)
    return rows[0][0] if rows else None


__all__ = ["KEYS", "LIST", "SCAN", "KeyRow", "ListRow", "ScanRow", "batches_statement", "last_visit", "mark_of", "period_counts_statement", "read",
           "scan_statement", "scope_params", "sources_statement", "SOURCES_NAMES", "scope_sql", "withdrawn_user_sql"]
