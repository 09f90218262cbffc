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

from sweepnb import errors as _errors
from sweepnb import ids as _ids
from sweepnb._meta import LAZY_NAMES as _LAZY  # the one table: compat reads it too
from sweepnb._meta import __version__  # noqa: F401 - sweepnb.__version__
from sweepnb.errors import (
    ConfigError,
    RunStopped,
    StoreError,
    SweepnbError,
    SweepnbWarning,
    SweepNotFound,
)
from sweepnb.runtime import hooks as _hooks

_SUBMODULES = {
    "engine": "sweepnb.engine",
    "store": "sweepnb.store",
    "runtime": "sweepnb.runtime",
    "analysis": "sweepnb.analysis",
    "plots": "sweepnb.plots",
    "notebook": "sweepnb.notebook",
    "plot": "sweepnb.compat.plot",
    "sklearn": "sweepnb.sklearn",
}


def __getattr__(name: str):
    if name == "run":  # like `wandb.run`: the active run, or None outside a run (never cached)
        from sweepnb.runtime.run import current

        return current()
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(_SUBMODULES[name])
    # W&B's other names (issue 12), so that `import sweepnb as wandb` has the whole surface
    from sweepnb.compat.names import resolve

    return resolve(name, prefix="sweepnb")


# The layers below the W&B surface never import it. Where they call out to it, the package (which
# every import of a sweepnb module runs first) registers the W&B surface's functions: the W&B
# exception names of `sweepnb.errors`, and the runtime's hooks (runtime/hooks.py). Each imports
# its module on first call, so `import sweepnb` stays light. Likewise the store's `mask_url` for
# `sweepnb.ids`, which sits below the store.
def _mask_url(url):
    from sweepnb.store.db import mask_url

    return mask_url(url)


def _wandb_error(name: str):
    from sweepnb.compat import errors as wandb_errors

    return getattr(wandb_errors, name)


def _history_values(run, row, step):
    from sweepnb.compat.media_files import to_history_values

    return to_history_values(run, row, step)


def _ignored_init_keywords(keywords):
    from sweepnb.compat.offline import ignored_init_keywords

    ignored_init_keywords(keywords)


def _program_env(env):
    from sweepnb.compat.shim import program_env

    return program_env(env)


def _run_attribute(run, name):
    from sweepnb.compat.run_wandb import run_attribute

    return run_attribute(run, name)


def _program_choice(choice):
    from sweepnb.compat.shim import program_wandb

    return program_wandb(choice)


_errors.name_lookups.append(_wandb_error)
_ids.url_masks.append(_mask_url)
_hooks.register("history_values", _history_values)
_hooks.register("ignored_init_keywords", _ignored_init_keywords)
_hooks.register("program_env", _program_env)
_hooks.register("program_choice", _program_choice)
_hooks.register("run_attribute", _run_attribute)


def load_ipython_extension(ipython):
    """`%load_ext sweepnb`: register the %sweep and %agent magics; when the real wandb is not
    installed, `import wandb` then gives sweepnb's (sweepnb.compat.enable)."""
    from sweepnb.notebook.magics import load_ipython_extension as load

    load(ipython)
    from sweepnb.compat.shim import enable_if_no_wandb  # issue 12: W&B code runs unchanged

    enable_if_no_wandb()


def unload_ipython_extension(ipython):
    from sweepnb.notebook.magics import unload_ipython_extension as unload

    unload(ipython)
    from sweepnb.compat.shim import disable_if_enabled_by_extension  # issue 12

    disable_if_enabled_by_extension()


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
    "run",
    "runs",
    "stop",
    "summary",
    "sweep",
]
