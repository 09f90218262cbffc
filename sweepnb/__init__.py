"""sweepnb: hyperparameter sweeps that live in the notebook.

W&B sweep configs (grid, random, bayes, hyperband) run offline, from Python, a shell or Jupyter::

    import sweepnb
    sweep_id = sweepnb.sweep({"method": "random", "metric": {"name": "loss"},
                              "parameters": {"lr": {"min": 0.001, "max": 0.1}}})
    def train():
        with sweepnb.init() as run:
            sweepnb.log({"loss": run.config.lr ** 2})
    sweepnb.agent(sweep_id, train, count=5)
    sweepnb.runs(sweep_id)          # a pandas DataFrame

``import sweepnb as wandb`` keeps a typical W&B training function working.
"""

from __future__ import annotations

import importlib

from .errors import ConfigError, RunStopped, StoreError, SweepnbError, SweepnbWarning, SweepNotFound

__version__ = "0.1.0"

# Public names and the module that defines each. Resolved on first use, so `import sweepnb`
# stays light and every layer can be imported on its own.
_LAZY = {
    "sweep": "sweepnb.api",
    "agent": "sweepnb.api",
    "runs": "sweepnb.api",
    "best_run": "sweepnb.api",
    "stop": "sweepnb.api",
    "cancel": "sweepnb.api",
    "pause": "sweepnb.api",
    "resume": "sweepnb.api",
    "init": "sweepnb.run",
    "log": "sweepnb.run",
    "finish": "sweepnb.run",
    "Run": "sweepnb.run",
    "summary": "sweepnb.run",
    "dashboard": "sweepnb.notebook.dashboard",
    "Store": "sweepnb.store",
}
_SUBMODULES = {"engine", "plots", "analysis", "store", "params", "stopping", "search", "notebook"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"sweepnb.{name}")
    raise AttributeError(f"module 'sweepnb' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """`%load_ext sweepnb`: register the %sweep and %agent magics."""
    from .notebook.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):
    from .notebook.magics import unload_ipython_extension as unload

    unload(ipython)


# `sweepnb.config` is the active run's config (like `wandb.config`), not the `sweepnb/config.py`
# module: import that module first, then bind the name, so the proxy wins.
from . import config as _config_module  # noqa: F401
from .run import config

__all__ = [
    "ConfigError",
    "Run",
    "RunStopped",
    "Store",
    "StoreError",
    "SweepNotFound",
    "SweepnbError",
    "SweepnbWarning",
    "agent",
    "best_run",
    "cancel",
    "config",
    "dashboard",
    "finish",
    "init",
    "log",
    "pause",
    "resume",
    "runs",
    "stop",
    "summary",
    "sweep",
]
