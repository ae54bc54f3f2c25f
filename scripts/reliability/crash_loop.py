"""Crash safety loop: kill -9 imports at seeded random points, check the record after each kill.

    .venv/bin/python scripts/reliability/crash_loop.py --kills 50 --database sqlite
    .venv/bin/python scripts/reliability/crash_loop.py --kills 50 --database postgres
    .venv/bin/python scripts/reliability/crash_loop.py --kills 50 --mode cli   # real `regie import`

Writes scripts/reliability/runs/crash_loop-<database>-<mode>.json (read by report.py) and
exits 1 when any check failed. The checks: tests/reliability/crashes.py.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import database, settings_for, write_run  # noqa: I001  (sets sys.path)

from tests.reliability.crashes import crash_loop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["fork", "cli"], default="fork",
                        help="fork: a forked import (fast); cli: the `regie import` command")
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--per-attempt", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regie-crash-") as tmp, database(args.database, Path(tmp)) as url:
        settings = settings_for(Path(tmp), url)
        run = crash_loop(settings, Path(tmp) / "files", kills=args.kills, seed=args.seed, mode=args.mode,
                         files=args.files, observations=20, per_attempt=args.per_attempt,
                         log=lambda line: print(line, flush=True))
    run.database = args.database
    path = write_run(f"crash_loop-{args.database}-{args.mode}", run.to_json())
    print(f"{run.kills} kills in {run.attempts} attempts, {run.survived} survived, "
          f"{run.data_lost} files lost or half imported, {len(run.problems)} problems -> {path}")
    for problem in run.problems[:20]:
        print("  " + problem)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
