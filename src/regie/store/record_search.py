"""The per-user encrypted search index: what text search and trend pages read instead of
decrypting every row (docs/storage.md, "Text search").

Each stored document adds one **segment**: one AES-GCM blob under the user's data key with,
per written row, its id, category, the casefolded strings of its item (the text search
looks in) and, for measurements, a small "trend entry" (title, codes, value, components).
Reading the index decrypts a few dozen blobs instead of every row; it only finds
*candidates*: the callers decrypt the candidate rows and check them as before, so an
entry made stale by a later version of its row never shows up wrongly (the new version is
in a newer segment). Small segments are merged now and then (append-only otherwise, so
two imports at once never overwrite each other's). Nothing of it is plain: the database
sees how many rows a segment covers, not which rows.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

#: Categories whose items a trend page draws (``Presenter.trend_code``).
MEASUREMENT_CATEGORIES = ("results", "vital_signs", "pregnancy_and_birth")
#: Keys of an item the trend page's code list needs (``_code_titles``, ``trend_code``).
_TREND_KEYS = ("category", "title", "value", "codes")
#: Between the strings of one row / between rows in a segment's text. A needle holding one
#: of them cannot be answered from the index (the callers then decrypt every row as before).
STRING_SEP, ROW_SEP = "\x1f", "\x1e"
#: Not searched: what a person does not type into a search box and what is the same in
#: thousands of items (a search for "loinc" or "observation" would match them all): kind,
#: category and type keys, ids, profile and code-system URLs, references, date sort keys and
#: precision, value types; and the narrative's HTML copy of its text. Searched: titles,
#: codes and their displays, values and units, dates as given, details, notes, narrative.
_SKIP_KEYS = frozenset({"narrative_html", "kind", "category", "resource_type", "resource_id", "profile",
                        "system", "reference", "relation", "sort_key", "precision", "type"})


def searchable_text(items: Iterable[dict[str, Any]]) -> str:
    """The casefolded strings of a row's items, as the text search compares them."""
    parts: list[str] = []
    for item in items:
        _collect(item, parts)
    text = STRING_SEP.join(parts)
    if text.count(STRING_SEP) != max(len(parts) - 1, 0) or ROW_SEP in text:  # a separator inside a string
        text = STRING_SEP.join(p.replace(STRING_SEP, " ").replace(ROW_SEP, " ") for p in parts)
    return text.casefold()  # per character: the separators stay where they are


