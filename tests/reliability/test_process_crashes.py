"""Crash safety of the processes: `regie serve` and `regie worker` killed (SIGKILL) at seeded
random points during an upload, a collection, an export and an account deletion (and the
worker while it finishes one, and while it runs a scheduled re-collect), restarted, and the
record checked after each kill (tests/reliability/process_crashes.py). Eight kills per
database here over the six operations (forked processes); the long run with the real commands and 50+ kills is
scripts/reliability/process_crash_loop.py."""
from __future__ import annotations

from pathlib import Path

from tests.reliability.process_crashes import OPERATIONS, process_crash_loop


def test_killed_processes_leave_a_consistent_record_and_resume_or_fail_their_work(
        database_url: str, tmp_path: Path) -> None:
    run = process_crash_loop(tmp_path, database_url, kills=8, seed=11, mode="fork", files=16,
                             observations=8, per_attempt=5, max_attempts=20, leaver_observations=800,
                             latency=0.08)
    assert run.problems == [], run.problems[:10]
    assert run.kills == 8, run  # most attempts were killed while working
    assert run.survived == run.kills and run.data_lost == 0
    # Every operation was tried and at least some kills landed in the middle of each.
    assert set(run.by_operation) == set(OPERATIONS), run.by_operation
    assert sum(1 for row in run.by_operation.values() if row["kills"]) >= 3, run.by_operation
    assert run.files_complete >= 5 and run.restarts == run.attempts
