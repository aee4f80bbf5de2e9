"""The tutorials are tests: every notebook in tutorials/ runs top to bottom, and is stored clean.

Each notebook runs in a fresh kernel started from this interpreter (the .venv's), with
tutorials/ as its working directory, as a reader would run it; a cell that raises fails the
test with that cell's source and error, and so does a cell that writes to stderr (a warning,
such as gradcheck's "checks nothing", is a defect in a tutorial). Notebooks are committed
without outputs, so that their diffs stay readable.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import get_kernel_dict
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CELL_TIMEOUT = 120  # seconds; the slowest cell takes about 15, more on a busy machine
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


class ThisPythonKernelManager(AsyncKernelManager):
    """Starts the kernel with this interpreter, whichever "python3" kernels are installed.

    jupyter_client looks "python3" up in the user's kernels before the .venv's own, so a kernel
    installed user-wide (``ipykernel install --user``) would run the notebooks in another
    Python, without graphgrad or with another copy of it.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        # argv: [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(**get_kernel_dict())


def run(notebook: nbformat.NotebookNode) -> None:
    """Execute every cell in a fresh kernel, in tutorials/, as a reader would."""
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        kernel_manager_class=ThisPythonKernelManager,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(TUTORIALS)}},
    )
    client.execute(env=kernel_environment())


def kernel_environment() -> dict[str, str]:
    """This process's environment, with BLAS on one thread unless it says otherwise: the
    notebooks do many small matrix products, and on a busy two-core machine BLAS threads
    waiting for each other made some notebooks three times slower, and their run times
    erratic. (The benchmarks run BLAS on one thread for the same reason.)

    The checkout comes first on PYTHONPATH, so the kernel imports the graphgrad and viz under
    test, as pytest does (pyproject.toml: pythonpath = ["."]). The kernel runs in tutorials/,
    where a relative entry (PYTHONPATH=.) names another folder, and the graphgrad it found
    was whichever one the .venv had installed, perhaps another checkout's."""
    env = dict(os.environ)
    for variable in BLAS_THREADS:
        env.setdefault(variable, "1")
    inherited = [os.path.abspath(entry)
                 for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *inherited])
    return env


KERNEL_REPORT = ("import os, sys, graphgrad\n"
                 "print(sys.executable, os.environ.get('OPENBLAS_NUM_THREADS'),\n"
                 "      graphgrad.__file__)")


def kernel_report(notebook: nbformat.NotebookNode) -> str:
    """What the KERNEL_REPORT cell, run last, printed."""
    return "".join(output.text for output in notebook.cells[-1].outputs
                   if output.output_type == "stream").strip()


def expected_kernel_report() -> str:
    """This interpreter, BLAS threads as kernel_environment sets them, this checkout's graphgrad."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "1")
    return f"{sys.executable} {threads} {ROOT / 'graphgrad' / '__init__.py'}"


def failed_cell(notebook: nbformat.NotebookNode) -> tuple[int, nbformat.NotebookNode] | None:
    for number, cell in enumerate(notebook.cells, start=1):
        if any(output.output_type == "error" for output in cell.get("outputs", [])):
            return number, cell
    return None


def stderr_report(path: Path, notebook: nbformat.NotebookNode) -> str | None:
    """The first cell that wrote to stderr (a warning), with what it wrote."""
    for number, cell in enumerate(notebook.cells, start=1):
        written = "".join(output.text for output in cell.get("outputs", [])
                          if output.output_type == "stream" and output.name == "stderr")
        if written:
            source = "\n".join("    " + line for line in cell.source.splitlines())
            return f"{path.name}, cell {number} wrote to stderr:\n\n{source}\n\n{written}"
    return None


def failure_report(path: Path, notebook: nbformat.NotebookNode, error: Exception) -> str:
    """The failing cell's number, source and error, without the terminal colours."""
    found = failed_cell(notebook)
    if found is None:  # a timeout whose interrupt left no error in the cell
        return f"{path.name}: {ANSI_COLOURS.sub('', str(error))}"
    number, cell = found
    (output,) = [o for o in cell.outputs if o.output_type == "error"]
    if isinstance(error, CellTimeoutError):  # the kernel was interrupted
        what = f"took longer than {CELL_TIMEOUT} s"
    else:
        what = f"raised {output.ename}: {output.evalue}"
    source = "\n".join("    " + line for line in cell.source.splitlines())
    traceback = ANSI_COLOURS.sub("", "\n".join(output.traceback))
    return f"{path.name}, cell {number} {what}\n\n{source}\n\n{traceback}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    # One more cell, to check which Python and which graphgrad ran the notebook, and with how
    # many BLAS threads; the file is left as it is.
    notebook.cells.append(nbformat.v4.new_code_cell(KERNEL_REPORT))
    failure = None
    try:
        run(notebook)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failure = failure_report(path, notebook, error)
    failure = failure or stderr_report(path, notebook)
    if failure:  # outside the except block, so the report is not followed by nbclient's own
        pytest.fail(failure, pytrace=False)
    assert kernel_report(notebook) == expected_kernel_report()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [number for number, cell in enumerate(notebook.cells, start=1)
             if "execution" in cell.metadata or cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (
        f"{path.name}: cells {dirty} were saved with outputs, execution counts or timings. "
        "Clear them before committing: scripts/clear-notebook-outputs"
    )
    assert notebook.metadata.kernelspec.name == "python3", (
        f"{path.name} names the kernel {notebook.metadata.kernelspec.name!r}, which other "
        "machines may not have: scripts/clear-notebook-outputs sets the standard 'python3'"
    )


def test_a_cell_that_warns_fails_its_notebook(tmp_path: Path) -> None:
    """gradcheck passing with a warning that it checked nothing must not pass unseen."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('fine')"),
        nbformat.v4.new_code_cell("import warnings\nwarnings.warn('this checks nothing')")])
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    run(notebook)
    report = stderr_report(tmp_path / "demo.ipynb", notebook)
    assert report is not None and report.startswith("demo.ipynb, cell 2 wrote to stderr")
    assert "UserWarning: this checks nothing" in report


def test_the_kernel_imports_this_checkouts_graphgrad_whatever_pythonpath_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another graphgrad on PYTHONPATH (another checkout's, say) is not the one under test."""
    (tmp_path / "graphgrad").mkdir()
    (tmp_path / "graphgrad" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_REPORT)])
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    run(notebook)
    assert kernel_report(notebook) == expected_kernel_report()
    # A relative entry means the folder pytest was started in, not the kernel's tutorials/.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([".", "", "lib"]))
    assert kernel_environment()["PYTHONPATH"].split(os.pathsep) == [
        str(ROOT), str(tmp_path), str(tmp_path / "lib")]


def test_the_tutorials_are_found_and_numbered_in_reading_order() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert "01_computation_graphs.ipynb" in names
    assert all(re.fullmatch(r"\d\d_\w+\.ipynb", name) for name in names), names
