"""Shared fixtures: databases (SQLite and PostgreSQL), settings, the app, and paths.

With REQUIRE_POSTGRES=1 a PostgreSQL server that does not answer fails the
run; without it those tests are skipped with the reason. Each test gets its
own PostgreSQL schema, so parallel runs never collide.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from regie.config import Settings
from tests import stamp_guard  # noqa: F401  (registers the check on every engine)
# Re-exported: tests import these from here.
from tests.databases import POSTGRES_URL, migrate, postgres_schema  # noqa: F401

# Property tests are bounded by example counts, not by time: on a 2-core machine shared with
# the rest of the suite, per-example deadlines only make runs flaky.
hypothesis_settings.register_profile("regie", deadline=None)
hypothesis_settings.load_profile("regie")

# The suite builds and drops hundreds of apps in one process: frozen start-up objects would
# never be collected (regie.ops.gc_pauses). tests/ops/test_gc_pauses.py turns it on itself.
os.environ.setdefault("REGIE_GC_FREEZE", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUTPUT = REPO / "test-output"


def _require(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0", "false", "no")


_postgres_problem: str | None | bool = False  # False: not checked yet


def postgres_problem() -> str | None:
    """Why PostgreSQL can't be used, or None when it answers."""
    global _postgres_problem
    if _postgres_problem is False:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _postgres_problem = None
        except Exception as exc:  # any failure means: no usable server
            _postgres_problem = f"PostgreSQL at {POSTGRES_URL} does not answer ({type(exc).__name__})"
    return _postgres_problem  # type: ignore[return-value]


def skip_or_fail(reason: str, required_by: str) -> None:
    if _require(required_by):
        pytest.fail(f"{reason}, and {required_by}=1 is set")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'regie.sqlite3'}"
        return
    problem = postgres_problem()
    if problem:
        skip_or_fail(problem, "REQUIRE_POSTGRES")
    with postgres_schema() as url:
        yield url


def fast_settings(home: Path, database_url: str, **overrides) -> Settings:
    """Settings for tests: cheap Argon2 (never in production) and no waiting between attempts."""
    values = dict(
        home=home,
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_cost_kib=8,
        argon2_parallelism=1,
        throttle_delay_base_seconds=0.0,
        jobs_in_web=False,  # tests run jobs explicitly (tests/jobs)
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return fast_settings(home, database_url)


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test leaves files for people to look at (screenshots)."""
    folder = OUTPUT / request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- Order: long tests first ------------------------------------------------------------------
# xdist hands out tests in collection order. A long test that starts near the end keeps the run
# going while the other workers are done, so the tests known to take long go first, longest
# first, and the many short ones fill in around them. Seconds are rough figures on a quiet
# 2-core machine (`make test` prints the slowest); a new test of 15 s or more belongs here.
LONG_TESTS: dict[str, int] = {
    "tests/browser/test_collect_journey.py": 65,
    "tests/reliability/test_soak.py": 65,
    "tests/browser/test_viewer_pages.py": 52,
    "tests/bench/test_bench_smoke.py::test_benchmark_runs_with_tiny_sizes[bench_load.py]": 43,
    "tests/reliability/test_postgres_restart.py": 40,
    "tests/reliability/test_process_crashes.py": 35,
    "tests/browser/test_owndata_pages.py": 28,
    "tests/browser/test_send_journeys.py": 27,
    "tests/collect/test_collect_killed.py": 17,
    "tests/cli/test_demo.py": 25,
    "tests/bench/test_bench_smoke.py::test_benchmark_runs_with_tiny_sizes[bench_memory.py]": 13,
    "tests/browser/test_delegation_journeys.py": 25,
    "tests/bench/test_bench_smoke.py::test_benchmark_runs_with_tiny_sizes[bench_collect.py]": 16,
    "tests/browser/test_login_journeys.py": 23,
    "tests/web/test_two_processes": 6,
    "tests/browser/test_password_reset_journey.py": 20,
    "tests/browser/test_session_browser.py": 0,  # seconds, not the folder's 15
    "tests/browser/": 15,
    "tests/bench/": 12,
    "tests/reliability/": 12,
    "tests/cli/test_serve_workers_metrics.py": 6,
    "tests/cli/test_graceful_shutdown.py": 5,
    "tests/cli/test_worker_cli.py": 3,
    "tests/collect/test_collect_sigterm.py": 10,
    "tests/collect/test_collect_writelock.py": 10,
}


def _expected_seconds(nodeid: str) -> int:
    # The longest matching prefix decides (a single test before its file, a file before its folder).
    matches = [prefix for prefix in LONG_TESTS if nodeid.startswith(prefix)]
    return LONG_TESTS[max(matches, key=len)] if matches else 0


@pytest.hookimpl(trylast=True)  # after pytest grouped the tests by their fixtures
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stable sort: the short tests keep their order (and their module fixtures stay together).
    items.sort(key=lambda item: -_expected_seconds(item.nodeid))
