"""What a run records besides its history: name, tags and notes, and ``define_metric``.

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
from sweepnb.runtime import hooks

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


class RunInfo:
    """What ``sweepnb.Run`` records besides its history (its lifecycle is in ``run.py``):
    ``name``, ``tags``, ``notes``, ``group``, ``job_type`` (recorded with the run at its next
    write), ``define_metric``, the read-only ``path``, ``step``, ``start_time``, ``dir``.

    The W&B surface's run methods (``watch``, ``log_artifact``, ``settings``…) are not here: a
    name the run lacks is looked up through the ``run_attribute`` hook (``runtime/hooks.py``),
    which ``sweepnb/__init__.py`` points at ``compat/run_wandb.py``.
    """

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
        # called only for names the Run does not have: the W&B surface's, through the hook
        return hooks.run_attribute(self, name)

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