def searched_strings(value: Any) -> list[str]:
    """Every string of an item that text search looks in."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        _collect(value, out)
    elif isinstance(value, list):
        _collect_list(value, out)
    return out


# Plain recursion appending to one list: a generator per nested value cost more than the
# rest of building the index (it runs for every row an import writes).
def _collect(value: dict[str, Any], out: list[str]) -> None:
    for key, v in value.items():
        if key in _SKIP_KEYS:
            continue
        kind = type(v)
        if kind is str:
            out.append(v)
        elif kind is dict:
            _collect(v, out)
        elif kind is list:
            _collect_list(v, out)


def _collect_list(value: list[Any], out: list[str]) -> None:
    for v in value:
        kind = type(v)
        if kind is str:
            out.append(v)
        elif kind is dict:
            _collect(v, out)
        elif kind is list:
            _collect_list(v, out)


def trend_entry(item: dict[str, Any]) -> dict[str, Any] | None:
    """What the trend page needs to list this measurement's test, or None for other items.
    Values are reduced to "a number or not": many rows then share one entry."""
    if item.get("category") not in MEASUREMENT_CATEGORIES:
        return None
    entry = {key: item.get(key) for key in _TREND_KEYS}
    entry["value"] = _numeric(item.get("value"))
    entry["codes"] = [{"system": c.get("system"), "code": c.get("code")} for c in item.get("codes", ())]
    entry["components"] = [{"title": c.get("title"), "value": _numeric(c.get("value")),
                            "codes": [{"system": x.get("system"), "code": x.get("code")} for x in c.get("codes", ())]}
                           for c in item.get("components", ())]
    return entry


def _numeric(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and value.get("type") == "quantity" and value.get("value") is not None:
        return {"type": "quantity", "value": "0"}
    return {"type": value.get("type")} if isinstance(value, dict) else None


Entry = tuple[str, str, "dict[str, Any] | None"]  # (row id, text, trend entry)


def entry_for(row_id: str, items: list[dict[str, Any]]) -> Entry:
    """The index entry of one stored row."""
    return row_id, searchable_text(items), trend_entry(items[0])


_HEADER_LENGTH = 4  # bytes: the length of the JSON header before the text


def encode_segment(entries: list[Entry]) -> bytes:
    """A JSON header (row ids, where each row's text starts, each row's trend entry as an
    index into the distinct entries) and then the rows' text as UTF-8, searched as bytes
    (no JSON string to unescape on every search)."""
    texts = [e[1].encode() for e in entries]
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + 1
    kinds: list[dict[str, Any]] = []
    seen: dict[bytes, int] = {}
    kind_of = []
    for _, _, trend in entries:
        if trend is None:
            kind_of.append(-1)
            continue
        key = orjson.dumps(trend, option=orjson.OPT_SORT_KEYS)
        if key not in seen:
            seen[key] = len(kinds)
            kinds.append(trend)
        kind_of.append(seen[key])
    header = orjson.dumps({"v": 2, "ids": [e[0] for e in entries], "starts": starts, "kind": kind_of, "kinds": kinds})
    return len(header).to_bytes(_HEADER_LENGTH, "big") + header + ROW_SEP.encode().join(texts)


@dataclass
class Segment:
    ids: list[str]
    starts: list[int]
    kind: list[int]  # per row: index into kinds, -1 for rows that are no measurement
    kinds: list[dict[str, Any]]
    text: bytes

    @classmethod
    def decode(cls, plain: bytes) -> Segment:
        size = int.from_bytes(plain[:_HEADER_LENGTH], "big")
        header = orjson.loads(plain[_HEADER_LENGTH:_HEADER_LENGTH + size])
        return cls(header["ids"], header["starts"], header["kind"], header["kinds"],
                   plain[_HEADER_LENGTH + size:])

    def rows_containing(self, needle: bytes) -> Iterator[str]:
        text, starts = self.text, self.starts
        position = text.find(needle)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            yield self.ids[index]
            following = starts[index + 1] if index + 1 < len(starts) else len(text)
            position = text.find(needle, following)

    def rows_of_kinds(self, kinds: set[int]) -> Iterator[str]:
        for row_id, kind in zip(self.ids, self.kind):
            if kind in kinds:
                yield row_id

    def entries(self) -> Iterator[Entry]:
        """(row id, text, trend entry) per row."""
        starts, text = self.starts, self.text
        for i, row_id in enumerate(self.ids):
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
            kind = self.kind[i]
            yield row_id, text[starts[i]:end].decode(), self.kinds[kind] if kind >= 0 else None


class SearchIndex:
    """A user's decoded segments, oldest first."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments

    @staticmethod
    def answers(needle: str) -> bool:
        return bool(needle) and STRING_SEP not in needle and ROW_SEP not in needle

    def candidates(self, needle: str) -> set[str]:
        """Every row whose text (in any version indexed) contains ``needle`` (casefolded)."""
        encoded = needle.encode()
        found: set[str] = set()
        for segment in self.segments:
            found.update(segment.rows_containing(encoded))
        return found

    def rows_with_codes(self, codes: Iterable[str]) -> set[str]:
        """Measurement rows with one of ``codes`` on the item or a component (any version)."""
        wanted = set(codes)
        found: set[str] = set()
        for segment in self.segments:
            kinds = {i for i, entry in enumerate(segment.kinds) if wanted & _entry_codes(entry)}
            if kinds:
                found.update(segment.rows_of_kinds(kinds))
        return found

    def trend_kinds(self, hidden: set[str]) -> list[dict[str, Any]]:
        """One trend entry per distinct kind of measurement that has a row not in ``hidden``
        (withdrawn rows): enough to list every test the record has a trend of."""
        out: dict[bytes, dict[str, Any]] = {}
        for segment in self.segments:
            shown = {kind for row_id, kind in zip(segment.ids, segment.kind) if kind >= 0 and row_id not in hidden}
            for kind in shown:
                entry = segment.kinds[kind]
                out.setdefault(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS), entry)
        return list(out.values())


def _entry_codes(entry: dict[str, Any]) -> set[str]:
    codes = {c.get("code") for c in entry.get("codes") or ()}
    for component in entry.get("components") or ():
        codes.update(c.get("code") for c in component.get("codes") or ())
    codes.discard(None)
    return codes


def merge(segments: list[Segment]) -> list[Entry]:
    """One segment's entries from several (oldest first): the latest entry of each row."""
    latest: dict[str, Entry] = {}
    for segment in segments:
        for entry in segment.entries():
            latest[entry[0]] = entry
    return list(latest.values())
