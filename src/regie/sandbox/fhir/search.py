"""FHIR search over one person's resources: the parameters the MedMij catalogue uses.

Supported: token parameters (``system|code``, ``system|``, ``|code``, ``code``, comma
OR-lists), date parameters with prefixes (eq ne gt lt ge le sa eb) over dates,
dateTimes and Periods, ``_include``/``_include:iterate``/``_include:recurse`` with an
optional target type, ``Observation/$lastn`` (``max``), and the medication filters
(``medication.code``, ``medicationtreatment``, ``pharmaceutical-treatment-identifier``).
Parameters not listed here are refused (:class:`SearchError`), so a PGO sending a query
the sandbox does not understand learns so instead of silently getting everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "PatientData", "SearchError", "SearchResult", "search", "PATIENT_PARAMS",
]

#: Parameters that would put the patient (a BSN or patient id) in the URL.
PATIENT_PARAMS = frozenset({"patient", "subject", "owner"})

_IGNORED = frozenset({"_format", "_count", "_summary", "_pretty", "_elements"})


class SearchError(ValueError):
    """A search the sandbox refuses (400 with an OperationOutcome)."""


class PatientData:
    """The resources of one person at one provider and service, indexed by ``Type/id``."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self.resources: list[dict[str, Any]] = []
        self.index: dict[str, dict[str, Any]] = {}
        for res in resources:
            self.add(res)

    def add(self, res: dict[str, Any]) -> None:
        ref = f"{res.get('resourceType')}/{res.get('id')}"
        if ref in self.index:
            old = self.index[ref]
            self.resources[self.resources.index(old)] = res
        else:
            self.resources.append(res)
        self.index[ref] = res

    def remove(self, ref: str) -> bool:
        res = self.index.pop(ref, None)
        if res is None:
            return False
        self.resources.remove(res)
        return True

    def of_type(self, rtype: str) -> Iterator[dict[str, Any]]:
        return (r for r in self.resources if r.get("resourceType") == rtype)

    def get(self, ref: str) -> dict[str, Any] | None:
        """Resolve a reference (``Type/id``, or an absolute URL ending in it)."""
        if ref in self.index:
            return self.index[ref]
        parts = ref.rstrip("/").split("/")
        if len(parts) >= 2:
            return self.index.get(f"{parts[-2]}/{parts[-1]}")
        return None

    def __len__(self) -> int:
        return len(self.resources)


@dataclass(frozen=True, slots=True)
class SearchResult:
    matches: list[dict[str, Any]]
    includes: list[dict[str, Any]]


# --- tokens ----------------------------------------------------------------------------

def _tokens(value: Any) -> Iterator[tuple[str | None, str | None]]:
    """(system, code) pairs of a code / Coding / CodeableConcept / Identifier (or lists)."""
    if value is None:
        return
    if isinstance(value, list):
        for v in value:
            yield from _tokens(v)
    elif isinstance(value, str):
        yield None, value
    elif isinstance(value, dict):
        if "coding" in value:
            yield from _tokens(value["coding"])
        elif "code" in value or "system" in value and "value" not in value:
            yield value.get("system"), value.get("code")
        elif "value" in value:
            yield value.get("system"), value.get("value")


def _token_match(pairs: list[tuple[str | None, str | None]], wanted: str) -> bool:
    for alt in wanted.split(","):
        if "|" in alt:
            system, code = alt.split("|", 1)
            for s, c in pairs:
                if system == "":
                    if s is None and c == code:
                        return True
                elif s == system and (code == "" or c == code):
                    return True
        else:
            if any(c == alt for _, c in pairs):
                return True
    return False


def _ext(res: Mapping[str, Any], *suffixes: str) -> list[dict[str, Any]]:
    return [e for e in res.get("extension", ()) or ()
            if isinstance(e, dict) and str(e.get("url", "")).endswith(suffixes)]


def _medication_codes(res: dict[str, Any], data: PatientData) -> list[Any]:
    out: list[Any] = []
    if "medicationCodeableConcept" in res:
        out.append(res["medicationCodeableConcept"])
    ref = (res.get("medicationReference") or {}).get("reference")
    if ref:
        med = data.get(ref)
        if med is not None:
            out.append(med.get("code"))
    for c in res.get("contained", ()) or ():
        if c.get("resourceType") == "Medication":
            out.append(c.get("code"))
    return out


def _token_values(res: dict[str, Any], name: str, data: PatientData) -> list[Any] | None:
    if name in ("category", "code", "type", "status", "identifier"):
        return [res.get(name)]
    if name == "class":
        return [res.get("class")]
    if name == "medication.code":
        return _medication_codes(res, data)
    if name in ("medicationtreatment", "pharmaceutical-treatment-identifier"):
        return [e.get("valueIdentifier") for e in
                _ext(res, "MedicationTreatment", "PharmaceuticalTreatment.Identifier")]
    return None


# --- dates -----------------------------------------------------------------------------

