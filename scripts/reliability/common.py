"""Shared by the reliability scripts: a throw-away database (SQLite file or PostgreSQL schema),
settings for it, and writing a run's JSON for scripts/reliability/report.py."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "scripts" / "reliability" / "runs"
sys.path.insert(0, str(ROOT))

from tests.conftest import fast_settings, postgres_schema  # noqa: E402


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database URL of ``kind`` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'regie.sqlite3'}"
        return
    with postgres_schema(prefix="regie_rel") as url:
        yield url


def settings_for(folder: Path, url: str, **overrides):
    home = folder / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    return fast_settings(home, url, **overrides)


def write_run(name: str, data: dict) -> Path:
    RUNS.mkdir(parents=True, exist_ok=True)
    path = RUNS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
