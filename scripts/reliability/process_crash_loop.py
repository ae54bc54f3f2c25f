"""Crash safety of the processes: kill -9 `regie serve` and `regie worker` at seeded random
points during an upload, a collection (against the sandbox), an export and an account
deletion (and the worker while it finishes one), restart them, check the record each time.

    .venv/bin/python scripts/reliability/process_crash_loop.py --kills 50 --database sqlite
    .venv/bin/python scripts/reliability/process_crash_loop.py --kills 50 --database postgres --mode cli

Writes scripts/reliability/runs/process_crash_loop-<database>-<mode>.json (read by report.py)
and exits 1 when any check failed. The checks: tests/reliability/process_crashes.py.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from common import database, write_run  # noqa: I001  (sets sys.path)

from tests.reliability.process_crashes import process_crash_loop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["fork", "cli"], default="fork",
                        help="fork: forked processes (fast); cli: the `regie serve` and `regie worker` commands")
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    # Stopped with SIGTERM: leave through the clean-ups (the servers, the schema, the folder).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="regie-pcrash-") as tmp, database(args.database, Path(tmp)) as url:
        run = process_crash_loop(Path(tmp), url, kills=args.kills, seed=args.seed, mode=args.mode,
                                 files=args.files, log=lambda line: print(line, flush=True))
    run.database = args.database
    path = write_run(f"process_crash_loop-{args.database}-{args.mode}", run.to_json())
    print(f"{run.kills} kills in {run.attempts} attempts ({run.by_operation}), {run.survived} survived, "
          f"{run.data_lost} lost, {len(run.problems)} problems -> {path}")
    for problem in run.problems[:20]:
        print("  " + problem)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
