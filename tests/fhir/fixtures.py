"""Loader for the Nictiz MedMij qualification fixtures (read in place, never copied).

The fixtures contain TestScript placeholders such as ``${DATE, T, D, -5}`` (the test day
minus 5 days). They are resolved here, relative to a fixed test day, never in the
importer: real MedMij data never contains them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = (REPO_ROOT / ".." / "shared" / "fixtures" / "nictiz").resolve()
SKIP_REASON = f"Nictiz fixtures not present at {FIXTURES.name!r} next to the repository"

#: The "today" all placeholders are resolved against (fixed, so golden files are stable).
TEST_DAY = date(2024, 6, 15)

_PLACEHOLDER = re.compile(r"\$\{(DATE|DATETIME), T, ([DMY]), ([+-]?\d+)\}")
_FIXED = {
    "${task-id}": "task-0001",
    "${task-fullurl}": "https://fhir.example.org/fhir/Task/task-0001",
    "${server-base}": "https://fhir.example.org/fhir/",
    "${UUID-ST}": "urn:uuid:0b3b6a4e-7a0e-4c57-9d43-000000000001",
}

#: FHIR version per standard folder, from MANIFEST.md (all others are STU3).
R4_STANDARDS = frozenset({"Immunization-2-0", "MP9-3-0-0-beta", "PatientCorrections-1-0"})


def _shift(day: date, unit: str, amount: int) -> date:
    if unit == "D":
        return day + timedelta(days=amount)
    months = day.month - 1 + (amount if unit == "M" else 12 * amount)
    year, month = day.year + months // 12, months % 12 + 1
    for d in (day.day, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def resolve_placeholders(data: bytes, day: date = TEST_DAY) -> bytes:
    """Replace the TestScript placeholders in fixture bytes."""
    text = data.decode("utf-8")

    def repl(m: re.Match[str]) -> str:
        d = _shift(day, m[2], int(m[3])).isoformat()
        return d if m[1] == "DATE" else f"{d}T10:00:00+02:00"

    text = _PLACEHOLDER.sub(repl, text)
    for key, value in _FIXED.items():
        text = text.replace(key, value)
    if "${" in text:
        raise AssertionError(f"unresolved placeholder: {text[text.index('${'):][:40]}")
    return text.encode("utf-8")


def available() -> bool:
    return FIXTURES.is_dir()


@cache
def fixture_files() -> tuple[Path, ...]:
    """All FHIR fixture files (xml/json), sorted."""
    return tuple(sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".xml", ".json")))


def standard_of(path: Path) -> str:
    return path.relative_to(FIXTURES).parts[0]


def load(path: Path | str) -> bytes:
    """Fixture bytes with placeholders resolved; ``path`` may be relative to FIXTURES."""
    p = Path(path)
    if not p.is_absolute():
        p = FIXTURES / p
    return resolve_placeholders(p.read_bytes())


def naive_counts(path: Path) -> Counter[str]:
    """Resources per type in a file, counted independently of regie.fhir.

    Counts the root resource, or for a Bundle each entry resource (recursively);
    contained resources are not counted (they stay inside their parent).
    """
    counts: Counter[str] = Counter()
    if path.suffix == ".json":
        import json

        def walk(res: dict) -> None:
            if res["resourceType"] == "Bundle":
                for entry in res.get("entry", []):
                    if "resource" in entry:
                        walk(entry["resource"])
            else:
                counts[res["resourceType"]] += 1

        walk(json.loads(path.read_bytes()))
        return counts
    ns = "{http://hl7.org/fhir}"

    def walk_xml(el: etree._Element) -> None:
        name = etree.QName(el).localname
        if name == "Bundle":
            for res in el.findall(f"{ns}entry/{ns}resource/*"):
                walk_xml(res)
        else:
            counts[name] += 1

    walk_xml(etree.parse(str(path)).getroot())
    return counts
