"""The W&B surface's methods of ``sweepnb.Run``: what ``wandb`` code calls on a run that is
W&B's own (``watch``, ``alert``, ``save``, ``log_artifact``, ``use_artifact``, and the names the
framework integrations touch, ``run_frameworks.py``), and W&B's run attributes sweepnb refuses.

The runtime's ``Run`` (``runtime/run.py``, ``runtime/run_info.py``) knows nothing of these: a
name it lacks goes to the ``run_attribute`` hook (``runtime/hooks.py``), which
``sweepnb/__init__.py`` registers as :func:`run_attribute` here.
"""

from __future__ import annotations

from typing import Any

from sweepnb.compat.names import NotSupported
from sweepnb.compat.run_frameworks import FrameworkRunNames  # issue 24
from sweepnb.runtime.run import active_run

# The public attributes of W&B's Run (client 0.31.0) that sweepnb's Run does not have, and why.
# Reading one raises NotSupported naming sweepnb and the attribute, as the top-level names do
# (sweepnb.compat.names); a name W&B's Run lacks too stays a plain AttributeError.
WANDB_RUN_ONLY = {
    "config_static": "use run.config",
    "starting_step": "runs are not resumed from a step",
    "resumed": "runs are not resumed offline",
    "project_name": "use run.project",
    "mode": "sweepnb has no W&B modes beyond init(mode='disabled')",
    "offline": "sweepnb is always offline: there is no server to be online with",
    "disabled": "init(mode='disabled') makes a run without a store; test run.store is None",
    "display": "show the sweep with %sweep show or sweepnb.plots instead",
    "to_html": "show the sweep with %sweep show or sweepnb.plots instead",
    "restore": "no cloud copy to restore files from",
    "status": "there is no sync to report",
    "plot_table": "custom Vega charts need W&B's UI; use wandb.plot.*",
    "link_artifact": "there is no artifact registry offline",
    "upsert_artifact": "distributed artifacts are not supported; log one Artifact per run",
    "finish_artifact": "distributed artifacts are not supported; log one Artifact per run",
    "log_model": "use Artifact(name, type='model') and run.log_artifact",
    "use_model": "use run.use_artifact('name:latest').download()",
    "link_model": "there is no model registry offline",
    "mark_preempting": "an agent's worker that dies is reaped as crashed",
}


class WandbRunMethods(FrameworkRunNames):
    """W&B's run methods, bound to a ``sweepnb.Run`` by :func:`run_attribute`."""

    def watch(self, models: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``wandb.watch`` for this run: PyTorch gradients/parameters as histograms (issue 24,
        :func:`sweepnb.compat.integrations.torch.watch`)."""
        from sweepnb.compat.integrations.torch import watch

        return watch(models, *args, run=self, **kwargs)

    def unwatch(self, models: Any = None) -> None:
        """``wandb.unwatch``: remove the hooks ``watch`` put on ``models`` (None: all)."""
        from sweepnb.compat.integrations.torch import unwatch

        unwatch(models)

    def alert(self, title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
        """``wandb.alert``: printed on stderr."""
        from sweepnb.compat.offline import alert

        alert(title, text, level, wait_duration)

    def save(self, glob_str: Any = None, *args: Any, **kwargs: Any) -> bool | None:
        """W&B's ``run.save()``: without a path, W&B's deprecated way to persist the run's
        attributes, which are recorded anyway (True); with one, ``wandb.save(path)``."""
        if glob_str is None:
            return True
        from sweepnb.compat.offline import save

        return save(glob_str, *args, **kwargs)

    # -- artifacts (issue 12): W&B's methods, implemented in sweepnb.compat.artifacts ----------

    def log_artifact(self, artifact_or_path: Any, *args: Any, **kw: Any) -> Any:
        """Log an ``Artifact`` (or a file/folder path) as this run's output; see W&B's."""
        from sweepnb.compat.artifact_log import log_artifact

        return log_artifact(self, artifact_or_path, *args, **kw)

    def use_artifact(self, artifact_or_name: Any, *args: Any, **kw: Any) -> Any:
        """The artifact version ``"name:latest"`` / ``"name:v3"``, recorded as used by this run."""
        from sweepnb.compat.artifact_log import use_artifact

        return use_artifact(self, artifact_or_name, *args, **kw)


def run_attribute(run: Any, name: str) -> Any:
    """``run.<name>`` for a name the ``Run`` class lacks: a method or property of
    :class:`WandbRunMethods` bound to ``run``; ``NotSupported`` for a W&B run attribute sweepnb
    lacks (``WANDB_RUN_ONLY``); otherwise ``AttributeError``, as for any object."""
    for klass in WandbRunMethods.__mro__[:-1]:
        if name in vars(klass):
            attribute = vars(klass)[name]
            return attribute.__get__(run, type(run)) if hasattr(attribute, "__get__") else attribute
    if name in WANDB_RUN_ONLY:
        raise NotSupported(
            f"wandb.Run.{name}: sweepnb does not support it ({WANDB_RUN_ONLY[name]})"
        )
    raise AttributeError(f"'Run' object has no attribute {name!r}")


# the top-level W&B names that act on the active run (`wandb.define_metric`...)
def define_metric(name: str, *args: Any, **kw: Any) -> Any:
    """``wandb.define_metric`` for the active run (see ``Run.define_metric``)."""
    return active_run("define_metric()").define_metric(name, *args, **kw)


def log_artifact(artifact_or_path: Any, *args: Any, **kw: Any) -> Any:
    """``wandb.log_artifact``: log an artifact from the active run (see ``Run.log_artifact``)."""
    return active_run("log_artifact()").log_artifact(artifact_or_path, *args, **kw)


def use_artifact(artifact_or_name: Any, *args: Any, **kw: Any) -> Any:
    """``wandb.use_artifact``: use an artifact in the active run (see ``Run.use_artifact``)."""
    return active_run("use_artifact()").use_artifact(artifact_or_name, *args, **kw)
