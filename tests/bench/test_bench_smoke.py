"""Every benchmark in bench/ still runs: each with tiny sizes, checking only that it ends
well (no timing targets here; `make bench` runs them at full size). Each script runs in a
fork of the test process (tests/bench/forked_script.py: no 3-4 s import of Regie for the
script's own process); what it starts are new interpreters, as in a full run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bench.forked_script import run_script
from tests.fhir.fixtures import SKIP_REASON, available

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "bench_read.py": ["200", "--files", "40"],  # the first 40 fixture files of each format
    "bench_ingest.py": ["200", "--files", "40"],
    "bench_viewer.py": ["300", "--rounds", "2"],
    "bench_provider_search.py": ["--size", "200"],
    "bench_collect.py": ["--providers", "2", "--ingest-resources", "500"],  # 200 ms latency each request
    "bench_load.py": ["--users", "2", "--items", "20", "--seconds", "1", "--warm-up", "0", "--clients", "2",
                      "--rate", "50"],  # the paced schedule too
    "bench_memory.py": ["0.2"],
    "bench_storage.py": ["100", "--users", "2"],
    "bench_portability.py": ["2"],
    "bench_reindex.py": ["30", "--users", "2"],  # SQLite only
}
NEEDS_POSTGRES = {"bench_load.py", "bench_storage.py"}
# Start web processes and workers, or import through the CLI: slower than the others.
SLOW = {"bench_load.py": 400, "bench_memory.py": 240}
NEEDS_FIXTURES = {"bench_read.py", "bench_ingest.py", "bench_viewer.py", "bench_portability.py"}


def _import_regie() -> None:
    """What the scripts import, once per test process (in a full run the other tests' modules
    imported it already): each script runs in a fork of this process (forked_script)."""
    import fastapi.testclient  # noqa: F401
    import regie.cli.main  # noqa: F401
    import regie.store.ingest  # noqa: F401
    import regie.web.app  # noqa: F401


def test_every_benchmark_has_a_smoke_run() -> None:
    assert {p.name for p in (REPO / "bench").glob("bench_*.py")} == set(TINY)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs_with_tiny_sizes(script: str, tmp_path: Path) -> None:
    if script in NEEDS_FIXTURES and not available():
        pytest.skip(SKIP_REASON)
    if script in NEEDS_POSTGRES:
        from tests.conftest import postgres_problem, skip_or_fail

        problem = postgres_problem()
        if problem:
            skip_or_fail(problem, "REQUIRE_POSTGRES")
    env = {**os.environ, "REGIE_HOME": str(tmp_path)}
    env.pop("REGIE_DATABASE_URL", None)
    _import_regie()
    result = run_script(REPO / "bench" / script, TINY[script], env, tmp_path, timeout=SLOW.get(script, 120))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.strip()
