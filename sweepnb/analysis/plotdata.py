"""The data step of every chart: plain arrays and small dataclasses, no matplotlib.

Each ``*_data(df, cfg)`` takes the runs DataFrame (``sweepnb.runs(sweep_id)``) and the loaded
config and returns the small object a chart draws (``sweepnb.analysis.draw`` renders it with
matplotlib; the live dashboard draws the same objects lighter and reuses them between refreshes).
Nothing here imports matplotlib, so the data can be computed and tested without a plotting backend::

    data = parallel_coordinates_data(df, cfg)
    data.axes[0].labels    # the tick labels of the first parameter's axis
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sweepnb.analysis.importance import ImportanceData, importance_data, swept_params
from sweepnb.analysis.importance import metric_of as _metric_of
from sweepnb.analysis.labels import value_label as _label
from sweepnb.engine.metric import is_valid

__all__ = [
    "STATE_STYLE",
    "Axis",
    "Curve",
    "CurvesData",
    "HistoryData",
    "ImportanceData",
    "ParallelData",
    "ScatterData",
    "ScatterPanel",
    "history_data",
    "hyperband_bands",
    "importance_data",
    "learning_curves_data",
    "parallel_coordinates_data",
    "scatter_data",
    "swept_params",
]

# colour and marker per run state (matplotlib colour names), shared by every chart
STATE_STYLE = {
    "finished": ("tab:blue", "o"),
    "running": ("tab:green", "o"),
    "stopped": ("0.55", "v"),
    "killed": ("0.35", "s"),  # ended by the user (Ctrl-C)
    "failed": ("tab:red", "x"),
    "crashed": ("tab:red", "x"),
}


# --------------------------------------------------------------------------- shared steps


def _check_frame(df: Any, argument: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{argument}: expected the runs DataFrame (sweepnb.runs(id)), got {type(df).__name__}"
        )
    if "id" not in df.columns:
        raise ValueError(f"{argument}: the runs DataFrame has no 'id' column")
    return df


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Runs in creation order (stable, so equal or missing times keep the frame's order)."""
    if "created" in df.columns and len(df):
        return df.sort_values("created", kind="stable", na_position="last")
    return df


def _metric_values(df: pd.DataFrame, metric: str) -> np.ndarray:
    if metric not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[metric], errors="coerce").to_numpy(dtype=float)


def _states(df: pd.DataFrame) -> list[str]:
    return [str(s) for s in df["state"]] if "state" in df.columns else ["finished"] * len(df)


def _goodness_order(values: np.ndarray, goal: str) -> np.ndarray:
    """Indices from best to worst (NaN last)."""
    key = -values if goal == "maximize" else values
    return np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")


# --------------------------------------------------------------------------- history


