"""The metric of a run, read the way W&B reads it: every logged value plus the summary.

Pure functions on engine run dicts: ``{"id", "state", "config", "history": [...], "summary": {...}}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple


def is_valid(value: Any) -> bool:
    """True for a finite number that is not a bool: the values a metric reading counts (as W&B)."""
    if type(value) is float:  # the common case first: a dashboard reads 100,000 logged values
        return value - value == 0.0  # False for NaN and +/-inf
    # bools are ints in Python but not metrics; NaN and inf are dropped like W&B does
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                return math.isfinite(float(value))
        except ImportError:  # pragma: no cover
            pass
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range: not a readable metric value
        return False


def history_values(run: dict, name: str) -> list[float]:
    """The valid values of metric ``name`` in the run's history rows, in order (rows without it skipped)."""
    out = []
    for row in run.get("history") or ():
        value = row.get(name)
        if value is not None and is_valid(value):
            out.append(float(value))
    return out


def best_value(run: dict, name: str, goal: str = "minimize") -> float | None:
    """The run's best value of ``name`` over its history and summary, or None if it never logged one."""
    values = history_values(run, name)
    summary = run.get("summary") or {}
    if name in summary and is_valid(summary[name]):
        values.append(float(summary[name]))
    if not values:
        return None
    return max(values) if goal == "maximize" else min(values)


def latest_value(run: dict, name: str) -> float | None:
    """The last valid value of ``name`` in the history (else the summary's), or None."""
    values = history_values(run, name)
    if values:
        return values[-1]
    summary = run.get("summary") or {}
    v = summary.get(name)
    return float(v) if is_valid(v) else None


class Metric(NamedTuple):
    """The sweep's metric: its ``name``, ``goal`` ("minimize" or "maximize") and optional
    ``target``. The one place the config's ``metric`` mapping and its defaults are read."""

    name: str
    goal: str = "minimize"
    target: float | None = None

    @classmethod
    def of(cls, cfg: dict | None) -> Metric | None:
        """The metric of a sweep config (``cfg["metric"]``), or None when it declares none."""
        spec = (cfg or {}).get("metric")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            return None
        target = spec.get("target")
        return cls(
            spec["name"],
            spec.get("goal", "minimize"),
            float(target) if is_valid(target) else None,
        )

    @property
    def maximize(self) -> bool:
        """True when larger values are better."""
        return self.goal == "maximize"

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self.maximize else a < b

    def best_of(self, values: Iterable[Any]) -> float | None:
        """The best valid value among ``values`` (NaN, None, bools skipped), or None."""
        valid = [float(v) for v in values if is_valid(v)]
        if not valid:
            return None
        return max(valid) if self.maximize else min(valid)

    def reached(self, value: float | None) -> bool:
        """True when ``value`` meets the ``target`` (never without a target)."""
        if self.target is None or value is None:
            return False
        return value >= self.target if self.maximize else value <= self.target

    def reached_by(self, run: dict) -> bool:
        """True when ``run`` ends the sweep by the ``target``: it is finished and its best value
        meets it (a running run's value may still get worse).

        >>> Metric("acc", "maximize", 0.9).reached_by({"state": "finished", "summary": {"acc": 0.95}})
        True
        """
        return run.get("state") == "finished" and self.reached(self.value(run))

    def oriented(self, value: float) -> float:
        """``value`` turned so that lower is better (maximize negates), and back again."""
        return -value if self.maximize else value

    def history(self, run: dict) -> list[float]:
        """The run's valid logged values of the metric, lower-is-better (one per iteration)."""
        return [self.oriented(v) for v in history_values(run, self.name)]

    def worse(self) -> str:
        """The comparison sign that means "worse than", in the user's units."""
        return "<" if self.maximize else ">"

    def value(self, run: dict) -> float | None:
        """The run's best value of the metric over its history and summary, or None."""
        return best_value(run, self.name, self.goal)


def best_run(
    metric: Metric | None, runs: Iterable[dict], value_of: Callable[[dict], Any] | None = None
) -> tuple[dict, float] | None:
    """The run with the best value of ``metric`` and that value (ties: the earliest in ``runs``),
    or None when there is no metric or no run logged it. Every front end's "best run" is this.
    ``value_of``: the run's value when the caller keeps it already (default ``metric.value``)."""
    if metric is None:
        return None
    value_of = value_of or metric.value
    best: tuple[dict, float] | None = None
    for run in runs:
        value = value_of(run)
        if value is not None and (best is None or metric.better(value, best[1])):
            best = (run, value)
    return best
