"""Issue 13: what `pip install sweepnb` brings, and what only the extras bring."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import tomllib

import sweepnb

ROOT = Path(__file__).resolve().parent.parent
SERVER_PACKAGES = ("jupyterlab", "jupyter_server", "jupyter-server", "notebook", "nbclassic")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_a_plain_install_leaves_the_notebook_server_alone():
    assert not names(project()["dependencies"]) & set(SERVER_PACKAGES)


def test_binder_and_the_lab_extra_bring_jupyterlab():
    extras = project()["optional-dependencies"]
    assert "jupyterlab" in names(extras["lab"])
    lines = [
        line.strip()
        for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == [".[lab]"]


def test_sweepnb_imports_no_notebook_server():
    code = (
        "import sys, sweepnb, sweepnb.notebook.magics, sweepnb.notebook.dashboard, sweepnb.cli;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_PACKAGES!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_test_extra_brings_the_frameworks_with_a_pinned_cpu_torch():
    # issue 24: a looser torch lets pip pick a newer release, a CUDA build of several GB
    extras = project()["optional-dependencies"]
    assert "sweepnb[frameworks]" in extras["test"]
    assert {"torch", "transformers", "lightning", "keras"} <= names(extras["frameworks"])
    assert [r for r in extras["frameworks"] if names([r]) == {"torch"}] == ["torch==2.13.0"]


def test_the_offline_wandb_package_metadata_ships_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "compat/shim/*.dist-info/*" in data["package-data"]["sweepnb"]
    (metadata,) = (ROOT / "sweepnb" / "compat" / "shim").glob("wandb-*.dist-info/METADATA")
    assert "Name: wandb" in metadata.read_text()


def test_the_version_is_written_once_and_installed_as_is():
    # pyproject.toml reads it from sweepnb/_meta.py, so a release cannot ship two versions
    assert "version" not in project() and "version" in project()["dynamic"]
    assert importlib.metadata.version("sweepnb") == sweepnb.__version__
