"""The metric of a run, read the way W&B reads it: every logged value plus the summary.

Pure functions on engine run dicts: ``{"id", "state", "config", "history": [...], "summary": {...}}``.
"""

from __future__ import annotations

import math
from typing import Any


def is_valid(value: Any) -> bool:
    """True for a finite number that is not a bool: the values a metric reading counts (as W&B)."""
    # bools are ints in Python but not metrics; NaN and inf are dropped like W&B does
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                return math.isfinite(float(value))
        except ImportError:  # pragma: no cover
            pass
        return False
    return math.isfinite(value)


def history_values(run: dict, name: str) -> list[float]:
    """The valid values of metric ``name`` in the run's history rows, in order (rows without it skipped)."""
    out = []
    for row in run.get("history") or ():
        if name in row and is_valid(row[name]):
            out.append(float(row[name]))
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
