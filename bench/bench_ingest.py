"""End-to-end ingest throughput into SQLite, and record read latency at 50,000 resources.

Usage: python bench/bench_ingest.py [min_resources] [files|files1|responses] [--files N]
    (default 50,000 files; ``--files N``: only the first N fixture files of each format)

``files``: the fixture files imported as ``regie import`` does (``import_many``: up to
64 files share a transaction, a SAVEPOINT per file). ``files1``: one transaction per
file (most hold one resource: the worst case). ``responses``: the fixtures' resources
packed into searchset Bundles of 100 entries per FHIR version and format, as a MedMij
FHIR server answers a search; one import (one transaction) per Bundle.

Besides wall-clock throughput the process CPU time is reported (resources per CPU
second): on a shared machine it is the steadier "per core" figure.

The Nictiz fixtures (placeholders resolved) are imported repeatedly for one user, each
round with new resource ids (a suffix on every ``id``/reference, so each round is new
data), through ``RecordService.import_bytes``: validation, normalisation, encryption,
one transaction per file. The same bytes are also parsed with orjson (JSON) or lxml
(XML) alone. Then the record summary and a 50-item page (first page and a page deep
in the record, per category) are timed.
"""

from __future__ import annotations

import argparse
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


BUNDLE_SIZE = 100
_FHIR_NS = "http://hl7.org/fhir"


def _xml_resources(data: bytes) -> list[bytes]:
    root = etree.fromstring(data)
    if etree.QName(root).localname != "Bundle":
        return [etree.tostring(root)]
    return [etree.tostring(r) for r in root.iterfind(f"{{{_FHIR_NS}}}entry/{{{_FHIR_NS}}}resource/*")]


def responses(files: list[tuple[str, bytes, bool, object]]) -> list[tuple[str, bytes, bool, object]]:
    """The fixtures' resources as searchset Bundles of BUNDLE_SIZE entries, per version and format."""
    from regie.fhir import read_bytes

    pools: dict[tuple[bool, object], list[bytes]] = {}
    seen: set[tuple[bool, object, str, str]] = set()  # a resource that several files share goes in once

    def add(is_json: bool, version: object, resource_type: str, resource_id: str, body: bytes) -> None:
        # Without an id a resource can't be told apart from its copy in the next round.
        if resource_id and (is_json, version, resource_type, resource_id) not in seen:
            seen.add((is_json, version, resource_type, resource_id))
            pools.setdefault((is_json, version), []).append(body)

    for name, data, is_json, version in files:
        # Every fixture, XML ones too, feeds the JSON pool in its FHIR JSON form (what the
        # reader stores): the same data in both formats.
        for res in read_bytes(data, name=name, fhir_version=version).resources:
            add(True, version, res.resource_type, res.id or "", res.json)
        if not is_json:
            for body in _xml_resources(data):
                element = etree.fromstring(body)
                id_element = element.find(f"{{{_FHIR_NS}}}id")
                add(False, version, etree.QName(element).localname,
                    id_element.get("value") if id_element is not None else "", body)
    out = []
    for (is_json, version), resources in pools.items():
        for start in range(0, len(resources), BUNDLE_SIZE):
            chunk = resources[start : start + BUNDLE_SIZE]
            if is_json:
                body = b'{"resourceType":"Bundle","type":"searchset","entry":[' + b",".join(
                    b'{"resource":' + r + b"}" for r in chunk) + b"]}"
            else:
                body = (b'<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>' + b"".join(
                    b"<entry><resource>" + r + b"</resource></entry>" for r in chunk) + b"</Bundle>")
            out.append((f"response-{len(out)}.{'json' if is_json else 'xml'}", body, is_json, version))
    return out


def main() -> None:
    from bench_read import first_per_format  # bench/ is this script's folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("min_resources", nargs="?", type=int, default=50_000)
    parser.add_argument("mode", nargs="?", choices=("files", "files1", "responses"), default="files")
    parser.add_argument("--files", type=int, metavar="N", help="only the first N fixture files of each format")
    args = parser.parse_args()
    target, mode = args.min_resources, args.mode
    if not available():
        sys.exit("fixtures not found")
    files = []
    for p in first_per_format(fixture_files(), args.files):
        files.append((p.name, load(p), p.suffix == ".json", version_of(standard_of(p))))
    if mode == "responses":
        files = responses(files)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(db.engine)
        service, keyring = service_for(db)
        keys = service.keys(new_user(db, keyring))
        totals = {"json": [0, 0.0, 0.0, 0, 0.0], "xml": [0, 0.0, 0.0, 0, 0.0]}  # n, t_ingest, t_plain, bytes, cpu
        round_no = 0
        while sum(v[0] for v in totals.values()) < target:
            round_no += 1
            for fmt in ("json", "xml"):
                batch = [(name, renamed(data, is_json, round_no), version)
                         for name, data, is_json, version in files if is_json == (fmt == "json")]
                if not batch:
                    continue
                parse = orjson.loads if fmt == "json" else etree.fromstring
                t0 = time.perf_counter()
                for _, data, _ in batch:
                    parse(data)
                t1 = time.perf_counter()
                c1 = time.process_time()
                if mode == "files":  # as `regie import` does: files grouped per FHIR version
                    outcomes = []
                    for version in {v for _, _, v in batch}:
                        outcomes += service.import_many(
                            keys, [(n, d) for n, d, v in batch if v == version], fhir_version=version,
                            channel="cli", source=None)
                else:
                    outcomes = [service.import_bytes(keys, data, name=name, source=f"bench/{name}",
                                                     fhir_version=version, channel="cli")
                                for name, data, version in batch]
                t2 = time.perf_counter()
                c2 = time.process_time()
                for outcome in outcomes:
                    if not outcome.ok:
                        sys.exit(outcome.error)
                    if outcome.new != outcome.resources:
                        sys.exit(f"{outcome.name}: round {round_no} was not new data")
                    totals[fmt][0] += outcome.resources
                totals[fmt][1] += t2 - t1
                totals[fmt][2] += t1 - t0
                totals[fmt][3] += sum(len(d) for _, d, _ in batch)
                totals[fmt][4] += c2 - c1
        print(f"ingest into SQLite ({mode}), {round_no} rounds of {len(files)} imports")
        for fmt, (n, t_ingest, t_plain, size, cpu) in totals.items():
            print(f"  {fmt:4}: {n:6d} resources, {size / 1e6:6.1f} MB, {n / t_ingest:7.0f} resources/s end to end, "
                  f"{t_ingest / t_plain:5.1f}x the time of a plain {'orjson.loads' if fmt == 'json' else 'lxml parse'}"
                  f" ({t_plain * 1000:.0f} ms); {n / cpu:7.0f} resources per CPU second")
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
        print(f"  q search (search index)      {timed(q, repeat=3):6.1f}")
        db.dispose()
        print(f"(run id {secrets.token_hex(2)})")


if __name__ == "__main__":
    main()
