"""Reading throughput of regie.fhir on the Nictiz fixtures vs plain parsing.

Usage: python bench/bench_read.py [min_resources] [--files N]   (default 50,000, every file)

Every fixture (placeholders resolved) is read repeatedly until at least ``min_resources``
resources per format have been read; the same bytes are also parsed with orjson/lxml
alone. Prints resources/s and the ratio to the plain parse. ``--files N`` reads only the
first N fixture files of each format (the smoke run).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import orjson
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regie.fhir import FhirReadError, FhirVersion, read_bytes  # noqa: E402
from tests.fhir.fixtures import (  # noqa: E402
    R4_STANDARDS, available, fixture_files, load, standard_of,
)


def first_per_format(paths: Iterable[Path], limit: int | None) -> list[Path]:
    """The first *limit* files of each suffix (every file when *limit* is None)."""
    taken: Counter[str] = Counter()
    chosen = []
    for p in paths:
        if limit is None or taken[p.suffix] < limit:
            taken[p.suffix] += 1
            chosen.append(p)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("min_resources", nargs="?", type=int, default=50_000)
    parser.add_argument("--files", type=int, metavar="N", help="only the first N fixture files of each format")
    args = parser.parse_args()
    target = args.min_resources
    if not available():
        sys.exit("fixtures not found")
    files = {"json": [], "xml": []}
    for p in first_per_format(fixture_files(), args.files):
        v = FhirVersion.R4 if standard_of(p) in R4_STANDARDS else FhirVersion.STU3
        data = load(p)
        n = len(read_bytes(data, name=p.name, fhir_version=v).resources)
        files["json" if p.suffix == ".json" else "xml"].append((p.name, data, v, n))
    # JSON fixtures are few: add the XML fixtures converted to canonical JSON
    for name, data, v, n in list(files["xml"]):
        doc = read_bytes(data, name=name, fhir_version=v)
        if len(doc.resources) == 1:
            files["json"].append((name, doc.resources[0].json, v, 1))
    for fmt, entries in files.items():
        per_round = sum(n for *_, n in entries)
        rounds = max(1, -(-target // per_round))
        total = per_round * rounds
        plain = orjson.loads if fmt == "json" else etree.fromstring
        t0 = time.perf_counter()
        for _ in range(rounds):
            for _, data, _, _ in entries:
                plain(data)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(rounds):
            for name, data, v, _ in entries:
                read_bytes(data, name=name, fhir_version=v)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(max(1, rounds // 5)):
            for name, data, v, _ in entries:
                try:
                    read_bytes(data, name=name)
                except FhirReadError:  # the one fixture that does not tell its version
                    read_bytes(data, name=name, fhir_version=v)
        t_detect = (time.perf_counter() - t0) / max(1, rounds // 5) * rounds
        mb = sum(len(d) for _, d, _, _ in entries) * rounds / 1e6
        print(f"{fmt}: {total} resources, {mb:.0f} MB")
        print(f"  plain {'orjson.loads' if fmt == 'json' else 'lxml parse'}: "
              f"{total / t_plain:10.0f} resources/s")
        print(f"  regie read_bytes (version given): {total / t_read:10.0f} resources/s "
              f"({t_read / t_plain:.1f}x plain parse time)")
        print(f"  regie read_bytes (version detected): {total / t_detect:10.0f} resources/s")


if __name__ == "__main__":
    main()
