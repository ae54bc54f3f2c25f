"""A bench script run as ``python bench/<script> <args>`` would run it, in a fork of the test
process: the script's parent process then starts with Regie already imported (3-4 s of CPU
a new interpreter spends before it does anything), which is most of a tiny-size smoke run.

The script still runs as ``__main__`` with its own arguments, environment, working folder
and output; what it starts (`regie serve`, `regie worker`, spawned builders, the sandbox)
are new interpreters as in a full run. ``sys.path`` is set to what a new interpreter has
(the script's folder first, not the repository root), so a script that forgets its own
path set-up still fails unless the module it needs happens to be imported already."""
from __future__ import annotations

import os
import runpy
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.processes import become_child


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run_script(script: Path, args: list[str], env: Mapping[str, str], cwd: Path, timeout: float) -> Finished:
    """Run *script* with *args* in a fork; its process group is killed after *timeout* s."""
    out_path, err_path = cwd / f".{script.stem}.stdout", cwd / f".{script.stem}.stderr"
    sys.stdout.flush()
    sys.stderr.flush()
    out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        code = 1
        try:
            code = _run(script, args, env, cwd, out, err)
        finally:
            os._exit(code)
    os.close(out)
    os.close(err)
    deadline = time.monotonic() + timeout
    status = None
    while status is None:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
        elif time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)  # the script and what it started
            os.waitpid(pid, 0)
            status = -signal.SIGKILL
        else:
            time.sleep(0.05)
    return Finished(status, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def _run(script: Path, args: list[str], env: Mapping[str, str], cwd: Path, out: int, err: int) -> int:
    os.setpgid(0, 0)  # the timeout kills the script and what it started
    devnull = os.open(os.devnull, os.O_RDONLY)  # not the test process's stdin (xdist's channel)
    os.dup2(devnull, 0)
    os.close(devnull)
    become_child(env, out, err)
    os.chdir(cwd)
    repo = script.resolve().parents[1]
    sys.path[:] = [str(script.parent), *(p for p in sys.path if p and Path(p).resolve() != repo)]
    sys.argv = [str(script), *args]
    try:
        runpy.run_path(str(script), run_name="__main__")
        return 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)  # as the interpreter does with a message
        return 1
    except BaseException:  # noqa: BLE001 - shown on stderr, like an uncaught error would be
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
