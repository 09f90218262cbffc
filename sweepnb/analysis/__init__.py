"""Sweep results as data: a DataFrame of runs, the best run (and, below, importance & co).

Pure functions of a loaded sweep config and the store's run dicts; no store access here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sweepnb.engine import metric as metric_mod
from sweepnb.engine.metric import Metric
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
    metric = Metric.of(cfg)
    rows = [_frame_row(run, names, metric) for run in runs]
    info = [k for k in INFO_COLUMNS if any(k in row for row in rows)]
    columns = list(BASE_COLUMNS) + info + [name for name, _ in names]
    # what runs put in their config themselves (init(config=...), config.update), in the order
    # first seen: shown beside the swept parameters
    own = [k for row in rows for k in row.get("_config", ()) if k not in columns]
    columns += list(dict.fromkeys(own))
    if metric:
        columns.append(metric.name)
    extra = sorted(
        {k for row in rows for k in row} - set(columns) - set(TIME_COLUMNS) - {"_config"}
    )
    columns += extra + list(TIME_COLUMNS)
    frame = pd.DataFrame(rows, columns=columns)
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True)
    return frame


def best_run(cfg: dict, runs: list[dict]) -> dict | None:
    """The run with the best value of the sweep's metric (ties: the earliest), or None when no
    run logged it. The run dict gets ``"metric": {"name", "goal", "value"}``."""
    metric = Metric.of(cfg)
    if metric is None:
        raise SweepnbError("the sweep has no 'metric' in its config, so no run is best")
    best = metric_mod.best_run(metric, runs)
    if best is None:
        return None
    run, value = best
    return {**run, "metric": {"name": metric.name, "goal": metric.goal, "value": value}}


def ranked_runs(frame: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """The rows of a runs frame that have a value of ``metric``, best first (ties keep their
    order): the one ranking the CLI, the magics and the dashboard show."""
    if metric.name not in frame.columns:
        return frame.head(0)
    ranked = frame[pd.to_numeric(frame[metric.name], errors="coerce").notna()]
    return ranked.sort_values(metric.name, ascending=not metric.maximize, kind="stable")


def _param_columns(cfg: dict) -> list[tuple[str, tuple[str, ...]]]:
    """(dotted name, path) of each parameter of the config, in W&B's order."""
    if not cfg.get("parameters"):
        return []
    from sweepnb.engine.params import flatten

    return [(p.name, tuple(p.path)) for p in flatten(cfg)]


def _frame_row(
    run: dict, names: list[tuple[str, tuple[str, ...]]], metric: Metric | None
) -> dict[str, Any]:
    from sweepnb.engine.params import value_at

    row: dict[str, Any] = {"id": run["id"], "state": run["state"]}
    for key, value in (run.get("info") or {}).items():
        if key in INFO_COLUMNS and value not in (None, "", [], ()):
            row[key] = ", ".join(value) if key == "tags" else value
    config = run.get("config") or {}
    for name, path in names:
        row[name] = value_at(config, path)
    own = []
    for key, value in _dotted(config):
        if key not in row and key not in INFO_COLUMNS and _scalar(value):
            row[key] = value
            own.append(key)
    row["_config"] = own
    if metric:
        row[metric.name] = metric.value(run)
    for key, value in (run.get("summary") or {}).items():
        if key.startswith("_") or key in row or not _scalar(value):
            continue
        row[key] = value
    row["created"] = run.get("created")
    row["runtime"] = _runtime(run)
    return row


INFO_COLUMNS = ("name", "group", "job_type", "tags", "notes")  # W&B's run attributes


def _dotted(config: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """A nested config's leaves as ("a.b", value), in order."""
    out: list[tuple[str, Any]] = []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out += _dotted(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


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

_LAZY = {"ImportanceData", "importance_data"}  # re-exported; loaded on first use (scipy, sklearn)


def __getattr__(name: str) -> Any:
    # `sweepnb ls` and `show` need no importance: its imports cost them a third of a second
    if name in _LAZY:
        from sweepnb.analysis import importance

        return getattr(importance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
