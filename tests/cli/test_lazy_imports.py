"""`regie` imports a command's module only when that command runs (regie.cli.lazy): every
process the suite or a person starts paid seconds of CPU for the whole web app before."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from regie.cli.main import RegieCommands

# Loaded by the web app, the PDF export or list validation; a command line must not pay for them
# unless it runs such a command.
HEAVY = ("regie.web.app", "regie.web.pages", "regie.portability", "reportlab", "fpdf", "xmlschema", "fastapi")


def _modules_after(*args: str) -> list[str]:
    """The modules loaded by `regie ARGS` in a fresh interpreter."""
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['regie', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('regie.cli.main', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY)]


def test_importing_the_entry_point_loads_no_command() -> None:
    code = "import json, sys, regie.cli.main; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    modules = json.loads(done.stdout)
    assert not [m for m in modules if m.startswith(("regie.store", "regie.web", "sqlalchemy", *HEAVY))]
    assert not [m for m in modules if m.startswith("regie.cli.") and m not in ("regie.cli.main", "regie.cli.lazy")]


@pytest.mark.parametrize("args", [("--help",), ("worker", "--help"), ("sandbox", "--help"), ("serve", "--help"),
                                  ("demo", "--help"), ("db", "upgrade", "--help"), ("import", "--help")])
def test_help_loads_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _heavy(_modules_after(*args)) == []


def test_a_command_loads_only_its_own_module() -> None:
    modules = _modules_after("worker", "--help")
    assert "regie.cli.worker" in modules
    assert not [m for m in modules if m.startswith(("regie.cli.demo", "regie.cli.serve", "regie.cli.record"))]


def test_help_lists_every_command_with_its_help() -> None:
    done = subprocess.run([sys.executable, "-m", "regie.cli.main", "--help"], capture_output=True, text=True,
                          timeout=120, check=True, env={**os.environ, "COLUMNS": "200"})
    for name in RegieCommands.targets:
        assert f" {name} " in done.stdout, name
    assert "Run background jobs" in done.stdout and "Database: create and migrate." in done.stdout
