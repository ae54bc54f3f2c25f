"""`regie` imports a command's module only when that command runs (regie.cli.lazy): every
process the suite or a person starts paid seconds of CPU for the whole web app before."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from regie.cli.main import RegieCommands

# Loaded by the web app, the PDF export or list validation; a command line must not pay for them
# unless it runs such a command.
HEAVY = ("regie.web.app", "regie.web.pages", "regie.portability", "reportlab", "fpdf", "xmlschema", "fastapi")


def _run(*args: str) -> tuple[str, list[str]]:
    """The output of `regie ARGS` in a fresh interpreter, and the modules it loaded."""
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['regie', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('regie.cli.main', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                          env={**os.environ, "COLUMNS": "200"})
    output, _, modules = done.stdout.rpartition("\n\n")
    return output, json.loads(modules)


def test_importing_the_entry_point_loads_no_command() -> None:
    code = "import json, sys, regie.cli.main; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    modules = json.loads(done.stdout)
    assert not [m for m in modules if m.startswith(("regie.store", "regie.web", "sqlalchemy", *HEAVY))]
    assert not [m for m in modules if m.startswith("regie.cli.") and m not in ("regie.cli.main", "regie.cli.lazy")]


def test_help_lists_every_command_and_loads_no_heavy_module() -> None:
    # --help imports every command's module: none may import the web app, PDF or XML libraries at the top.
    output, modules = _run("--help")
    for name in RegieCommands.targets:
        assert f" {name} " in output, name
    assert "Run background jobs" in output and "Database: create and migrate." in output
    assert [m for m in modules if m.startswith(HEAVY)] == []


def test_a_command_loads_only_its_own_module() -> None:
    output, modules = _run("worker", "--help")
    assert "Run background jobs" in output
    assert "regie.cli.worker" in modules
    assert not [m for m in modules if m.startswith(("regie.cli.demo", "regie.cli.serve", "regie.cli.record",
                                                    "regie.store", "regie.web"))]
