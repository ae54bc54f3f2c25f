"""Fixtures shared by the storage tests."""
from __future__ import annotations

import pytest

from regie.store.db import Database
from tests.conftest import migrate


@pytest.fixture
def db(database_url: str):
    """A migrated database of the test's own (SQLite file or PostgreSQL schema)."""
    migrate(database_url)
    database = Database(database_url)
    yield database
    database.dispose()
