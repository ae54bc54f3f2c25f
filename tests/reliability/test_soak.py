"""Provider faults soak, bounded (a minute of rounds, as issue 10 asks of the suite): every
sandbox fault type at the provider's services, three users collecting at once. The 10-minute
run is scripts/reliability/soak.py. Mostly waiting (hangs, slow drips, retries), so it starts
first (tests/conftest.py LONG_TESTS) and costs the suite little wall time."""
from __future__ import annotations

from pathlib import Path

from tests.reliability.soak import soak


def test_provider_faults_soak_no_unhandled_error_no_stuck_job_every_failure_on_a_receipt(tmp_path: Path) -> None:
    run = soak(tmp_path, f"sqlite:///{tmp_path / 'regie.sqlite3'}", seconds=60, users=3)
    assert run.problems == [], run.problems
    assert run.seconds >= 60  # issue 10: at least a minute of soak in the suite
    assert run.rounds >= 3 and run.collections >= 3 * (run.rounds + 1)
    assert run.unhandled_exceptions == 0 and run.stuck_jobs == 0 and run.data_lost == 0
    assert run.failed_services_on_receipt >= 1  # the faults did hit
    assert run.rss_end_mb < run.rss_start_mb * 1.5 + 50, (run.rss_start_mb, run.rss_end_mb)
