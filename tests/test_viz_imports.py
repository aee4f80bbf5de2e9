"""Importing viz without the Python packages it draws with (graphviz, matplotlib, Pillow), as
``pip install --no-deps`` leaves it: the error names each missing one and the command that
installs it. Each import runs in a fresh interpreter, the packages blocked there."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Blocks the packages as if they were not installed, imports viz and reports what it raised.
PROGRAM = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None  # import name: ModuleNotFoundError, as when it is not installed
import graphgrad as gg
try:
    import viz
except BaseException as error:
    print(json.dumps({{"type": type(error).__name__, "message": str(error),
                      "name": getattr(error, "name", None),
                      "graphgrad": isinstance(error, gg.GraphgradError),
                      "module_not_found": isinstance(error, ModuleNotFoundError)}}))
else:
    print(json.dumps(None))
"""


def _import_viz_without(*blocked: str) -> dict | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's graphgrad and viz
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(blocked=blocked)], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("blocked, first, named, command", [
    (("PIL",), "PIL", r"package Pillow \(imported as PIL\)", "it: pip install pillow"),
    (("matplotlib",), "matplotlib", "package matplotlib", "it: pip install matplotlib"),
    (("graphviz",), "graphviz", "package graphviz", "it: pip install graphviz"),
    (("PIL", "graphviz", "matplotlib"), "graphviz",
     r"packages graphviz, Pillow \(imported as PIL\) and matplotlib",
     "them: pip install graphviz pillow matplotlib"),
], ids=["Pillow", "matplotlib", "graphviz", "all three"])
def test_importing_viz_without_a_package_names_it_and_how_to_install_it(blocked, first, named,
                                                                        command):
    """It said "No module named 'PIL'" (or "import of PIL halted"), from inside viz.animate;
    without Pillow, matplotlib (which needs it) is not named."""
    raised = _import_viz_without(*blocked)
    assert raised is not None, "viz imported without " + ", ".join(blocked)
    assert raised["type"] == "MissingPackageError"
    assert raised["graphgrad"] and raised["module_not_found"]  # as the error it replaces
    assert raised["name"] == first
    assert re.match(rf"viz needs the Python {named}, which (is|are) not installed",
                    raised["message"]), raised["message"]
    assert raised["message"].endswith(f"Install {command}"), raised["message"]


def test_viz_imports_with_every_package_it_needs():
    assert _import_viz_without() is None
