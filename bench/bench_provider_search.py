"""Provider search quality and speed: mean reciprocal rank and ms per query.

Usage: .venv/bin/python bench/bench_provider_search.py [--size N] [--seed S] [--verbose]

The queries (bench/data/provider_queries.json) are what patients type: typos, partial
names, place names, "huisarts utrecht". Each names what a right answer looks like
(display name, place and/or kind); the reciprocal rank of the first right answer in the
top 20 counts (0 when none). The directory is the sandbox's generated one
(regie.sandbox.directory.generate_directory), built into regie.medmij.directory exactly
as from held lists. Targets: MRR >= 0.85, < 20 ms per query.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from regie.medmij.directory import Directory, DirectoryProvider, DirectoryService
from regie.sandbox.directory import generate_directory

QUERIES = Path(__file__).parent / "data" / "provider_queries.json"
TOP = 20


def load_queries(path: Path = QUERIES) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def build_directory(size: int, seed: int) -> Directory:
    names = {"48": "Basisgegevens Zorg", "49": "Huisartsgegevens", "50": "GGZ-gegevens",
             "51": "Documenten (PDF/A)", "61": "Langdurige zorg", "63": "Vaccinaties"}
    providers = tuple(
        DirectoryProvider(p.zorgaanbiedernaam, p.display_name, p.place, p.kind, p.agb,
                          tuple(DirectoryService(s, names.get(s, s)) for s in p.service_ids), True)
        for p in generate_directory(size, seed)
    )
    return Directory(providers)


def relevant(provider: DirectoryProvider, expect: dict) -> bool:
    return all(
        getattr(provider, {"name": "display_name"}.get(field, field)) == value
        for field, value in expect.items()
    )


def evaluate(directory: Directory, queries: list[dict]) -> dict:
    ranks: list[float] = []
    timings: list[float] = []
    misses: list[tuple[str, int | None, list[str]]] = []
    for _ in range(2):  # warm-up round, then the measured one
        ranks.clear()
        timings.clear()
        misses.clear()
        for item in queries:
            start = time.perf_counter()
            results = directory.search(item["query"], TOP)
            timings.append((time.perf_counter() - start) * 1000)
            rank = next((i + 1 for i, r in enumerate(results) if relevant(r.provider, item["expect"])), None)
            ranks.append(1.0 / rank if rank else 0.0)
            if rank != 1:
                misses.append((item["query"], rank,
                               [f"{r.provider.display_name} ({r.provider.place})" for r in results[:3]]))
    return {
        "queries": len(queries),
        "mrr": statistics.fmean(ranks),
        "hit_at_1": sum(1 for r in ranks if r == 1.0) / len(ranks),
        "ms_mean": statistics.fmean(timings),
        "ms_p95": sorted(timings)[max(0, int(len(timings) * 0.95) - 1)],
        "ms_max": max(timings),
        "misses": misses,
    }


def main() -> None:
    data = load_queries()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=data["directory"]["size"])
    parser.add_argument("--seed", type=int, default=data["directory"]["seed"])
    parser.add_argument("--verbose", action="store_true", help="show the queries not answered first")
    args = parser.parse_args()
    start = time.perf_counter()
    directory = build_directory(args.size, args.seed)
    build_ms = (time.perf_counter() - start) * 1000
    result = evaluate(directory, data["queries"])
    print(f"directory: {len(directory)} providers (seed {args.seed}), index built in {build_ms:.0f} ms")
    print(f"queries: {result['queries']}")
    print(f"mean reciprocal rank: {result['mrr']:.3f}  (target >= 0.85)")
    print(f"right answer first: {result['hit_at_1']:.0%}")
    print(f"ms per query: mean {result['ms_mean']:.2f}, p95 {result['ms_p95']:.2f}, "
          f"max {result['ms_max']:.2f}  (target < 20)")
    if args.verbose:
        for query, rank, top in result["misses"]:
            print(f"  {query!r}: rank {rank}; top: {'; '.join(top)}")


if __name__ == "__main__":
    main()
