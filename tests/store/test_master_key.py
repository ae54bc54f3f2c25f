"""The master key: created once with mode 0600, refused when others can read it."""
from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from regie.config import Settings
from regie.errors import ConfigurationError
from regie.store.master_key import KEY_FILE_NAME, load_master_key


def test_created_on_first_start_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    key = load_master_key(settings)
    path = tmp_path / "home" / KEY_FILE_NAME
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(settings) == key  # stable across starts


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o640])
def test_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    settings = Settings(home=tmp_path)
    load_master_key(settings)
    os.chmod(tmp_path / KEY_FILE_NAME, mode)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_master_key(settings)


def test_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv("REGIE_MASTER_KEY", base64.b64encode(raw).decode())
    monkeypatch.setenv("REGIE_HOME", str(tmp_path))
    assert load_master_key(Settings()) == raw
    assert not (tmp_path / KEY_FILE_NAME).exists()


@pytest.mark.parametrize("value,reason", [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes")])
def test_bad_keys_are_explained(tmp_path: Path, value: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        load_master_key(Settings(home=tmp_path, master_key=value))


def _key_at_the_same_moment(home: str, start: float) -> bytes:
    import time

    time.sleep(max(0.0, start - time.time()))
    return load_master_key(Settings(home=Path(home)))


def test_processes_starting_at_once_on_a_fresh_home_share_one_key(tmp_path: Path) -> None:
    """A web process and a worker (or several builders) starting together: one key, whole, and
    no process fails because another created it first."""
    import multiprocessing
    import time

    start = time.time() + 2.0  # every process imported and waiting by then
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.starmap(_key_at_the_same_moment, [(str(tmp_path), start)] * 12)
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert load_master_key(Settings(home=tmp_path)) == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]  # no drafts left behind
