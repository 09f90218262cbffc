"""The notebooks and the badges: numbered, Colab-ready, pointing where pyproject says."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPO = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
PATH = REPO.removeprefix("https://github.com/")
BADGE = re.compile(r"https://(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github)/([^/]+/[^/]+)/"
                   r"(?:HEAD\?urlpath=lab/tree|blob/main)/(notebooks/[\w.-]+\.ipynb)")  # fmt: skip


def test_seven_numbered_notebooks_and_the_scikit_learn_one():
    names = [p.stem for p in NOTEBOOKS]
    assert [n[:2] for n in names] == ["01", "02", "03", "04", "05", "06", "07", "08"], names


def test_every_badge_points_at_the_repository_and_a_notebook_that_exists():
    texts = [(ROOT / "README.md").read_text()]
    texts += [nbformat.read(p, 4).cells[0].source for p in NOTEBOOKS]
    found = [m for text in texts for m in BADGE.findall(text)]
    assert len(found) >= 2 + 2 * 8
    for repo, notebook in found:
        assert repo == PATH, (repo, PATH)
        assert (ROOT / notebook).is_file(), notebook


def test_each_notebook_installs_sweepnb_only_on_colab_and_explains_itself():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, 4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert 'if "google.colab" in sys.modules' in code, path.name
        assert len(prose) > 600, f"{path.name}: too little text for a reader"
        assert "ipympl" not in code and "%matplotlib widget" not in code  # core widgets only
