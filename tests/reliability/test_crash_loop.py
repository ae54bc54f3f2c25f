"""Crash safety: imports killed (SIGKILL) at seeded random points leave a consistent record.

A handful of kills per database here (fork mode, seconds); the long run with the real
`regie import` command and 50+ kills is scripts/reliability/crash_loop.py.
"""
from __future__ import annotations

from pathlib import Path

from regie.config import Settings
from tests.reliability.crashes import crash_loop


def test_killed_imports_leave_whole_files_no_orphans_and_a_record_equal_to_a_clean_import(
        settings: Settings, tmp_path: Path) -> None:
    run = crash_loop(settings, tmp_path / "files", kills=5, seed=10, mode="fork",
                     files=16, observations=15, per_attempt=8, max_attempts=15)
    assert run.problems == []
    assert run.kills >= 3, run  # most attempts were killed while importing
    assert run.survived == run.kills and run.data_lost == 0
    # Something completed (the first import, and files of attempts that finished), so the
    # final comparison with a clean import is not a comparison of two empty records.
    assert run.files_complete >= 8 and run.resources == 16 * run.files_complete
