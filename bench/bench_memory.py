"""Peak memory of `regie import` on a big FHIR file (issue 9, benchmark 5): streamed, not
loaded whole.

    .venv/bin/python bench/bench_memory.py [megabytes] [--database-url URL]

Writes a searchset Bundle of about ``megabytes`` MB (bench_viewer's resource mix), then
measures the peak resident set (ru_maxrss) of three processes, each started on its own:
Python with Regie's CLI imported (the floor), ``orjson.loads`` of the whole file (what
reading it whole costs at least: the limit measured in the same run), and the real
``regie import`` of the file into a fresh database (streamed in parts by
regie.fhir.stream; REGIE_STREAM_IMPORT_BYTES lowers the threshold for small runs).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_viewer import resource  # noqa: E402

# Runs a command as its only child and prints the child's peak RSS in KiB.
MEASURE = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")


def write_bundle(path: Path, megabytes: float) -> int:
    rng = random.Random(5)
    target = int(megabytes * 1_000_000)
    count = 0
    with path.open("wb") as out:
        out.write(b'{"resourceType":"Bundle","type":"searchset","entry":[')
        written = 0
        while written < target:
            entry = orjson.dumps({"fullUrl": f"urn:uuid:{count:08d}-0000-4000-8000-000000000000",
                                  "resource": resource(count, rng), "search": {"mode": "match"}})
            out.write((b"," if count else b"") + entry)
            written += len(entry) + 1
            count += 1
        out.write(b"]}")
    return count


def peak(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one command."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return int(done.stderr.strip().splitlines()[-1]) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("megabytes", nargs="?", type=float, default=100.0)
    parser.add_argument("--database-url")
    parser.add_argument("--no-import", action="store_true", help="only the floor and the whole-file parse")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    path = folder / "export.json"
    count = write_bundle(path, args.megabytes)
    size = path.stat().st_size
    env = {**os.environ, "REGIE_HOME": str(folder / "home"), "REGIE_ARGON2_TIME_COST": "1",
           "REGIE_ARGON2_MEMORY_COST_KIB": "8", "REGIE_ARGON2_PARALLELISM": "1", "REGIE_LOG_LEVEL": "WARNING"}
    if args.database_url:
        env["REGIE_DATABASE_URL"] = args.database_url
    else:
        env.pop("REGIE_DATABASE_URL", None)
    if size < 32 * 1024 * 1024:
        env.setdefault("REGIE_STREAM_IMPORT_BYTES", str(min(size, 1024 * 1024)))
    regie = [sys.executable, "-m", "regie.cli.main"]
    subprocess.run([*regie, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*regie, "user", "create", "big@voorbeeld.nl", "--password-stdin"], env=env, check=True,
                   capture_output=True, input=b"paars-fietsje-wandelt-42\n")
    floor, _ = peak([sys.executable, "-c", "import regie.cli.main, regie.store.ingest"], env)
    whole, whole_s = peak([sys.executable, "-c", f"import orjson; orjson.loads(open({str(path)!r}, 'rb').read())"], env)
    if args.no_import:
        print(f"file {size / 1_000_000:.0f} MB, {count} resources: floor {floor:.0f} MB, "
              f"orjson.loads of the whole file {whole:.0f} MB ({whole_s:.1f} s)")
        return
    imported, import_s = peak([*regie, "import", "--user", "big@voorbeeld.nl", "--fhir-version", "stu3", str(path)], env)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"file {size / 1_000_000:.0f} MB, {count} resources")
    print("\n| process | peak RSS | seconds |\n|---|---|---|")
    print(f"| Python + Regie's CLI imported (floor) | {floor:.0f} MB | |")
    print(f"| `orjson.loads` of the whole file (limit) | {whole:.0f} MB | {whole_s:.1f} |")
    print(f"| `regie import` of the file (streamed) | {imported:.0f} MB | {import_s:.1f} "
          f"({count / import_s:.0f} resources/s) |")
    print(f"import peak / whole-file parse peak: {imported / whole:.2f}; above the floor: {imported - floor:.0f} MB")


if __name__ == "__main__":
    main()