@dataclass
class HistoryData:
    """The metric of each run in creation order and the best value so far."""

    metric: str
    goal: str
    ids: list[str]
    x: np.ndarray  # run number, 1-based
    y: np.ndarray  # the run's best metric value (NaN if it logged none)
    states: list[str]
    best: np.ndarray  # best value among runs 1..i (NaN before the first value)
    best_id: str | None

    def points_by_state(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{state: (x, y)}`` of the runs with a value, states in order of first appearance.
        A state whose runs logged no value has no point, hence no entry (nor a legend line)."""
        states = np.array(self.states)
        drawn = np.isfinite(self.y)
        points = {}
        for state in dict.fromkeys(states[drawn].tolist()):
            mask = (states == state) & drawn
            points[state] = (self.x[mask], self.y[mask])
        return points


def history_data(df: pd.DataFrame, cfg: dict, *, metric: str | None = None) -> HistoryData:
    """The data of :func:`history`.

    >>> d = history_data(df, cfg); d.best[-1]    # the sweep's best metric so far
    """
    metric, goal = _metric_of(cfg, metric)
    runs = _ordered(_check_frame(df))
    y = _metric_values(runs, metric)
    accumulate = np.fmax.accumulate if goal == "maximize" else np.fmin.accumulate
    best = accumulate(y) if len(y) else y
    order = _goodness_order(y, goal)
    best_id = str(runs["id"].iloc[order[0]]) if len(y) and not np.isnan(y[order[0]]) else None
    return HistoryData(
        metric=metric,
        goal=goal,
        ids=[str(i) for i in runs["id"]],
        x=np.arange(1, len(runs) + 1),
        y=y,
        states=_states(runs),
        best=best,
        best_id=best_id,
    )


# --------------------------------------------------------------------------- parallel coordinates


@dataclass
class Axis:
    """One vertical axis: values are mapped to [0, 1]; ticks are positions with their labels."""

    name: str
    kind: str  # "linear" | "log" | "categorical"
    ticks: list[float]
    labels: list[str]


@dataclass
class ParallelData:
    """Normalised coordinates of each drawn run, best runs last (drawn on top)."""

    metric: str
    goal: str
    axes: list[Axis]
    values: np.ndarray  # (runs, axes) in [0, 1], NaN where a run lacks the parameter
    metric_values: np.ndarray  # (runs,)
    ids: list[str]
    n_total: int  # runs with a metric value, before the max_lines cap


def _linear_axis(name: str, v: np.ndarray, kind: str = "linear") -> tuple[Axis, np.ndarray]:
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if hi > lo:
        norm = (v - lo) / (hi - lo)
        ticks = np.linspace(lo, hi, 3)
    else:
        norm = np.where(np.isfinite(v), 0.5, np.nan)
        ticks = np.array([lo])
    pos = [(t - lo) / (hi - lo) if hi > lo else 0.5 for t in ticks]
    fmt = (lambda t: f"{10**t:.3g}") if kind == "log" else (lambda t: f"{t:.4g}")
    return Axis(name, kind, pos, [fmt(t) for t in ticks]), norm


def _log_axis(name: str, v: np.ndarray) -> tuple[Axis, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
    return _linear_axis(name, logs, kind="log")


def _categories(column: pd.Series, declared: Sequence[Any]) -> list[str]:
    """Category labels: the config's order first, then any other value seen (sorted)."""
    labels = list(dict.fromkeys(_label(v) for v in declared))
    seen = {_label(v) for v in column if not _missing(v)}
    return labels + sorted(seen - set(labels))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _categorical_axis(
    name: str, column: pd.Series, declared: Sequence[Any]
) -> tuple[Axis, np.ndarray]:
    labels = _categories(column, declared)
    step = 1.0 / (len(labels) - 1) if len(labels) > 1 else 0.0
    pos = {lab: (i * step if len(labels) > 1 else 0.5) for i, lab in enumerate(labels)}
    norm = np.array([np.nan if _missing(v) else pos[_label(v)] for v in column], dtype=float)
    return Axis(name, "categorical", list(pos.values()), labels), norm


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _param_axis(param, column: pd.Series) -> tuple[Axis, np.ndarray]:
    if param.kind == "categorical":
        return _categorical_axis(param.name, column, param.values)
    if param.kind == "log":
        return _log_axis(param.name, _numeric(column))
    return _linear_axis(param.name, _numeric(column))


def parallel_coordinates_data(
    df: pd.DataFrame, cfg: dict, *, metric: str | None = None, max_lines: int = 300
) -> ParallelData:
    """The data of :func:`parallel_coordinates`: one axis per swept parameter, then the metric.

    Only runs with a metric value are drawn; above ``max_lines`` runs the best ones are kept.
    """
    if max_lines < 1:
        raise ValueError(f"max_lines: must be at least 1, got {max_lines}")
    metric, goal = _metric_of(cfg, metric)
    runs = _check_frame(df)
    y = _metric_values(runs, metric)
    keep = _goodness_order(y, goal)[: int(np.isfinite(y).sum())]
    n_total = len(keep)
    keep = keep[:max_lines][::-1]  # worst first, so the best run is drawn last, on top
    runs, y = runs.iloc[keep], y[keep]
    axes, columns = [], []
    for param in swept_params(runs, cfg):
        axis, norm = _param_axis(param, runs[param.name])
        axes.append(axis)
        columns.append(norm)
    axis, norm = _linear_axis(metric, y)
    axes.append(axis)
    columns.append(norm)
    values = np.column_stack(columns) if len(runs) else np.empty((0, len(axes)))
    return ParallelData(metric, goal, axes, values, y, [str(i) for i in runs["id"]], n_total)


# --------------------------------------------------------------------------- scatter


@dataclass
class ScatterPanel:
    """The metric against one parameter (categorical values at their category's position)."""

    name: str
    kind: str  # "linear" | "log" | "categorical"
    x: np.ndarray
    labels: list[str] = field(default_factory=list)  # categorical: label of position 0, 1, ...


@dataclass
class ScatterData:
    metric: str
    goal: str
    y: np.ndarray
    states: list[str]
    panels: list[ScatterPanel]


def _scatter_panel(param, column: pd.Series) -> ScatterPanel:
    if param.kind != "categorical":
        return ScatterPanel(param.name, param.kind, _numeric(column))
    labels = _categories(column, param.values)
    pos = {lab: i for i, lab in enumerate(labels)}
    x = np.array([np.nan if _missing(v) else pos[_label(v)] for v in column], dtype=float)
    return ScatterPanel(param.name, "categorical", x, labels)


def scatter_data(df: pd.DataFrame, cfg: dict, *, metric: str | None = None) -> ScatterData:
    """The data of :func:`scatter`: for each swept parameter, its value and the metric per run."""
    metric, goal = _metric_of(cfg, metric)
    runs = _check_frame(df)
    panels = [_scatter_panel(p, runs[p.name]) for p in swept_params(runs, cfg)]
    return ScatterData(metric, goal, _metric_values(runs, metric), _states(runs), panels)


# --------------------------------------------------------------------------- learning curves


@dataclass
class Curve:
    id: str
    state: str
    x: np.ndarray
    y: np.ndarray
    stop_reason: dict | None = None


@dataclass
class CurvesData:
    """Per-run metric curves (best runs kept above ``max_runs``), hyperband bands and thresholds."""

    metric: str
    goal: str
    xlabel: str
    curves: list[Curve]
    bands: list[int]
    thresholds: list[tuple[float, float]]  # (band, threshold): the latest stop reason per band
    n_total: int

    @property
    def has_steps(self) -> bool:
        """True when some run logged the metric more than once (a curve, not a point)."""
        return any(len(c.x) > 1 for c in self.curves)

    def lines_by_state(self) -> dict[str, list[np.ndarray]]:
        """``{state: [(n, 2) array of (x, y) per run]}`` of the curves with a line (two values
        or more), states in order of first appearance. A one-value curve draws no line, so a
        state with only those has no entry (nor a legend line)."""
        lines: dict[str, list[np.ndarray]] = {}
        for curve in self.curves:
            if len(curve.x) > 1:
                lines.setdefault(curve.state, []).append(np.column_stack([curve.x, curve.y]))
        return lines


def _counts_iterations(cfg: dict) -> bool:
    from sweepnb.engine.stopping import configured

    rule = configured(cfg)
    return rule is not None and rule.x_axis == "iteration"


def hyperband_bands(cfg: dict, limit: int | None = None) -> list[int]:
    """The iterations the config's stopping rule marks on the curves (hyperband: its bands, in
    logged metric values), up to ``limit``; [] without a rule or marks."""
    from sweepnb.engine.stopping import configured

    rule = configured(cfg)
    found = rule.chart_lines(cfg["early_terminate"]) if rule else []
    return sorted({b for b in found if limit is None or b <= limit})


def _runs_from_frame(frame: pd.DataFrame) -> list[dict]:
    """A long history frame (columns id, the metric, optional _step/state) as run dicts."""
    if "id" not in frame.columns:
        raise ValueError("history: the history frame has no 'id' column")
    runs = []
    for run_id, rows in frame.groupby("id", sort=False):
        state = str(rows["state"].iloc[-1]) if "state" in rows.columns else "finished"
        runs.append({"id": run_id, "state": state, "history": rows.to_dict("records")})
    return runs


def _number(value: Any) -> bool:
    """``metric.is_valid`` with a fast path for plain floats and ints (a dashboard refresh checks
    every logged value of every run)."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    return kind is int or is_valid(value)


def _curve(run: dict, metric: str, use_step: bool) -> Curve:
    xs, ys = [], []
    for row in run.get("history") or ():
        value = row.get(metric)
        if value is not None and _number(value):
            step = row.get("_step") if use_step else None
            xs.append(float(step) if step is not None and _number(step) else float(len(xs) + 1))
            ys.append(float(value))
    reason = run.get("stop_reason")
    return Curve(
        str(run.get("id")),
        str(run.get("state", "finished")),
        np.array(xs),
        np.array(ys),
        reason if isinstance(reason, dict) else None,
    )


def _curve_best(curve: Curve, goal: str) -> float:
    if not len(curve.y):
        return math.nan
    return float(curve.y.max() if goal == "maximize" else curve.y.min())


def _latest_thresholds(curves: list[Curve]) -> list[tuple[float, float]]:
    """(band, threshold) of the hyperband stop reasons, the latest stop per band (thresholds move
    as runs arrive; the last one is the one in force)."""
    latest: dict[float, float] = {}
    for curve in curves:
        reason = curve.stop_reason or {}
        at = reason.get("band", reason.get("iteration"))  # hyperband / median reasons
        if at is not None and "threshold" in reason:
            latest[float(at)] = float(reason["threshold"])
    return sorted(latest.items())


def _pick_curves(curves: list[Curve], bests: np.ndarray, goal: str, max_runs: int) -> list[Curve]:
    """Running runs first, then the best ended ones (a third of the room kept for stopped runs)."""
    ranked = [curves[i] for i in _goodness_order(bests, goal)]
    running = [c for c in ranked if c.state == "running"][:max_runs]
    stopped = [c for c in ranked if c.state == "stopped"][: max(0, (max_runs - len(running)) // 3)]
    rest = [c for c in ranked if c.state not in ("running", "stopped")]
    rest += [c for c in ranked if c.state == "stopped"][len(stopped) :]
    return running + stopped + rest[: max_runs - len(running) - len(stopped)]


def learning_curves_data(
    history: pd.DataFrame | Sequence[dict],
    cfg: dict,
    *,
    metric: str | None = None,
    max_runs: int = 40,
    x: str = "auto",
) -> CurvesData:
    """The data of :func:`learning_curves`.

    ``history``: run dicts (``store.get_runs(id)``: "id", "state", "history", "stop_reason") or
    a long frame with one row per logged step (columns "id", the metric, optional "_step" and
    "state"). ``x``: "iteration" (n-th logged value, hyperband's unit), "step" (``_step``) or
    "auto" (iteration when the config uses hyperband, else step).
    """
    if x not in ("auto", "iteration", "step"):
        raise ValueError(f"x: expected 'auto', 'iteration' or 'step', got {x!r}")
    if max_runs < 1:
        raise ValueError(f"max_runs: must be at least 1, got {max_runs}")
    metric, goal = _metric_of(cfg, metric)
    if isinstance(history, pd.DataFrame):
        runs = _runs_from_frame(history)
    elif isinstance(history, Sequence) and all(isinstance(r, dict) for r in history):
        runs = list(history)
    else:
        raise TypeError(
            f"history: expected run dicts or a history DataFrame, got {type(history).__name__}"
        )
    use_step = x == "step" or (x == "auto" and not _counts_iterations(cfg))
    curves = [c for c in (_curve(r, metric, use_step) for r in runs) if len(c.x)]
    thresholds = _latest_thresholds(curves)
    n_total = len(curves)
    bests = np.array([_curve_best(c, goal) for c in curves])
    shown = _pick_curves(curves, bests, goal, max_runs)
    longest = max((len(c.x) for c in curves), default=0)
    bands = hyperband_bands(cfg, limit=longest) if not use_step else []
    xlabel = "step" if use_step else f"iteration (n-th logged {metric})"
    return CurvesData(metric, goal, xlabel, shown, bands, thresholds, n_total)


# --------------------------------------------------------------------------- comparing sweeps


@dataclass
class CompareData:
    """Best-so-far curves of several sweeps on one metric: ``curves[label] = (x, best)``."""

    metric: str
    goal: str
    curves: dict[str, tuple[np.ndarray, np.ndarray]]


def compare_data(
    frames: dict[str, pd.DataFrame], cfg: dict, *, metric: str | None = None
) -> CompareData:
    """The data of :func:`sweepnb.plots.compare`: for each sweep (a label and its runs frame),
    the best metric value after each run, in creation order. ``cfg`` gives the metric and goal
    (the sweeps compared must share them)."""
    curves = {}
    name, goal = _metric_of(cfg, metric)
    for label, df in frames.items():
        data = history_data(df, cfg, metric=name)
        curves[str(label)] = (data.x, data.best)
    return CompareData(metric=name, goal=goal, curves=curves)
