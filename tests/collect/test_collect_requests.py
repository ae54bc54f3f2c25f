"""For each service, Regie issues exactly the requests of the Nictiz qualification scripts
(the reference TSV, read in place): every routine search, nothing else but reads of the
documents those searches found. Compared with the sandbox's access log."""
from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest

from regie.medmij.services import by_standard, resolve_dates
from tests.sandbox.fhir.test_catalogue import _normalise

TSV = (Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "medmij"
       / "nictiz-testscripts-phr-queries.tsv").resolve()
PROVIDERS = ("huisartsdevries", "ziekenhuisrivierenland", "apotheekdemolen", "ggzdekust",
             "zorgcentrumdelinde", "rivmvaccinaties")


def _split(row: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    res, p = row["resource"], row["params_or_url"]
    path, qs = res, p.lstrip("?")
    if p.startswith("/"):
        seg, _, qs = p[1:].partition("?")
        path = f"{res}/{seg}"
    return path, tuple(tuple(kv.split("=", 1)) for kv in qs.split("&") if kv)  # type: ignore[misc]


def _is_variant(params, others) -> bool:
    """An optional filter the scripts try: another row for the same path asks the same
    with fewer parameters (by name, ignoring _include) or a subset of the same pairs."""
    def names(ps):
        return Counter(k for k, _ in ps if not k.startswith("_include"))
    mine, pairs = names(params), Counter(params)
    for key, value in params:  # an OR of searches that are asked one by one anyway
        parts = value.split(",")
        if len(parts) > 1 and all(any((key, part) in other for other in others) for part in parts):
            return True
    for other in others:
        if other == params:
            continue
        theirs = names(other)
        if (theirs != mine and not theirs - mine) or (Counter(other) != pairs and not Counter(other) - pairs):
            return True
    return False


def expected_requests(today: date) -> dict[str, tuple[set[str], set[str]]]:
    """service id -> (the routine searches as sent, resource types that may be read)."""
    if not TSV.is_file():
        pytest.skip(f"reference TSV not present beside the repository ({TSV.name})")
    with TSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    by_service: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_service.setdefault(by_standard(row["standard"]).id, []).append(row)
    result = {}
    for sid, items in by_service.items():
        searches = [_split(r) for r in items if r["operation"] == "search"]
        routine = set()
        for path, params in searches:
            same_path = [p for q, p in searches if q == path]
            if _is_variant(params, same_path):
                continue
            qs = "&".join(f"{k}={resolve_dates(_normalise(v), today)}" for k, v in params)
            routine.add(path + (f"?{qs}" if qs else ""))
        reads = {r["resource"] for r in items if r["operation"] == "read"}
        result[sid] = (routine, reads)
    return result


def test_each_service_gets_exactly_the_reference_requests(regie):
    for provider in PROVIDERS:
        view = regie.collect(provider)
        assert view["state"] == "done", (provider, view["receipt"])
    expected = expected_requests(date.today())
    seen_services = set()
    for provider in PROVIDERS:
        sent: dict[str, list[str]] = {}
        for entry in regie.network.access_log(provider=provider):
            assert entry["client_id"] == "localhost" and entry["status"] == 200, entry
            sent.setdefault(entry["service"], []).append(unquote(entry["query"]))
        for sid, requests in sent.items():
            seen_services.add(sid)
            routine, reads = expected[sid]
            searches = [r for r in requests if "?" in r or "/" not in r or r.startswith("Observation/$lastn")]
            other = [r for r in requests if r not in searches]
            assert sorted(searches) == sorted(routine), (provider, sid)
            assert len(set(searches)) == len(searches), f"{provider} {sid}: a search sent twice"
            assert all(r.split("/", 1)[0] in reads for r in other), (provider, sid, other)
            if sid == "51":
                assert other, f"{provider}: no document fetched"
    assert seen_services == {"48", "49", "50", "51", "61", "63", "901", "903", "904"}
