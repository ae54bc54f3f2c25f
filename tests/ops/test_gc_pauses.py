"""What start-up made is kept out of the garbage collector's full walks (regie.ops.gc_pauses)."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from regie.ops.gc_pauses import freeze_startup_objects
from regie.web.app import create_app
from tests.conftest import fast_settings, migrate


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen: this process builds many more apps."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def _walked(obj: object) -> bool:
    """Whether collections walk ``obj`` (frozen objects are in no generation)."""
    return any(found is obj for found in gc.get_objects())


def test_frozen_objects_are_not_walked_and_garbage_is_collected_first(unfrozen: None) -> None:
    kept = {"a": [1, 2, 3]}
    gc.collect()
    assert _walked(kept)

    cycle: list = []
    cycle.append(cycle)  # start-up garbage: collected, not frozen
    collected_before = gc.get_stats()[2]["collected"]
    del cycle
    frozen = freeze_startup_objects()

    assert frozen == gc.get_freeze_count() > 0
    assert not _walked(kept)
    assert gc.get_stats()[2]["collected"] > collected_before


@pytest.mark.parametrize("freeze", [True, False])
def test_the_web_process_freezes_once_started_when_asked(unfrozen: None, tmp_path: Path, freeze: bool) -> None:
    url = f"sqlite:///{tmp_path / 'regie.sqlite3'}"
    migrate(url)
    app = create_app(fast_settings(tmp_path, url, gc_freeze=freeze))
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert (gc.get_freeze_count() > 0) is freeze
            assert _walked(app) is not freeze
    finally:
        app.state.context.db.dispose()
