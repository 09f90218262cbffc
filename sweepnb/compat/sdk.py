"""The W&B module names framework integrations import beyond ``wandb``'s top level.

Hugging Face's ``WandbCallback`` imports ``wandb.sdk.lib.config_util.ConfigError``, Lightning's
``WandbLogger`` imports ``wandb.sdk.lib.RunDisabled`` and ``wandb.wandb_run.Run`` (for
``isinstance`` checks), ``trainer.hyperparameter_search(backend="wandb")`` calls
``wandb.env.set_project``. The shim's ``wandb/sdk/...``, ``wandb/wandb_run.py`` and
``wandb/env.py`` forward here (and to :mod:`sweepnb.compat.env`).

    >>> from sweepnb.compat.sdk import ConfigError, Run
    >>> ConfigError.__name__, Run.__name__
    ('ConfigChangeError', 'Run')
"""

from __future__ import annotations

from sweepnb.compat.offline import Settings
from sweepnb.runtime.run import Run
from sweepnb.runtime.run_config import Config, ConfigChangeError

# W&B raises its ConfigError when a run changes a config value without allow_val_change: here
# that is ConfigChangeError, so `except wandb.sdk.lib.config_util.ConfigError` catches ours
ConfigError = ConfigChangeError


class RunDisabled:
    """W&B's run object under ``mode="disabled"``. sweepnb's disabled run is a :class:`Run`
    with no store, so nothing is ever a ``RunDisabled``; the class exists for ``isinstance``."""


__all__ = ["Config", "ConfigError", "Run", "RunDisabled", "Settings"]
