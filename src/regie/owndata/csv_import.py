"""Measurements from a CSV file: read, map columns, check every row.

The user says which column holds what (:data:`TARGETS`); :func:`guess_mapping` proposes
a mapping from the header names. Every row is checked like a form entry
(:func:`regie.owndata.measurements.check`); a row with a problem is reported with its
line number and is not imported. Never raises on bad input: :class:`CsvError` for a
file that cannot be read at all.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from regie.owndata import measurements as meas
from regie.owndata.measurements import N_

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 50
ZONE = ZoneInfo("Europe/Amsterdam")

#: What a column can be: the time, a date and a clock time apart, or a value.
TARGETS = ("ignore", "time", "date", "clock", "value", "systolic", "diastolic", "comment")

_GUESS = {
    "time": ("datum/tijd", "datetime", "date/time", "tijdstip", "timestamp", "moment", "time"),
    "date": ("datum", "date", "dag", "day"),
    "clock": ("tijd", "clock", "uur", "hour"),
    "systolic": ("systolic", "systolisch", "bovendruk", "sys"),
    "diastolic": ("diastolic", "diastolisch", "onderdruk", "dia"),
    "comment": ("opmerking", "comment", "notitie", "note"),
    "value": ("waarde", "value", "gewicht", "weight", "kg", "hartslag", "pulse", "glucose", "stappen", "steps",
              "temperatuur", "temperature", "saturatie", "spo2", "lengte", "height", "pijn", "pain"),
}


_IMPORT_NS = uuid.UUID("6f1d2c3a-5b8e-4c1f-9a7d-2e4b6c8d0f13")  # ids of imported rows


class CsvError(ValueError):
    pass


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # every row padded/cut to len(headers)
    delimiter: str


@dataclass
class RowResult:
    line: int  # 1-based line number in the file (the header is line 1)
    cells: list[str]
    measurement: meas.Measurement | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> msgid (with placeholders filled)


def read_table(data: bytes) -> Table:
    """Decode (UTF-8, with or without BOM; else Windows-1252) and split into rows."""
    if len(data) > MAX_BYTES:
        raise CsvError(N_("The file is too large (at most 2 MB)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise CsvError(N_("This is not a CSV file."))
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CsvError(N_("The file is empty, or its first line is empty."))
    first = lines[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ";"
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        all_rows = []
        for row in reader:
            all_rows.append(row)
            if len(all_rows) > MAX_ROWS + 1:
                raise CsvError(N_("The file has too many rows (at most 5000)."))
    except csv.Error as exc:
        raise CsvError(N_("The file cannot be read as CSV.")) from exc
    headers = [h.strip() for h in all_rows[0]][:MAX_COLUMNS]
    if not any(headers):
        raise CsvError(N_("The file is empty, or its first line is empty."))
    width = len(headers)
    rows = [(row + [""] * width)[:width] for row in all_rows[1:] if any(cell.strip() for cell in row)]
    return Table(headers, rows, delimiter)


def guess_mapping(headers: list[str], type_key: str) -> list[str]:
    kind = meas.TYPES.get(type_key)
    wanted = {spec.name for spec in kind.fields} if kind else {"value"}
    out: list[str] = []
    for header in headers:
        name = header.casefold().strip()
        choice = "ignore"
        for target in ("time", "date", "clock", "systolic", "diastolic", "comment", "value"):
            if target in ("value", "systolic", "diastolic") and target not in wanted:
                continue
            if any(name == word or (len(word) > 3 and word in name) for word in _GUESS[target]):
                choice = target
                break
        if choice in out and choice != "ignore":
            choice = "ignore"
        out.append(choice)
    if "time" in out and "date" in out:
        out = ["ignore" if c == "date" else c for c in out]
    return out


_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$")


def parse_when(date_text: str, clock_text: str = "") -> datetime | None:
    """A date (2026-01-05, 05-01-2026, 5/1/2026) with an optional clock time (08:30), or an
    ISO date-time with or without zone. Dutch time when no zone is given."""
    date_text = (date_text or "").strip()
    clock_text = (clock_text or "").strip()
    if not date_text or len(date_text) > 40 or len(clock_text) > 12:
        return None
    if not clock_text:
        for sep in ("T", " "):
            if sep in date_text:
                head, _, tail = date_text.partition(sep)
                if _CLOCK.match(tail.strip()):
                    date_text, clock_text = head, tail.strip()
                    break
                try:
                    moment = datetime.fromisoformat(date_text.replace("Z", "+00:00"))
                except ValueError:
                    return None
                return moment if moment.tzinfo else moment.replace(tzinfo=ZONE)
    day = _ISO_DAY.match(date_text)
    if day:
        year, month, dom = (int(x) for x in day.groups())
    else:
        day = _DAY_FIRST.match(date_text)
        if not day:
            return None
        dom, month, year = (int(x) for x in day.groups())
    hour = minute = second = 0
    if clock_text:
        clock = _CLOCK.match(clock_text)
        if not clock:
            return None
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(3) or 0)
    try:
        return datetime(year, month, dom, hour, minute, second, tzinfo=ZONE)
    except ValueError:
        return None


def check_rows(table: Table, mapping: list[str], type_key: str, unit: str | None, *,
               confirm_unusual: bool = False, now: datetime | None = None) -> list[RowResult]:
    """Every row as a measurement or with its problems (texts filled in, still msgids)."""
    results = []
    column = {target: index for index, target in enumerate(mapping) if target != "ignore"}
    for number, cells in enumerate(table.rows, start=2):
        result = RowResult(number, cells)
        if "time" in column:
            when = parse_when(cells[column["time"]])
        elif "date" in column:
            when = parse_when(cells[column["date"]], cells[column["clock"]] if "clock" in column else "")
        else:
            when = None
        raw: dict[str, Any] = {name: cells[index] for name, index in column.items()
                               if name in ("value", "systolic", "diastolic")}
        comment = cells[column["comment"]] if "comment" in column else ""
        try:
            checked = meas.check(type_key, raw, unit=unit, time=when, comment=comment,
                                 confirmed=confirm_unusual, now=now)
            # The same row imported again is the same measurement (updated, not doubled):
            # its id follows from what it says, not from chance.
            key = "|".join([type_key, checked.time.isoformat(),
                            *(f"{k}={v}" for k, v in sorted(checked.values.items())), checked.unit or ""])
            result.measurement = dataclasses.replace(checked, resource_id=str(uuid.uuid5(_IMPORT_NS, key)))
        except meas.MeasurementError as exc:
            for name, text in {**exc.errors, **exc.warnings}.items():
                if name == "time" and when is None:
                    text = N_("The date or time cannot be read.")
                result.errors[name] = text
        results.append(result)
    return results


def mapping_problems(mapping: list[str], type_key: str) -> list[str]:
    kind = meas.TYPES.get(type_key)
    problems = []
    if "time" not in mapping and "date" not in mapping:
        problems.append(N_("Choose the column with the date (and time)."))
    if kind is not None:
        for spec in kind.fields:
            if spec.name not in mapping:
                problems.append(N_("Choose the column with the value."))
                break
    return problems
