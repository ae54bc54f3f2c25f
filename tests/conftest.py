"""Shared fixtures: databases (SQLite and PostgreSQL), settings, the app, and paths.

With REQUIRE_POSTGRES=1 a PostgreSQL server that does not answer fails the
run; without it those tests are skipped with the reason. Each test gets its
own PostgreSQL schema, so parallel runs never collide.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from regie.config import Settings

# Property tests are bounded by example counts, not by time: on a 2-core machine shared with
# the rest of the suite, per-example deadlines only make runs flaky.
hypothesis_settings.register_profile("regie", deadline=None)
hypothesis_settings.load_profile("regie")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUTPUT = REPO / "test-output"
POSTGRES_URL = os.environ.get("REGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


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


@contextmanager
def postgres_schema(base_url: str = POSTGRES_URL, prefix: str = "regie_test") -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema of its own (so parallel runs never collide),
    dropped afterwards."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
