"""W&B calls with no offline meaning: accepted, and they say so once when they drop data.

>>> import sweepnb.compat.offline as w
>>> w.login(key="not-needed")
True
>>> w.termwarn("careful")   # doctest: +SKIP
wandb: WARNING careful
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sweepnb.compat.names import notice_once
from sweepnb.errors import SweepnbError


def login(*args: Any, **kwargs: Any) -> bool:
    """``wandb.login()``: nothing to log in to offline; returns True (W&B: logged in)."""
    return True


def setup(*args: Any, **kwargs: Any) -> None:
    """``wandb.setup()``: W&B starts its service process; there is none here."""
    return


def require(*args: Any, **kwargs: Any) -> None:
    """``wandb.require("core")`` and the like: no optional features to turn on."""
    return


def save(
    glob_str: Any = None, base_path: Any = None, policy: str = "live", *, run: Any = None
) -> list[str]:
    """``wandb.save(path_or_glob)``: the matching files are copied into the run's folder
    (``run.dir``, beside the store), keeping their paths below ``base_path`` (default: the
    glob's folder), as W&B keeps them in the run's files. Returns the copies' paths.

    W&B re-uploads a ``policy="live"`` file when it changes; offline the copy is made at the
    call (call ``save`` again after a change). Without an active run nothing is copied (W&B
    raises then too).
    """
    import glob
    import shutil
    from pathlib import Path

    if policy not in ("live", "end", "now"):
        raise ValueError(f"save(policy={policy!r}): expected 'live', 'end' or 'now'")
    if glob_str is None:
        return []
    if run is None:
        from sweepnb.runtime.run import current

        run = current()
    if run is None:
        raise SweepnbError("wandb.save(): no active run; call wandb.init() first")
    pattern = str(Path(os.fspath(glob_str)).expanduser())
    base = Path(os.fspath(base_path)) if base_path is not None else _glob_root(pattern)
    copies = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        source = Path(match)
        if not source.is_file():
            continue
        try:
            relative = source.resolve().relative_to(base.resolve())
        except ValueError:
            relative = Path(source.name)
        target = Path(run.dir) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copies.append(str(target))
    return copies


def _glob_root(pattern: str) -> Any:
    """The folder of a glob's first part with a wildcard (W&B's default ``base_path``)."""
    from pathlib import Path

    parts = Path(pattern).parts
    fixed = [p for p in iter(parts) if not any(c in p for c in "*?[")]
    root = Path(*parts[: len(fixed)]) if fixed else Path(".")
    return root.parent if len(fixed) == len(parts) else root


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """``wandb.alert(title, text)``: printed on stderr (no one to notify offline).

    >>> alert("Low accuracy", "0.3 < 0.5")     # doctest: +SKIP
    wandb.alert [INFO] Low accuracy: 0.3 < 0.5
    """
    name = getattr(level, "name", level) or "INFO"
    print(f"wandb.alert [{name}] {title}: {text}", file=sys.stderr, flush=True)


def termwarn(string: str = "", newline: bool = True, repeat: bool = True) -> None:
    """``wandb.termwarn(text)``: printed on stderr with W&B's ``wandb: WARNING`` prefix."""
    termlog(f"WARNING {string}", newline=newline)


def termerror(string: str = "", newline: bool = True, repeat: bool = True) -> None:
    """``wandb.termerror(text)``: printed on stderr with W&B's ``wandb: ERROR`` prefix."""
    termlog(f"ERROR {string}", newline=newline)


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True):
    """``wandb.termlog(text)``: printed on stderr like W&B's, with a ``wandb:`` prefix."""
    print(("wandb: " if prefix else "") + str(string), file=sys.stderr, end="\n" if newline else "")


class Settings(dict):
    """``wandb.Settings(...)``: accepts any settings and keeps them (attribute access), unused.

    >>> Settings(start_method="thread").start_method
    'thread'
    """

    def __init__(self, **settings: Any):
        super().__init__(settings)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)


# wandb.init keywords that lose nothing here: accepted silently (name, tags, notes, group and
# job_type are recorded with the run by runtime/run.py, issue 12 point 2)
_INIT_SILENT = frozenset(
    {
        "settings", "anonymous", "force", "dir", "save_code", "magic", "allow_val_change",
        "resume", "name", "tags", "notes", "group", "job_type",
    }
)  # fmt: skip
# ... and those whose effect sweepnb does not have: said once each
_INIT_DROPPED = {
    "config_exclude_keys": "config filtering",
    "config_include_keys": "config filtering",
    "sync_tensorboard": "TensorBoard logs",
    "monitor_gym": "gym videos",
    "id": "a chosen run id (sweepnb picks the run's id)",
    "reinit": "a new run per init() while one is active (the active run is reused)",
}


def ignored_init_keywords(keywords: dict) -> None:
    """Say once per keyword which ``wandb.init`` keywords sweepnb accepts but does not record.

    >>> ignored_init_keywords({"settings": None})   # silent: nothing is lost
    """
    for key, value in keywords.items():
        if key in _INIT_SILENT or value is None or value is False:
            continue
        what = _INIT_DROPPED.get(key, "an unknown wandb.init keyword")
        notice_once(f"init-{key}", f"wandb.init({key}=...): ignored ({what}) — said once")
