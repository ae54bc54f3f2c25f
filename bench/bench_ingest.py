"""End-to-end ingest throughput into SQLite, and record read latency at 50,000 resources.

Usage: python bench/bench_ingest.py [min_resources]   (default 50,000)

The Nictiz fixtures (placeholders resolved) are imported repeatedly for one user, each
round with new resource ids (a suffix on every ``id``/reference, so each round is new
data), through ``RecordService.import_bytes``: validation, normalisation, encryption,
one transaction per file. The same bytes are also parsed with orjson (JSON) or lxml
(XML) alone. Then the record summary and a 50-item page (first page and a page deep
in the record, per category) are timed.
"""

from __future__ import annotations

import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regie.store.db import Database  # noqa: E402
from regie.store.migrate import upgrade  # noqa: E402
from tests.fhir.fixtures import available, fixture_files, load, standard_of  # noqa: E402
from tests.store.record_helpers import new_user, service_for, version_of  # noqa: E402

_ID_JSON = re.compile(rb'("(?:id|fullUrl)"\s*:\s*")([^"]+)(")')
_ID_XML = re.compile(rb'(<(?:id|fullUrl) value=")([^"]+)(")')


def renamed(data: bytes, is_json: bool, round_no: int) -> bytes:
    """New ids for a round (references to them keep pointing at the old ids: fine here)."""
    pattern = _ID_JSON if is_json else _ID_XML
    return pattern.sub(lambda m: m[1] + m[2][:58] + b"-r" + str(round_no).encode() + m[3], data)


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    if not available():
        sys.exit("fixtures not found")
    files = []
    for p in fixture_files():
        files.append((p.name, load(p), p.suffix == ".json", version_of(standard_of(p))))
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(db.engine)
        service, keyring = service_for(db)
        keys = service.keys(new_user(db, keyring))
        totals = {"json": [0, 0.0, 0.0, 0], "xml": [0, 0.0, 0.0, 0]}  # resources, t_ingest, t_plain, bytes
        round_no = 0
        while sum(v[0] for v in totals.values()) < target:
            round_no += 1
            for name, data, is_json, version in files:
                data = renamed(data, is_json, round_no)
                fmt = "json" if is_json else "xml"
                t0 = time.perf_counter()
                (orjson.loads if is_json else etree.fromstring)(data)
                t1 = time.perf_counter()
                outcome = service.import_bytes(keys, data, name=name, source=f"bench/{name}",
                                               fhir_version=version, channel="cli")
                t2 = time.perf_counter()
                if not outcome.ok:
                    sys.exit(outcome.error)
                if outcome.new != outcome.resources:
                    sys.exit(f"{name}: round {round_no} was not new data")
                totals[fmt][0] += outcome.resources
                totals[fmt][1] += t2 - t1
                totals[fmt][2] += t1 - t0
                totals[fmt][3] += len(data)
        print(f"ingest into SQLite, {round_no} rounds of {len(files)} fixture files")
        for fmt, (n, t_ingest, t_plain, size) in totals.items():
            print(f"  {fmt:4}: {n:6d} resources, {size / 1e6:6.1f} MB, {n / t_ingest:7.0f} resources/s end to end, "
                  f"{t_ingest / t_plain:5.1f}x the time of a plain {'orjson.loads' if fmt == 'json' else 'lxml parse'}")
        n_all = sum(v[0] for v in totals.values())
        t_all = sum(v[1] for v in totals.values())
        print(f"  all : {n_all:6d} resources, {n_all / t_all:7.0f} resources/s")

        def timed(fn, repeat: int = 15) -> float:
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - t0) * 1000)
            return statistics.median(samples)

        def summary() -> None:
            with service.open(keys) as repo:
                repo.summary()
                repo.audit(keys.user_id, "summary", ["summary"], "cli")

        def page(category: str | None = None, deep: bool = False) -> None:
            with service.open(keys) as repo:
                cursor = None
                if deep:  # a cursor from the middle of the record
                    _, cursor = repo.page(category=category, limit=200)
                items, _ = repo.page(category=category, cursor=cursor, limit=50)
                repo.audit(keys.user_id, "list", [i["id"] for i in items], "cli")

        with service.open(keys) as repo:
            counts = repo.summary()
        print(f"reads for one user with {counts['resources']} resources (median of 15, ms, incl. audit write)")
        print(f"  summary                      {timed(summary):6.1f}")
        print(f"  page of 50, all categories   {timed(page):6.1f}")
        worst = 0.0
        for category in counts["categories"]:
            ms = timed(lambda c=category: page(c), repeat=5)
            worst = max(worst, ms)
        print(f"  page of 50, slowest category {worst:6.1f}")
        q = lambda: service.open(keys).__enter__().page(q="bloeddruk", limit=50)  # noqa: E731
        print(f"  q search (decrypts to fill)  {timed(q, repeat=3):6.1f}")
        db.dispose()
        print(f"(run id {secrets.token_hex(2)})")


if __name__ == "__main__":
    main()
