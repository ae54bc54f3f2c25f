"""A private PostgreSQL cluster for one test: initdb into a temporary folder, its own port and
socket folder, started and stopped with pg_ctl. The machine's shared PostgreSQL is used by
other tests at the same time and is never restarted; this one may be.

PostgreSQL refuses to run as root: when the tests run as root, the cluster runs as the
``postgres`` system user (its folder is handed to that user)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.sandbox.live import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def missing_reason() -> str | None:
    if pg_bin() is None:
        return "PostgreSQL server programs (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres system user to run a private cluster"
    return None


class PrivateCluster:
    def __init__(self, folder: Path) -> None:
        self.bin = pg_bin()
        assert self.bin is not None
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = (self.folder / "server.log")
            raise RuntimeError(f"{args[0]} failed: {done.stderr[-1500:]}\n"
                               f"{log.read_text()[-1500:] if log.exists() else ''}")

    def init(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _server_options(self) -> list[str]:
        # -l on every start: without it the server writes to pg_ctl's output, which then never ends.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")
        return ["-l", str(self.folder / "server.log"), "-o", options]

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), *self._server_options(), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), *self._server_options(), "-m", "fast", "-w", "-t", "60", "restart")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def answers(self) -> bool:
        engine = create_engine(self.url, connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            engine.dispose()


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    # Not under pytest's tmp_path: that folder is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="regie-pg-"))
    cluster = PrivateCluster(folder)
    cluster.init()
    cluster.start()
    try:
        deadline = time.monotonic() + 30
        while not cluster.answers():
            assert time.monotonic() < deadline, "the private PostgreSQL did not answer"
            time.sleep(0.2)
        yield cluster
    finally:
        if cluster.running():
            try:
                cluster.stop("immediate")
            except Exception:
                pass
        shutil.rmtree(folder, ignore_errors=True)
