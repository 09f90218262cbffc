"""``wandb.env``: the names of W&B's environment variables, and its ``set_*``/``get_*`` helpers.

W&B documents these variables (docs.wandb.ai, "Environment variables"); sweepnb reads
``WANDB_PROJECT``, ``WANDB_ENTITY``, ``WANDB_MODE``, ``WANDB_RUN_ID`` and ``WANDB_SWEEP_ID`` where
W&B does, and ``sweepnb agent`` sets them for program runs.

    >>> import os; set_project("demo"); get_project()
    'demo'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PROJECT = "WANDB_PROJECT"
ENTITY = "WANDB_ENTITY"
MODE = "WANDB_MODE"
RUN_ID = "WANDB_RUN_ID"
RUN_GROUP = "WANDB_RUN_GROUP"
JOB_TYPE = "WANDB_JOB_TYPE"
NAME = "WANDB_NAME"
NOTES = "WANDB_NOTES"
TAGS = "WANDB_TAGS"
SWEEP_ID = "WANDB_SWEEP_ID"
SILENT = "WANDB_SILENT"
DIR = "WANDB_DIR"
API_KEY = "WANDB_API_KEY"
BASE_URL = "WANDB_BASE_URL"
LOG_MODEL = "WANDB_LOG_MODEL"
WATCH = "WANDB_WATCH"
DISABLE_CODE = "WANDB_DISABLE_CODE"
CONFIG_PATHS = "WANDB_CONFIG_PATHS"


def _get(name: str, default: str | None, env: Mapping[str, str] | None) -> str | None:
    return (os.environ if env is None else env).get(name, default)


def get_project(default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``$WANDB_PROJECT`` (or ``default``)."""
    return _get(PROJECT, default, env)


def get_entity(default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``$WANDB_ENTITY`` (or ``default``)."""
    return _get(ENTITY, default, env)


def get_run(default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``$WANDB_RUN_ID`` (or ``default``)."""
    return _get(RUN_ID, default, env)


def get_sweep_id(default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``$WANDB_SWEEP_ID`` (or ``default``)."""
    return _get(SWEEP_ID, default, env)


def set_project(value: str | None, env: dict | None = None) -> None:
    """Set ``$WANDB_PROJECT`` (``None``: leave it as it is, like W&B's)."""
    if value is not None:
        (os.environ if env is None else env)[PROJECT] = str(value)


def set_entity(value: str | None, env: dict | None = None) -> None:
    """Set ``$WANDB_ENTITY`` (``None``: leave it as it is)."""
    if value is not None:
        (os.environ if env is None else env)[ENTITY] = str(value)
