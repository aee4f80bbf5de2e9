"""Packaging: what a wheel and a source distribution of the checkout hold.

Both are built from a copy of the checkout with the setuptools already installed (no network,
no build isolation): the wheel's files are what ``setup.py build_py`` lays out, which is what
the wheel is made of.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("setuptools")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("graphgrad", "viz")
JUNK = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".hypothesis", ".ipynb_checkpoints",
                              "output")


def _copy_checkout(to: Path) -> Path:
    """The files a build reads, without the checkout's build/ and *.egg-info leftovers."""
    for name in (*PACKAGES, "tests", "tutorials"):
        shutil.copytree(ROOT / name, to / name, ignore=JUNK)
    for name in ("setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, to / name)
    return to


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_the_source_distribution_holds_the_whole_test_suite_and_the_tutorials(tmp_path):
    source = _copy_checkout(tmp_path / "checkout")
    subprocess.run(
        [sys.executable, "-c",
         "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])",
         str(tmp_path / "dist")],
        cwd=source, check=True, capture_output=True,
    )
    (sdist,) = (tmp_path / "dist").glob("graphgrad-*.tar.gz")
    with tarfile.open(sdist) as archive:
        shipped = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = {f"{folder}/{name}" for folder in ("tests", "tutorials")
              for name in _files(source / folder)}
    assert {"tests/conftest.py", "tests/op_table.py", "tutorials/README.md"} <= wanted
    assert wanted - shipped == set()
    assert "LICENSE" in shipped  # the MIT licence setup.cfg names asks for its text
    assert [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")] == []


def test_the_wheel_holds_every_subpackage_and_the_type_hints_marker_and_no_tests(tmp_path):
    source = _copy_checkout(tmp_path / "checkout")
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()",
         "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=source, check=True, capture_output=True,
    )
    shipped = _files(tmp_path / "lib")
    modules = {f"{package}/{name}" for package in PACKAGES
               for name in _files(source / package) if name.endswith(".py")}
    assert {"graphgrad/ops/__init__.py", "graphgrad/gradcheck/check.py",
            "viz/render.py"} <= modules
    assert modules - shipped == set()  # a folder without __init__.py would be left out
    assert {"graphgrad/py.typed", "viz/py.typed"} <= shipped  # PEP 561: hints are read
    assert {name.split("/")[0] for name in shipped} == set(PACKAGES)


def _fake_programs(bin_dir: Path, **scripts: str) -> dict[str, str]:
    """An environment whose PATH holds only a few plain programs and the given scripts."""
    bin_dir.mkdir()
    for name in ("bash", "dirname", "basename", "cat", "rm", "cksum", "mkdir", "chmod"):
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"no {name} here")
        (bin_dir / name).symlink_to(found)
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(bin_dir)}


def test_setup_without_root_or_sudo_says_what_to_install_as_root(tmp_path):
    env = _fake_programs(tmp_path / "bin", id="echo 1000",
                         **{"apt-get": f"touch {tmp_path / 'apt-get-ran'}"})
    done = subprocess.run([str(ROOT / "scripts" / "setup")], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 1
    assert "installing them needs root (there is no sudo here): as root, run 'apt-get " \
        "install graphviz'" in done.stderr
    assert not (tmp_path / "apt-get-ran").exists()


def test_setup_names_the_venv_package_of_the_python_it_was_given(tmp_path):
    # PYTHON=python3.12 on Debian needs python3.12-venv: python3-venv is the default one's
    env = _fake_programs(tmp_path / "bin", id="echo 1000", dot="", python3="exit 1",
                         **{"python3.12": "exit 1", "apt-get": "exit 0"})
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", project / "scripts" / "setup")
    for python, package in (("python3.12", "python3.12-venv"), ("python3", "python3-venv")):
        done = subprocess.run([str(project / "scripts" / "setup")],
                              env={**env, "PYTHON": python}, capture_output=True, text=True)
        assert done.returncode == 1
        assert f"the system package(s) {package} are missing" in done.stderr


def test_setup_makes_again_a_venv_whose_python_is_gone_without_asking_for_python3_venv(tmp_path):
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for name in ("scripts/setup", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to("/gone/python3.9")  # Python upgraded
    log = tmp_path / "log"
    # venv fails on a directory holding a dangling python, as Python's own venv does when
    # the Python it links to was removed; otherwise it makes a .venv whose python logs.
    env = _fake_programs(
        tmp_path / "bin", id="echo 1000", dot="", **{"apt-get": f"echo apt-get >> {log}"},
        python3=f"""[ -L .venv/bin/python ] && exit 1
mkdir -p .venv/bin && printf '#!/bin/sh\necho "$*" >> {log}\n' > .venv/bin/python
chmod +x .venv/bin/python""")
    done = subprocess.run([str(project / "scripts" / "setup")], env=env, capture_output=True,
                          text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert log.read_text().splitlines() == [
        "-m pip install --quiet --disable-pip-version-check -e .[dev]"]


# A merge's conflict markers, built here so that this file does not hold them itself.
_MARKERS = ("<" * 7 + " ", "=" * 7, ">" * 7 + " ")
_CHECKED = (".py", ".md", ".cfg", ".toml", ".ipynb", ".txt", ".in")


def _conflict_lines(root: Path) -> list[str]:
    """``path:line`` of each line of the text files under ``root`` (scripts/ and .ci/ too;
    not .git, .venv, build or outputs) that is a merge's conflict marker."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d == ".ci" or not (
            d.startswith(".") or d in ("build", "demo_output", "output", "__pycache__")))
        here = Path(folder)
        whole_folder = here.relative_to(root).parts[:1] in (("scripts",), (".ci",))
        for name in sorted(names):
            path = here / name
            if not (whole_folder or path.suffix in _CHECKED):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if line.startswith(_MARKERS[::2]) or line == _MARKERS[1]:
                    found.append(f"{path.relative_to(root).as_posix()}:{number}")
    return found


def test_no_file_of_the_checkout_holds_a_merges_conflict_markers(tmp_path):
    assert _conflict_lines(ROOT) == []
    # and the check finds them where they are
    (tmp_path / "README.md").write_text(
        f"a\n{_MARKERS[0]}HEAD\nours\n{_MARKERS[1]}\ntheirs\n{_MARKERS[2]}1234 commit\n")
    assert _conflict_lines(tmp_path) == ["README.md:2", "README.md:4", "README.md:6"]