_DT_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?\Z"
)
_MIN = datetime(1, 1, 1, tzinfo=UTC)
_MAX = datetime(9999, 12, 31, tzinfo=UTC)


def parse_range(text: str) -> tuple[datetime, datetime] | None:
    """The instant range a FHIR date/dateTime/instant covers (precision expanded)."""
    m = _DT_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, tz = m.groups()
    tzinfo = UTC
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tzinfo = __import__("datetime").timezone(
            sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    year = int(y)
    if mo is None:
        lo = datetime(year, 1, 1, tzinfo=tzinfo)
        hi = datetime(year + 1, 1, 1, tzinfo=tzinfo)
    elif d is None:
        lo = datetime(year, int(mo), 1, tzinfo=tzinfo)
        hi = datetime(year + (int(mo) == 12), int(mo) % 12 + 1, 1, tzinfo=tzinfo)
    elif hh is None:
        lo = datetime(year, int(mo), int(d), tzinfo=tzinfo)
        hi = lo + timedelta(days=1)
    else:
        lo = datetime(year, int(mo), int(d), int(hh), int(mi), int(ss or 0), tzinfo=tzinfo)
        hi = lo + (timedelta(seconds=1) if ss else timedelta(minutes=1))
    return lo.astimezone(UTC), (hi - timedelta(microseconds=1)).astimezone(UTC)


def _value_range(value: Any) -> tuple[datetime, datetime] | None:
    if isinstance(value, str):
        return parse_range(value)
    if isinstance(value, dict) and ("start" in value or "end" in value):
        start = parse_range(value["start"]) if value.get("start") else None
        end = parse_range(value["end"]) if value.get("end") else None
        return (start[0] if start else _MIN), (end[1] if end else _MAX)
    return None


def _first(res: dict[str, Any], *names: str) -> Any:
    for n in names:
        if res.get(n) is not None:
            return res[n]
    return None


def _date_values(res: dict[str, Any], name: str) -> list[Any] | None:
    rtype = res.get("resourceType")
    if name == "date":
        if rtype == "Appointment":
            return [{"start": res.get("start"), "end": res.get("end")}
                    if res.get("start") else None]
        if rtype == "Encounter":
            return [res.get("period")]
        return [_first(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant",
                       "issued", "date", "occurrenceDateTime", "authoredOn", "recordedDate",
                       "assertedDate", "created", "onsetDateTime")]
    if name in ("periodofuse", "period-of-use"):
        vals = [e.get("valuePeriod") for e in
                _ext(res, "zib-Medication-PeriodOfUse", "ext-TimeInterval.Period")]
        if not vals and res.get("effectivePeriod"):
            vals = [res["effectivePeriod"]]
        if not vals:
            for di in res.get("dosageInstruction", ()) or res.get("dosage", ()) or ():
                bp = (((di or {}).get("timing") or {}).get("repeat") or {}).get("boundsPeriod")
                if bp:
                    vals.append(bp)
        return vals
    if name == "whenhandedover":
        return [res.get("whenHandedOver")]
    if name == "effective-time":
        return [_first(res, "effectiveDateTime", "effectivePeriod")]
    if name == "indexed":
        return [_first(res, "indexed", "date", "created")]
    return None


def _date_match(ranges: list[tuple[datetime, datetime]], wanted: str) -> bool:
    prefix = wanted[:2] if wanted[:2].isalpha() else "eq"
    text = wanted[2:] if wanted[:2].isalpha() else wanted
    q = parse_range(text)
    if q is None:
        raise SearchError(f"not a FHIR date: {wanted!r}")
    qlo, qhi = q
    for lo, hi in ranges:
        ok = {
            "eq": lo >= qlo and hi <= qhi,
            "ne": not (lo >= qlo and hi <= qhi),
            "gt": hi > qhi,
            "lt": lo < qlo,
            "ge": hi >= qlo,
            "le": lo <= qhi,
            "sa": lo > qhi,
            "eb": hi < qlo,
        }.get(prefix)
        if ok is None:
            raise SearchError(f"unknown date prefix {prefix!r}")
        if ok:
            return True
    return False


# --- references (_include) -------------------------------------------------------------

_INCLUDE_FIELDS: dict[str, tuple[str, ...]] = {
    "general-practitioner": ("generalPractitioner",),
    "related-target": ("related", "hasMember", "derivedFrom"),
    "reason": ("reasonReference",),
    "source": ("informationSource",),
    "medication": ("medicationReference",),
    "performer": ("performer",),
    "requester": ("requester",),
    "device": ("device", "codeReference"),
    "participant": ("participant",),
    "actor": ("participant",),
    "payor": ("payor",),
    "activity-goal": ("activity",),
    "activity-outcomereference": ("activity",),
    "activity-medicaldevice": ("activity",),
    "next-practitioner": ("extension",),
    "dispense-location": ("extension", "dispenseRequest"),
    "author": ("author", "extension", "informationSource"),
    "prescriber": ("prescriber", "extension"),
    "destination": ("destination",),
    "specimen": ("specimen",),
    "subject": ("subject",),
    "patient": ("subject", "patient"),
    "organization": ("organization",),
    "practitioner": ("practitioner",),
    "location": ("location",),
}


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for v in value:
            yield from _refs(v)
    elif isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield ref
        for k, v in value.items():
            if k != "reference" and isinstance(v, (dict, list)):
                yield from _refs(v)


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _include_targets(res: dict[str, Any], spec: str, data: PatientData
                     ) -> Iterator[dict[str, Any]]:
    parts = spec.split(":")
    if len(parts) < 2:
        raise SearchError(f"_include needs Type:param, got {spec!r}")
    src, param = parts[0], parts[1]
    target = parts[2] if len(parts) > 2 else None
    if res.get("resourceType") != src:
        return
    fields = _INCLUDE_FIELDS.get(param, (_camel(param),))
    for f in fields:
        for ref in _refs(res.get(f)):
            found = data.get(ref)
            if found is not None and (target is None or found.get("resourceType") == target):
                yield found


# --- search ----------------------------------------------------------------------------

def _patient_param(name: str) -> bool:
    base = name.split(":", 1)[0].split(".", 1)[0]
    return base in PATIENT_PARAMS


def search(data: PatientData, rtype: str, params: list[tuple[str, str]], *,
           lastn: bool = False) -> SearchResult:
    """Run a search of *rtype* with *params* (order kept, repeats allowed)."""
    includes: list[str] = []
    iterate: list[str] = []
    filters: list[tuple[str, str]] = []
    max_n = 1
    for name, value in params:
        if _patient_param(name):
            raise SearchError(
                f"search parameter {name!r} is not allowed: the patient follows from the "
                "access token, and no BSN or patient id may appear in the URL")
        if name == "_include":
            includes.append(value)
        elif name in ("_include:iterate", "_include:recurse"):
            iterate.append(value)
        elif name == "max" and lastn:
            if not value.isdigit() or int(value) < 1:
                raise SearchError(f"max must be a positive integer, got {value!r}")
            max_n = int(value)
        elif name in _IGNORED:
            continue
        else:
            filters.append((name, value))

    matches = []
    for res in data.of_type(rtype):
        if all(_matches(res, n, v, data) for n, v in filters):
            matches.append(res)
    if lastn:
        matches = _lastn(matches, max_n)

    seen = {f"{r['resourceType']}/{r.get('id')}" for r in matches}
    included: list[dict[str, Any]] = []

    def add(found: dict[str, Any]) -> bool:
        key = f"{found['resourceType']}/{found.get('id')}"
        if key in seen:
            return False
        seen.add(key)
        included.append(found)
        return True

    for res in matches:
        for spec in includes + iterate:
            for found in _include_targets(res, spec, data):
                add(found)
    if iterate:
        frontier = list(included)
        while frontier:
            nxt = []
            for res in frontier:
                for spec in iterate:
                    for found in _include_targets(res, spec, data):
                        if add(found):
                            nxt.append(found)
            frontier = nxt
    return SearchResult(matches, included)


def _matches(res: dict[str, Any], name: str, value: str, data: PatientData) -> bool:
    tokens = _token_values(res, name, data)
    if tokens is not None:
        pairs = [p for v in tokens for p in _tokens(v)]
        return _token_match(pairs, value)
    dates = _date_values(res, name)
    if dates is not None:
        ranges = [r for v in dates if (r := _value_range(v)) is not None]
        return _date_match(ranges, value)
    raise SearchError(f"search parameter {name!r} is not supported for "
                      f"{res.get('resourceType')} by the sandbox")


def check_params(rtype: str, params: list[tuple[str, str]]) -> None:
    """Validate parameter names even when the person has no resources of *rtype*."""
    probe = {"resourceType": rtype}
    empty = PatientData(())
    for name, value in params:
        if _patient_param(name):
            raise SearchError(
                f"search parameter {name!r} is not allowed: the patient follows from the "
                "access token, and no BSN or patient id may appear in the URL")
        if name.startswith("_include") or name in _IGNORED or name == "max":
            continue
        _matches(probe, name, value, empty)


def _obs_key(res: dict[str, Any]) -> str:
    pairs = list(_tokens(res.get("code")))
    return f"{pairs[0][0]}|{pairs[0][1]}" if pairs else ""


def _when(res: dict[str, Any]) -> datetime:
    v = _first(res, "effectiveDateTime", "effectivePeriod", "issued")
    r = _value_range(v) if v is not None else None
    return r[0] if r and r[0] != _MIN else (r[1] if r else _MIN)


def _lastn(matches: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for res in matches:
        groups.setdefault(_obs_key(res), []).append(res)
    keep = set()
    for group in groups.values():
        group.sort(key=_when, reverse=True)
        keep.update(id(r) for r in group[:n])
    return [r for r in matches if id(r) in keep]
