"""FHIR partial dates and dateTimes, kept as given, with a sortable key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Literal

Precision = Literal["year", "month", "day", "minute", "second"]

_RE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True, slots=True)
class FhirDate:
    """A FHIR date/dateTime/instant exactly as the source gave it.

    ``text`` is the original string (``2020``, ``2020-07``, ``2020-07-14``,
    ``2020-07-14T10:00:00+02:00``); ``precision`` says how much of it is known and
    ``sort_key`` orders dates of mixed precision: times with a zone are converted to UTC,
    missing parts count as the earliest value (so ``2020`` sorts before ``2020-03``).
    """

    text: str
    precision: Precision
    sort_key: str

    @classmethod
    def parse(cls, text: str) -> FhirDate | None:
        """Parse a FHIR date-like string; None if it is not one."""
        if cls is FhirDate:  # values are immutable: a record repeats its dates a lot
            return _parse_cached(text)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> FhirDate | None:
        m = _RE.match(text)
        if m is None:
            return None
        y, mo, d = m["y"], m["m"], m["d"]
        if mo is None:
            return cls(text, "year", f"{y}-00-00T00:00:00")
        if d is None:
            return cls(text, "month", f"{y}-{mo}-00T00:00:00")
        if m["H"] is None:
            return cls(text, "day", f"{y}-{mo}-{d}T00:00:00")
        precision: Precision = "second" if m["S"] is not None else "minute"
        sec = m["S"] or "00"
        key = f"{y}-{mo}-{d}T{m['H']}:{m['M']}:{sec}"
        tz = m["tz"]
        if tz and tz != "Z":
            try:
                local = datetime.fromisoformat(key)
                sign = 1 if tz[0] == "+" else -1
                offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])) * sign
                utc = local.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)
                key = utc.strftime("%Y-%m-%dT%H:%M:%S")
            except ValueError:
                pass  # out-of-range parts were rejected by validation already
        return cls(text, precision, key)

    @property
    def date_part(self) -> str:
        """The calendar part as given (``2020``, ``2020-07`` or ``2020-07-14``)."""
        return self.text[:10]


@lru_cache(maxsize=8192)
def _parse_cached(text: str) -> FhirDate | None:
    return FhirDate._parse(text)
