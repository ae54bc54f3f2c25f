"""Provider faults soak (nightly-style): every sandbox fault type at every service of the
provider, several users collecting at once, for --minutes (default 10).

    .venv/bin/python scripts/reliability/soak.py --minutes 10 --database sqlite
    .venv/bin/python scripts/reliability/soak.py --minutes 10 --database postgres

Writes scripts/reliability/runs/soak-<database>.json (read by report.py); exits 1 on any
problem. The checks: tests/reliability/soak.py.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import database, write_run  # noqa: I001  (sets sys.path)

from tests.reliability.soak import soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regie-soak-") as tmp, database(args.database, Path(tmp)) as url:
        run = soak(Path(tmp), url, seconds=args.minutes * 60, users=args.users,
                   log=lambda line: print(line, flush=True))
    run.database = args.database
    path = write_run(f"soak-{args.database}", run.to_json())
    print(f"{run.rounds} rounds, {run.collections} collections, {run.faults_injected} faults, "
          f"{run.stuck_jobs} stuck, {run.unhandled_exceptions} unhandled, RSS {run.rss_start_mb} -> "
          f"{run.rss_end_mb} MB, {len(run.problems)} problems -> {path}")
    for problem in run.problems[:20]:
        print("  " + problem)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
