"""What a W&B run records besides its history: name, tags and notes, and ``define_metric``.

Kept apart from ``sweepnb.runtime.run`` (the run's lifecycle). ``RunInfo`` holds the attributes
W&B code sets on a run (``init(name=..., tags=...)`` or ``run.name = ...`` during the run); the
store keeps them with the run. ``MetricSummaries`` applies ``define_metric(name, summary=...)``:
what the run's summary keeps for a logged key (W&B's ``loss.min`` is ``summary["loss"]["min"]``).
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any

from sweepnb.errors import SweepnbError
from sweepnb.runtime.run_frameworks import FrameworkRunNames  # issue 24

INFO_KEYS = ("name", "tags", "notes", "group", "job_type")

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
SUMMARIES = ("min", "max", "mean", "last", "best", "copy", "none")
GOALS = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}


def check_info(key: str, value: Any) -> Any:
    """A run attribute as stored: tags a tuple of strings, the others a string or None."""
    if key == "tags":
        if value is None:
            return ()
        if isinstance(value, str) or not all(isinstance(t, str) for t in value):
            raise TypeError(f"tags: expected a list of strings, got {value!r}")
        return tuple(value)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key}: expected a string, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class MetricDefinition:
    """One ``define_metric`` call: a key or glob (``"val/*"``), its summaries, goal, step metric."""

    name: str
    summaries: tuple[str, ...] = ("copy",)
    goal: str | None = None
    step_metric: str | None = None
    hidden: bool = False

    def matches(self, key: str) -> bool:
        return fnmatch.fnmatchcase(key, self.name) if "*" in self.name else key == self.name


def define(
    name: str,
    step_metric: str | None = None,
    summary: str | None = None,
    goal: str | None = None,
    hidden: bool | None = None,
) -> MetricDefinition:
    """Check ``define_metric``'s arguments (W&B's names and values); errors name the argument.

    >>> define("loss", summary="min,last").summaries
    ('min', 'last')
    """
    if not isinstance(name, str) or not name:
        raise SweepnbError(f"define_metric(name=...): expected a metric name, got {name!r}")
    summaries: tuple[str, ...] = ("copy",)
    if summary is not None:
        summaries = tuple(s.strip() for s in str(summary).split(",") if s.strip())
        bad = [s for s in summaries if s not in SUMMARIES]
        if bad or not summaries:
            raise SweepnbError(
                f"define_metric(summary={summary!r}): each of min, max, mean, last, best, copy "
                "or none (comma-separated)"
            )
    if goal is not None and goal not in GOALS:
        raise SweepnbError(f"define_metric(goal={goal!r}): expected 'minimize' or 'maximize'")
    if "best" in summaries and goal is None:
        raise SweepnbError(f"define_metric({name!r}, summary='best') needs a goal")
    return MetricDefinition(
        name, summaries, GOALS.get(goal) if goal else None, step_metric, bool(hidden)
    )


class MetricSummaries:
    """The running aggregates ``define_metric`` asks for, kept while the run logs."""

    def __init__(self) -> None:
        self.definitions: list[MetricDefinition] = []
        self._seen: dict[str, dict[str, float]] = {}  # key -> {"min", "max", "sum", "n", "last"}

    def add(self, definition: MetricDefinition) -> None:
        self.definitions = [d for d in self.definitions if d.name != definition.name]
        self.definitions.append(definition)

    def _definition(self, key: str) -> MetricDefinition | None:
        # an exact name wins over a glob, like W&B
        exact = [d for d in self.definitions if d.name == key]
        if exact:
            return exact[-1]
        globs = [d for d in self.definitions if "*" in d.name and d.matches(key)]
        return globs[-1] if globs else None

    def apply(self, summary: dict[str, Any], row: dict[str, Any]) -> None:
        """Turn the plain last values ``summary.update(row)`` wrote into the defined summaries."""
        for key, value in row.items():
            definition = self._definition(key)
            if definition is None or definition.summaries == ("copy",):
                continue
            if not _is_number(value):
                continue
            seen = self._seen.setdefault(key, {"n": 0, "sum": 0.0})
            seen["n"] += 1
            seen["sum"] += value
            seen["last"] = value
            seen["min"] = min(seen.get("min", value), value)
            seen["max"] = max(seen.get("max", value), value)
            if "none" in definition.summaries:
                summary.pop(key, None)
                continue
            if "copy" in definition.summaries:
                continue  # the plain last value stays
            out: dict[str, float] = {}
            for kind in definition.summaries:
                if kind == "mean":
                    out["mean"] = seen["sum"] / seen["n"]
                elif kind == "best":
                    out["best"] = seen["max" if definition.goal == "maximize" else "min"]
                else:
                    out[kind] = seen[kind]
            summary[key] = out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class WandbRun(FrameworkRunNames):  # issue 24: + the names frameworks touch
    """The W&B attributes and methods of ``sweepnb.Run`` (its lifecycle is in ``run.py``):
    ``name``, ``tags``, ``notes``, ``group``, ``job_type`` (recorded with the run at its next
    write), ``define_metric``, ``log_artifact`` and ``use_artifact``."""

    id: str | None
    store: Any
    project: str | None
    entity: str | None
    _step: int
    _started: float
    _dir: str | None
    _info: dict[str, Any]
    _metrics: MetricSummaries
    _changed: bool

    @property
    def name(self) -> str | None:
        """The run's name (``init(name=...)`` or set during the run); its id until named."""
        return self._info.get("name") or self.id

    @name.setter
    def name(self, value: str | None) -> None:
        self._set_info("name", value)

    tags = property(
        lambda self: self._info.get("tags", ()), lambda self, v: self._set_info("tags", v)
    )
    notes = property(
        lambda self: self._info.get("notes"), lambda self, v: self._set_info("notes", v)
    )
    group = property(
        lambda self: self._info.get("group"), lambda self, v: self._set_info("group", v)
    )
    job_type = property(
        lambda self: self._info.get("job_type"), lambda self, v: self._set_info("job_type", v)
    )

    def __getattr__(self, name: str) -> Any:
        # called only for names the Run does not have
        if name in WANDB_RUN_ONLY:
            from sweepnb.compat.names import NotSupported

            raise NotSupported(
                f"wandb.Run.{name}: sweepnb does not support it ({WANDB_RUN_ONLY[name]})"
            )
        raise AttributeError(f"'Run' object has no attribute {name!r}")

    @property
    def path(self) -> str:
        """``entity/project/id``, as W&B writes a run's path (empty parts where unknown)."""
        return "/".join(str(part or "") for part in (self.entity, self.project, self.id))

    @property
    def step(self) -> int:
        """The step the next ``log()`` gets (W&B's counter)."""
        return self._step

    @property
    def start_time(self) -> float:
        """When the run started (epoch seconds)."""
        return self._started

    @property
    def dir(self) -> str:
        """The folder of the run's own files (W&B code saves checkpoints there): beside the
        store, ``files_dir(store)/<run id>/files``; a temporary folder for a run without one."""
        if self._dir is None:
            if self.store is None or self.id is None:
                import tempfile

                self._dir = tempfile.mkdtemp(prefix="sweepnb-run-")
            else:
                from sweepnb.store.files import files_dir, private_dir

                folder = files_dir(self.store, create=True) / str(self.id) / "files"
                private_dir(folder)
                self._dir = str(folder)
        return self._dir

    url = property(lambda self: None, doc="W&B's run page: None offline, as in W&B's offline mode")
    project_url = property(lambda self: None, doc="W&B's project page: None offline")
    sweep_url = property(lambda self: None, doc="W&B's sweep page: None offline")

    def join(self, exit_code: int | None = None) -> None:
        """W&B's old alias of ``finish``."""
        self.finish(exit_code=exit_code)

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

    def get_url(self) -> None:
        """W&B's run page; ``None`` as in W&B's offline mode (there is no server)."""
        return

    def get_sweep_url(self) -> None:
        """W&B's sweep page; ``None`` as in W&B's offline mode (W&B's cross-validation example
        calls it on each sweep run)."""
        return

    def get_project_url(self) -> None:
        """W&B's project page; ``None`` as in W&B's offline mode."""
        return

    def save(self, glob_str: Any = None, *args: Any, **kwargs: Any) -> bool | None:
        """W&B's ``run.save()``: without a path, W&B's deprecated way to persist the run's
        attributes, which are recorded anyway (True); with one, ``wandb.save(path)``."""
        if glob_str is None:
            return True
        from sweepnb.compat.offline import save

        return save(glob_str, *args, **kwargs)

    def _set_info(self, key: str, value: Any) -> None:
        self._info[key] = check_info(key, value)
        self._changed = True

    def _config_changed(self) -> None:
        self._changed = True

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> MetricDefinition:
        """W&B's ``define_metric``: ``summary`` ("min", "max", "mean", "last", "best" with a
        ``goal``, "copy", "none"; comma-separated) decides what the summary keeps for ``name``
        (a key or a glob like ``"val/*"``): ``summary="min"`` keeps ``{"min": ...}``."""
        definition = define(name, step_metric, summary, goal, hidden)
        self._metrics.add(definition)
        return definition

    # -- artifacts (issue 12): W&B's methods, implemented in sweepnb.compat.artifacts ----------

    def log_artifact(self, artifact_or_path: Any, *args: Any, **kw: Any) -> Any:
        """Log an ``Artifact`` (or a file/folder path) as this run's output; see W&B's."""
        from sweepnb.compat.artifacts import log_artifact

        return log_artifact(self, artifact_or_path, *args, **kw)

    def use_artifact(self, artifact_or_name: Any, *args: Any, **kw: Any) -> Any:
        """The artifact version ``"name:latest"`` / ``"name:v3"``, recorded as used by this run."""
        from sweepnb.compat.artifacts import use_artifact

        return use_artifact(self, artifact_or_name, *args, **kw)
