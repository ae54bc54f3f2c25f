"""Regie's commands as separate processes, for the tests that signal or kill them.

A new interpreter spends 3-4 s of CPU importing Regie before it does anything. Most of these
tests are about what a running process does when it is signalled or killed, not about its
start, so ``regie(...)`` forks this process (Regie already imported) and runs the real command
line (`regie serve`, `regie worker`: regie.cli.main with the given arguments and environment)
in the child. ``fresh=True`` starts a new interpreter instead, ``python -m regie.cli.main``,
as a deployment does; tests/cli/test_worker_cli.py (SQLite), tests/cli/test_serve_workers_metrics.py
and tests/cli/test_demo.py keep doing that, so a command that only works in an
already-warm process still fails there.

scripts/reliability/ runs the long loops with new interpreters only."""
from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx


def environment(settings) -> dict[str, str]:
    """*settings* as REGIE_* variables for a process of its own (the other REGIE_* dropped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_")}
    for name, value in settings.model_dump(exclude_defaults=True).items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple, dict)):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"REGIE_{name.upper()}"] = text
    return env


def upgraded(env: Mapping[str, str]) -> None:
    """`regie db upgrade` (the command itself: migrations, the master key on a first start)
    run in this process: the same fresh database as a process of its own, without its imports."""
    from typer.testing import CliRunner

    from regie.cli.main import app

    # Like a process of its own, it sees exactly *env*'s REGIE_* variables.
    dropped = {name: None for name in os.environ if name.startswith("REGIE_") and name not in env}
    result = CliRunner().invoke(app, ["db", "upgrade"], env={**dropped, **env})
    assert result.exit_code == 0, result.output


class Forked:
    """`regie <args>` in a fork of this process; answers like subprocess.Popen."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path,
                 prepare: Callable[[], None] | None = None) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the test
            code = 1
            try:
                code = _run_command(args, env, out, prepare)
            finally:
                os._exit(code)
        os.close(out)
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)  # -N when signal N ended it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def become_child(env: Mapping[str, str], out: int, err: int) -> None:
    """In a fresh fork: what the test process set up is not the child's. The objects it left
    (database connections among them) are never collected here, the signals act as in a new
    interpreter, the output goes to *out* and *err* (file descriptors, closed here) and the
    environment is exactly *env*."""
    gc.freeze()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in {out, err}:
        os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)


def _run_command(args: list[str], env: Mapping[str, str], out: int, prepare: Callable[[], None] | None) -> int:
    become_child(env, out, out)
    try:
        if prepare is not None:
            prepare()
        from regie.cli.main import app

        app(args, prog_name="regie")
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - shown in the log, like an uncaught error would be
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def regie(args: list[str], env: Mapping[str, str], log: Path, *, fresh: bool = False,
          prepare: Callable[[], None] | None = None) -> Forked | subprocess.Popen:
    """Start `regie <args>` with *env*, its output appended to *log*: a fork of this process,
    or with *fresh* a new interpreter."""
    if not fresh:
        return Forked(args, env, log, prepare)
    assert prepare is None, "a new interpreter runs only the command"
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "regie.cli.main", *args], env=dict(env),
                                stdout=out, stderr=subprocess.STDOUT)


def local_get(url: str, **options) -> httpx.Response:
    """GET over plain HTTP on this machine, on a new connection. Without certificates to
    check: ``httpx.get`` otherwise loads the CA bundle for every call, ~60 ms of CPU, which
    in a loop polling a starting server added up to seconds per test."""
    return httpx.get(url, verify=False, **options)


def local_client(**options) -> httpx.Client:
    """An httpx.Client for plain HTTP on this machine (no CA bundle loaded: see local_get)."""
    return httpx.Client(verify=False, **options)


def wait_answering(url: str, process: Forked | subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Until *url* answers 200; fails at once, with the log's end, when the process stopped."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the process stopped ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if local_get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout} s: {log.read_text()[-2000:]}")
        time.sleep(0.05)


def stop(process: Forked | subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL when it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


class Server:
    """`regie serve` on 127.0.0.1:*port*, started again as often as a test needs."""

    def __init__(self, env: Mapping[str, str], port: int, log: Path, *, fresh: bool = False) -> None:
        self.env, self.port, self.log, self.fresh = env, port, log, fresh
        self.process: Forked | subprocess.Popen | None = None

    def start(self) -> None:
        self.process = regie(["serve", "--host", "127.0.0.1", "--port", str(self.port)], self.env, self.log,
                             fresh=self.fresh)
        wait_answering(f"http://127.0.0.1:{self.port}/healthz", self.process, self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
