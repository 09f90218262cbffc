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
