"""Binder builds the environment the way repo2docker does, and the notebooks run in it.

repo2docker, when a ``binder/`` folder exists, ignores the repository's root files and installs
``binder/requirements.txt`` with pip from the repository root (so ``.[lab]`` is this checkout),
then runs ``binder/postBuild``. This test does the same in a fresh virtual environment (no system
site-packages) and runs the quickstart there with nbval. It needs PyPI (as Binder does); without
it, it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_binder_builds_like_repo2docker_and_runs_the_quickstart(tmp_path):
    repo = tmp_path / "repo"  # a clean copy: what Binder clones (no build leftovers, no stores)
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", ".sweepnb", "artifacts"),
    )
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SWEEPNB_STORE")},
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
    }
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        tail = install.stderr.strip().splitlines()[-3:]
        if any("Could not find" in line or "connection" in line.lower() for line in tail):
            pytest.skip(f"no package index reachable: {' | '.join(tail)}")
        pytest.fail("pip install -r binder/requirements.txt failed: " + " | ".join(tail))
    post = subprocess.run(
        ["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert post.returncode == 0, post.stderr
    check = subprocess.run(
        [str(python), "-c", "import jupyterlab, sweepnb, sys; print(sweepnb.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert str(env_dir) in check.stdout  # installed into the environment, not this checkout
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "nbval", "pytest"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "notebooks/01-quickstart.ipynb", "notebooks/02-build-a-sweep-with-widgets.ipynb"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert not list(repo.rglob("sweeps.db")), "a notebook left a store in the repository"
