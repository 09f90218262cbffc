"""W&B calls with no offline meaning: accepted, and they say so once when they drop data.

>>> import sweepnb.compat.offline as w
>>> w.login(key="not-needed")
True
>>> w.watch(object())        # doctest: +SKIP
sweepnb: wandb.watch(): gradients and parameters are not logged offline (said once)
"""

from __future__ import annotations

import sys
from typing import Any

from sweepnb.compat.names import notice_once


def login(*args: Any, **kwargs: Any) -> bool:
    """``wandb.login()``: nothing to log in to offline; returns True (W&B: logged in)."""
    return True


def setup(*args: Any, **kwargs: Any) -> None:
    """``wandb.setup()``: W&B starts its service process; there is none here."""
    return


def require(*args: Any, **kwargs: Any) -> None:
    """``wandb.require("core")`` and the like: no optional features to turn on."""
    return


def watch(models: Any = None, *args: Any, **kwargs: Any) -> None:
    """``wandb.watch(model)``: gradients and parameters are not logged (said once)."""
    notice_once(
        "watch",
        "wandb.watch(): gradients and parameters are not logged offline "
        "(log what you need with wandb.log) — said once",
    )


def unwatch(*args: Any, **kwargs: Any) -> None:
    """``wandb.unwatch()``: nothing is watched."""
    return


def save(glob_str: Any = None, *args: Any, **kwargs: Any) -> None:
    """``wandb.save(path)``: files are not uploaded; they stay where they are (said once)."""
    notice_once(
        "save",
        f"wandb.save({glob_str!r}): files are not uploaded offline; the file stays where it is "
        "(use an Artifact to keep a copy with the run) — said once",
    )


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """``wandb.alert(title, text)``: printed on stderr (no one to notify offline).

    >>> alert("Low accuracy", "0.3 < 0.5")     # doctest: +SKIP
    wandb.alert [INFO] Low accuracy: 0.3 < 0.5
    """
    name = getattr(level, "name", level) or "INFO"
    print(f"wandb.alert [{name}] {title}: {text}", file=sys.stderr, flush=True)


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
