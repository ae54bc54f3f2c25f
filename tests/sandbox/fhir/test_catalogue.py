"""The catalogue covers every request of the Nictiz PHR qualification scripts."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest

from regie.sandbox.services import SERVICES, by_standard, resolve_dates, service

TSV = (Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "medmij"
       / "nictiz-testscripts-phr-queries.tsv").resolve()

_DATE = re.compile(r"\$\{DATE,\s*T,\s*D,\s*([+-]?)\s*(\d+)\}")
_MONTHS = re.compile(r"\$\{CURRENTDATE,\s*M,\s*([+-])(\d+)\}")
_VAR = re.compile(r"\$\{[a-z0-9-]+\}")


def _rows() -> list[dict[str, str]]:
    if not TSV.is_file():
        pytest.skip(f"reference TSV not present beside the repository ({TSV.name})")
    with TSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _value_matches(template: str, actual: str) -> bool:
    if template in ("{identifier}", "{code}"):
        return True
    return template == actual


def _normalise(value: str) -> str:
    value = _DATE.sub(lambda m: "{today}" if int(m.group(2)) == 0
                      else f"{{today{m.group(1) or '+'}{m.group(2)}d}}", value)
    return _MONTHS.sub(lambda m: f"{{today{m.group(1)}{m.group(2)}m}}", value)


def _covered(row: dict[str, str]) -> bool:
    svc = by_standard(row["standard"])
    op, res, p = row["operation"], row["resource"], row["params_or_url"]
    if op in ("transaction", "batch"):
        return any(q.interaction == op for q in svc.queries)
    if op in ("read", "update", "delete"):
        return any(q.interaction == op and q.path == f"{res}/{{id}}" for q in svc.queries)
    path, qs = res, p.lstrip("?")
    if p.startswith("/"):
        seg, _, qs = p[1:].partition("?")
        path = f"{res}/{seg}"
    params = [tuple(kv.split("=", 1)) for kv in qs.split("&") if kv]
    params = [(k, _normalise(v)) for k, v in params]
    for q in svc.queries:
        if q.interaction != "search" or q.path != path or len(q.params) != len(params):
            continue
        if all(k1 == k2 and _value_matches(v1, v2)
               for (k1, v1), (k2, v2) in zip(q.params, params, strict=True)):
            return True
    return False


def test_catalogue_covers_every_tsv_request() -> None:
    rows = _rows()
    missing = [(r["standard"], r["operation"], r["resource"], r["params_or_url"])
               for r in rows if not _covered(r)]
    assert not missing
    assert {r["standard"] for r in rows} <= {s.standard for s in SERVICES}


def test_ids_versions_and_routine_queries() -> None:
    assert [service(i).standard for i in ("48", "49", "50", "51", "61", "63")] == [
        "BgZ-3-0", "GenPractData-2-0", "GGZ-2-0", "PDFA-3-0", "BgLZ-3-0", "Immunization-2-0"]
    assert service("63").fhir_version == "R4" and service("49").fhir_version == "STU3"
    assert all(s.confirmed for s in SERVICES if len(s.id) == 2)
    assert not any(s.confirmed for s in SERVICES if len(s.id) == 3)
    gp = [q.text for q in service("49").routine()]
    assert "GET Patient?_include=Patient:general-practitioner" in gp
    assert len(service("48").routine()) == 28
    assert service("51").receives and not service("49").receives


def test_relative_dates() -> None:
    today = date(2024, 3, 31)
    assert resolve_dates("ge{today-14m}", today) == "ge2023-01-31"
    assert resolve_dates("ge{today-1m}", today) == "ge2024-02-29"
    assert resolve_dates("le{today}&x={today-730d}", today) == "le2024-03-31&x=2022-04-01"
    q = next(q for q in service("49").queries if q.resource_type == "Observation")
    assert "date=ge2023-01-31" in q.url(today)
