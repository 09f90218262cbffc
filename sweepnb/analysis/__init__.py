"""Sweep results as data: a DataFrame of runs, the best run (and, below, importance & co).

Pure functions of a loaded sweep config and the store's run dicts; no store access here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sweepnb.engine import metric as metric_mod
from sweepnb.errors import SweepnbError

# ---------------------------------------------------------------------------------------------
# Runs table and best run (`sweepnb.runs`, `sweepnb.best_run`, `sweepnb show`)
# ---------------------------------------------------------------------------------------------

BASE_COLUMNS = ("id", "state")
TIME_COLUMNS = ("created", "runtime")


def runs_frame(cfg: dict, runs: list[dict]) -> pd.DataFrame:
    """One row per run: ``id``, ``state``, one column per parameter (nested ones dotted, e.g.
    ``optimizer.lr``), the metric under its own name (the run's best value), the other summary
    values (keys starting with ``_`` left out), ``created`` (UTC timestamp), ``runtime`` (s).

    >>> cfg = {"metric": {"name": "loss", "goal": "minimize"},
    ...        "parameters": {"lr": {"distribution": "constant", "value": 0.1}}}
    >>> run = {"id": "a", "state": "finished", "config": {"lr": 0.1},
    ...        "history": [{"loss": 3}, {"loss": 2}], "summary": {"loss": 2}}
    >>> runs_frame(cfg, [run])[["id", "lr", "loss"]].to_dict("records")
    [{'id': 'a', 'lr': 0.1, 'loss': 2.0}]
    """
    names = _param_columns(cfg)
    metric_name, goal = _metric(cfg)
    rows = [_frame_row(run, names, metric_name, goal) for run in runs]
    columns = list(BASE_COLUMNS) + [name for name, _ in names]
    if metric_name:
        columns.append(metric_name)
    extra = sorted({k for row in rows for k in row} - set(columns) - set(TIME_COLUMNS))
    columns += extra + list(TIME_COLUMNS)
    frame = pd.DataFrame(rows, columns=columns)
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True)
    return frame


def best_run(cfg: dict, runs: list[dict]) -> dict | None:
    """The run with the best value of the sweep's metric (ties: the earliest), or None when no
    run logged it. The run dict gets ``"metric": {"name", "goal", "value"}``."""
    metric_name, goal = _metric(cfg)
    if not metric_name:
        raise SweepnbError("the sweep has no 'metric' in its config, so no run is best")
    best, best_value = None, None
    for run in runs:
        value = metric_mod.best_value(run, metric_name, goal)
        if value is None:
            continue
        if best_value is None or (value > best_value if goal == "maximize" else value < best_value):
            best, best_value = run, value
    if best is None:
        return None
    return {**best, "metric": {"name": metric_name, "goal": goal, "value": best_value}}


def _metric(cfg: dict) -> tuple[str | None, str]:
    spec = cfg.get("metric") or {}
    return spec.get("name"), spec.get("goal", "minimize")


def _param_columns(cfg: dict) -> list[tuple[str, tuple[str, ...]]]:
    """(dotted name, path) of each parameter of the config, in W&B's order."""
    if not cfg.get("parameters"):
        return []
    from sweepnb.engine.params import flatten

    return [(p.name, tuple(p.path)) for p in flatten(cfg)]


def _frame_row(
    run: dict, names: list[tuple[str, tuple[str, ...]]], metric_name: str | None, goal: str
) -> dict[str, Any]:
    from sweepnb.engine.params import value_at

    row: dict[str, Any] = {"id": run["id"], "state": run["state"]}
    config = run.get("config") or {}
    for name, path in names:
        row[name] = value_at(config, path)
    if metric_name:
        row[metric_name] = metric_mod.best_value(run, metric_name, goal)
    for key, value in (run.get("summary") or {}).items():
        if key.startswith("_") or key in row or not _scalar(value):
            continue
        row[key] = value
    row["created"] = run.get("created")
    row["runtime"] = _runtime(run)
    return row


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _runtime(run: dict) -> float | None:
    start = run.get("started") or run.get("created")
    end = run.get("ended") or run.get("heartbeat")
    if start is None or end is None:
        return None
    return max(0.0, float(end) - float(start))


# ---------------------------------------------------------------------------------------------
# Parameter importance (W&B's panel), computed in `sweepnb/importance.py`
# ---------------------------------------------------------------------------------------------

from sweepnb.analysis.importance import ImportanceData, importance_data  # noqa: F401  (re-exported)
