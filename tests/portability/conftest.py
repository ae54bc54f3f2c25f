"""A second, empty database of the same kind as ``database_url``: the other Regie a patient moves to."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_schema


@pytest.fixture
def second_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite3'}"
        return
    with postgres_schema() as url:
        yield url
