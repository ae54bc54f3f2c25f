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
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Categories whose items a trend page draws (``Presenter.trend_code``).
MEASUREMENT_CATEGORIES = ("results", "vital_signs", "pregnancy_and_birth")
#: Keys of an item the trend page's code list needs (``_code_titles``, ``trend_code``).
_TREND_KEYS = ("category", "title", "value", "codes")
#: Between the strings of one row / between rows in a segment's text. A needle holding one
#: of them cannot be answered from the index (the callers then decrypt every row as before).
STRING_SEP, ROW_SEP = "\x1f", "\x1e"
#: Skipped: the HTML of a narrative repeats its text with markup nobody searches for.
_SKIP_KEYS = frozenset({"narrative_html"})


def searchable_text(items: Iterable[dict[str, Any]]) -> str:
    """The casefolded strings of a row's items, as the text search compares them."""
    parts: list[str] = []
    for item in items:
        parts.extend(searched_strings(item))
    return STRING_SEP.join(p.casefold().replace(STRING_SEP, " ").replace(ROW_SEP, " ") for p in parts)


def searched_strings(value: Any) -> Iterator[str]:
    """Every string of an item that text search looks in."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, v in value.items():
            if key not in _SKIP_KEYS:
                yield from searched_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from searched_strings(v)


def trend_entry(item: dict[str, Any]) -> dict[str, Any] | None:
    """What the trend page needs to list this measurement's codes, or None for other items."""
    if item.get("category") not in MEASUREMENT_CATEGORIES:
        return None
    entry = {key: item.get(key) for key in _TREND_KEYS}
    entry["components"] = [{"title": c.get("title"), "codes": c.get("codes", []), "value": c.get("value")}
                           for c in item.get("components", ())]
    return entry


Entry = tuple[str, str, "dict[str, Any] | None"]  # (row id, text, trend entry)


def entry_for(row_id: str, items: list[dict[str, Any]]) -> Entry:
    """The index entry of one stored row."""
    return row_id, searchable_text(items), trend_entry(items[0])


def encode_segment(entries: list[Entry]) -> bytes:
    return orjson.dumps({
        "v": 1,
        "ids": [e[0] for e in entries],
        "text": ROW_SEP.join(e[1] for e in entries),
        "trend": {str(i): e[2] for i, e in enumerate(entries) if e[2] is not None},
    })


@dataclass
class Segment:
    ids: list[str]
    text: str
    trend: dict[str, dict[str, Any]]
    _starts: list[int] = field(default_factory=list)

    @classmethod
    def decode(cls, plain: bytes) -> Segment:
        data = orjson.loads(plain)
        return cls(data["ids"], data["text"], data["trend"])

    def starts(self) -> list[int]:
        """Offset in ``text`` where each row's text begins (computed on the first search)."""
        if not self._starts and self.ids:
            starts, position = [0], self.text.find(ROW_SEP)
            while position >= 0:
                starts.append(position + 1)
                position = self.text.find(ROW_SEP, position + 1)
            self._starts = starts
        return self._starts

    def rows_containing(self, needle: str) -> Iterator[str]:
        text, starts = self.text, self.starts()
        position = text.find(needle)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            yield self.ids[index]
            following = starts[index + 1] if index + 1 < len(starts) else len(text)
            position = text.find(needle, following)

    def entries(self) -> Iterator[Entry]:
        """(row id, text, trend entry) per row."""
        starts = self.starts()
        for i, row_id in enumerate(self.ids):
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(self.text)
            yield row_id, self.text[starts[i]:end], self.trend.get(str(i))


class SearchIndex:
    """A user's decoded segments, oldest first."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments

    @staticmethod
    def answers(needle: str) -> bool:
        return bool(needle) and STRING_SEP not in needle and ROW_SEP not in needle

    def candidates(self, needle: str) -> set[str]:
        """Every row whose text (in any version indexed) contains ``needle`` (casefolded)."""
        found: set[str] = set()
        for segment in self.segments:
            found.update(segment.rows_containing(needle))
        return found

    def rows_with_codes(self, codes: Iterable[str]) -> set[str]:
        """Measurement rows with one of ``codes`` on the item or a component (any version)."""
        wanted = set(codes)
        found: set[str] = set()
        for segment in self.segments:
            for index, entry in segment.trend.items():
                if wanted & _entry_codes(entry):
                    found.add(segment.ids[int(index)])
        return found

    def trend_entries(self) -> dict[str, dict[str, Any]]:
        """The latest trend entry per measurement row."""
        latest: dict[str, dict[str, Any]] = {}
        for segment in self.segments:
            for index, entry in segment.trend.items():
                latest[segment.ids[int(index)]] = entry
        return latest


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
