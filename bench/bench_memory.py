"""Peak memory of importing a big FHIR file (issue 9, benchmark 5): streamed, not loaded whole.

    .venv/bin/python bench/bench_memory.py [megabytes] [--database-url URL] [--no-web]

Writes a searchset Bundle of about ``megabytes`` MB (bench_viewer's resource mix), then
measures the peak resident set (VmHWM, the kernel's high-water mark; for a finished child
the same figure as ``ru_maxrss``) of each process, started on its own:

- Python with Regie's CLI imported (the floor);
- ``orjson.loads`` of the whole file (what reading it whole costs at least: the limit
  measured in the same run);
- the real ``regie import`` of the file into a fresh database (streamed in parts by
  regie.fhir.stream);
- `regie serve` receiving the file on the upload page (/record/upload, streamed the same
  way): its VmHWM after start-up and sign-in, and after the upload. The page takes at most
  the upload limits of regie.web.uploads (50 MB a request by default), so the web file is
  the same Bundle cut to ``--web-megabytes`` (default 45).

Target: < 300 MB for each importing process. REGIE_STREAM_IMPORT_BYTES lowers the
streaming threshold for small (smoke) runs. XML files are read whole (only JSON Bundles
are streamed): they are not measured here.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_viewer import resource  # noqa: E402

# Runs a command as its only child and prints the child's peak RSS in KiB.
MEASURE = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")

# `regie db upgrade`, then the command in the arguments, in one process (set-up, not measured:
# a second process would only import Regie again).
SET_UP = ("import sys; from regie.cli.main import app; "
          "sys.exit(app(['db', 'upgrade'], prog_name='regie', standalone_mode=False) "
          "or app(sys.argv[1:], prog_name='regie', standalone_mode=False))")


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


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "paars-fietsje-wandelt-42"


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _csrf(client: httpx.Client, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)


def web_upload(env: dict[str, str], path: Path, codes: list[str], log: Path) -> tuple[float, float, float, int]:
    """(VmHWM after sign-in, VmHWM after the upload, seconds, status) of `regie serve`; the
    status is -1 when the page imported the file whole instead of in parts."""
    port = _free_port()
    regie = [sys.executable, "-m", "regie.cli.main"]
    server = subprocess.Popen([*regie, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=log.open("ab"))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=2) as probe:  # one client: httpx.get makes one (~50 ms CPU) a call
            while True:
                try:
                    if probe.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"regie serve did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=600) as client:
            client.post("/login", data={"email": "big@voorbeeld.nl", "password": PASSWORD,
                                        "csrf_token": _csrf(client, "/login")})
            done = client.post("/login/recovery", data={"code": codes[0], "csrf_token": _csrf(client, "/login/recovery")})
            assert done.status_code == 303, done.text[:300]
            token = _csrf(client, "/record/upload")
            before = vm_hwm_mb(server.pid)
            started = time.perf_counter()
            with path.open("rb") as handle:  # httpx sends the file in chunks
                answer = client.post("/record/upload", data={"csrf_token": token},
                                     files={"files": (path.name, handle, "application/fhir+json")})
            seconds = time.perf_counter() - started
        # More entries than one part holds: the page must list the parts (it streamed the file).
        streamed = "(part 2)" in answer.text
        return before, vm_hwm_mb(server.pid), seconds, answer.status_code if streamed or "(part 1)" in answer.text \
            or answer.status_code != 200 else -1
    finally:
        server.terminate()
        server.wait(30)


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
    parser.add_argument("--no-web", action="store_true", help="skip the upload page")
    parser.add_argument("--web-megabytes", type=float, default=45.0)
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
    created = subprocess.run([sys.executable, "-c", SET_UP, "user", "create", "big@voorbeeld.nl", "--password-stdin",
                              "--json"], env=env, check=True, capture_output=True, input=PASSWORD.encode() + b"\n")
    codes = orjson.loads(created.stdout.splitlines()[-1])["recovery_codes"]
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
    failed = imported >= 300
    if not args.no_web:
        web_path = folder / "upload.json"
        web_count = write_bundle(web_path, min(args.megabytes, args.web_megabytes))
        web_size = web_path.stat().st_size
        before, after, web_s, status = web_upload(env, web_path, codes, folder / "serve.log")
        print(f"\n| `regie serve`, upload page | VmHWM |\n|---|---|\n| after start-up and sign-in | {before:.0f} MB |\n"
              f"| after uploading {web_size / 1_000_000:.0f} MB ({web_count} resources, {web_s:.1f} s, "
              f"status {status}) | {after:.0f} MB |")
        print(f"upload: {after - before:.0f} MB above the signed-in web process for a {web_size / 1_000_000:.0f} MB file")
        failed = failed or after >= 300 or status != 200
    print(f"target: every importing process < 300 MB: {'missed' if failed else 'met'}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
