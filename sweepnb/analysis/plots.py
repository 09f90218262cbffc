"""Charts of a sweep: each is a data step (plain arrays, tested without drawing), then drawing.

Every public chart takes the runs DataFrame (``sweepnb.runs(sweep_id)``) and the loaded config,
and returns a ``matplotlib.figure.Figure`` built without pyplot (no global state, safe off the main
thread, no GUI)::

    df = sweepnb.runs(sweep_id)
    cfg = sweepnb.engine.load_config("sweep.yaml")
    sweepnb.plots.parallel_coordinates(df, cfg).savefig("pc.png")

``*_data(...)`` returns the small data object a chart draws; ``draw_*(data, fig)`` draws it into a
Figure or SubFigure (the live dashboard composes several into one image and reuses their data).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import LogLocator, NullLocator

from sweepnb.analysis.importance import ImportanceData, importance_data, swept_params
from sweepnb.analysis.importance import metric_of as _metric_of
from sweepnb.engine.metric import is_valid

__all__ = [
    "CurvesData",
    "HistoryData",
    "ImportanceData",
    "ParallelData",
    "ScatterData",
    "draw_history",
    "draw_importance",
    "draw_learning_curves",
    "draw_parallel_coordinates",
    "draw_scatter",
    "history",
    "history_data",
    "importance",
    "importance_data",
    "learning_curves",
    "learning_curves_data",
    "parallel_coordinates",
    "parallel_coordinates_data",
    "scatter",
    "scatter_data",
]

Canvas = Figure | SubFigure

# colour and marker per run state, shared by every chart
STATE_STYLE = {
    "finished": ("tab:blue", "o"),
    "running": ("tab:green", "o"),
    "stopped": ("0.55", "v"),
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


def _label(value: Any) -> str:
    """A categorical value as an axis label (32 and 32.0 read the same)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _message(fig: Canvas, text: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", color="0.4", wrap=True)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


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


def draw_history(data: HistoryData, fig: Canvas) -> None:
    """Draw the metric per run (coloured by state) and the best-so-far line."""
    if not np.isfinite(data.y).any():
        _message(fig, f"no run has logged {data.metric!r} yet")
        return
    ax = fig.add_subplot()
    states = np.array(data.states)
    for state in dict.fromkeys(data.states):
        color, marker = STATE_STYLE.get(state, ("tab:purple", "o"))
        mask = states == state
        ax.scatter(data.x[mask], data.y[mask], s=14, c=color, marker=marker, label=state, zorder=2)
    ax.step(data.x, data.best, where="post", color="black", lw=1.2, label="best so far", zorder=3)
    ax.set_xlabel("run")
    ax.set_ylabel(data.metric)
    ax.set_title(f"{data.metric} per run ({data.goal})", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)


def history(df: pd.DataFrame, cfg: dict, *, metric: str | None = None) -> Figure:
    """The metric of every run in creation order, with the best value so far as a step line."""
    fig = _new_figure(6, 3.5)
    draw_history(history_data(df, cfg, metric=metric), fig)
    return fig


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


def draw_parallel_coordinates(data: ParallelData, fig: Canvas, *, colorbar: bool = True) -> None:
    """Draw one polyline per run over the axes, coloured by the metric, best run highlighted
    (``colorbar`` False: the metric's own axis is the only scale)."""
    if not len(data.ids):
        _message(fig, f"no run has logged {data.metric!r} yet")
        return
    ax = fig.add_subplot()
    k = len(data.axes)
    xs = np.arange(k, dtype=float)
    segments = np.stack([np.broadcast_to(xs, data.values.shape), data.values], axis=-1)
    cmap = "viridis" if data.goal == "maximize" else "viridis_r"
    finite = data.metric_values[np.isfinite(data.metric_values)]
    norm = Normalize(float(finite.min()), float(finite.max()))
    lines = LineCollection(
        segments, array=data.metric_values, cmap=cmap, norm=norm, lw=0.9, alpha=0.7
    )
    ax.add_collection(lines)
    ax.plot(xs, data.values[-1], color="black", lw=2.2, zorder=3, label=f"best: {data.ids[-1]}")
    for x, axis in zip(xs, data.axes):
        ax.axvline(x, color="0.3", lw=0.8, zorder=1)
        for pos, label in zip(axis.ticks, axis.labels):
            ax.text(
                x + 0.02, pos, label, fontsize=7, va="center", ha="left", color="0.15", zorder=4
            )
    ax.set_xlim(-0.1, k - 0.6 if k > 1 else 0.6)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(
        xs, [a.name + (" (log)" if a.kind == "log" else "") for a in data.axes], fontsize=8
    )
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    shown = (
        f"best {len(data.ids)} of {data.n_total} runs"
        if data.n_total > len(data.ids)
        else f"{data.n_total} runs"
    )
    ax.set_title(f"parallel coordinates ({shown})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.08), frameon=False)
    if colorbar:
        fig.colorbar(lines, ax=ax, label=data.metric, pad=0.01)


def parallel_coordinates(
    df: pd.DataFrame, cfg: dict, *, metric: str | None = None, max_lines: int = 300
) -> Figure:
    """One vertical axis per swept parameter (log axis for log distributions, labelled categorical
    axes) and one for the metric; a line per run coloured by its metric."""
    data = parallel_coordinates_data(df, cfg, metric=metric, max_lines=max_lines)
    fig = _new_figure(max(6.0, 1.6 * len(data.axes)), 4)
    draw_parallel_coordinates(data, fig)
    return fig


# --------------------------------------------------------------------------- importance


def draw_importance(data: ImportanceData, fig: Canvas) -> None:
    """Two bar charts sharing the parameter axis: forest importance and Pearson correlation."""
    if not data.names:
        _message(fig, "no swept parameter to rank")
        return
    ax_imp, ax_cor = fig.subplots(1, 2, sharey=True)
    ys = np.arange(len(data.names))[::-1]
    if np.isfinite(data.importance).any():
        ax_imp.barh(ys, np.nan_to_num(data.importance), color="tab:blue")
        ax_imp.set_xlim(0, 1)
        ax_imp.set_xticks([0, 0.5, 1])
    else:
        ax_imp.text(
            0.5,
            0.5,
            f"needs {data.min_runs} runs\nwith {data.metric!r}",
            ha="center",
            va="center",
            transform=ax_imp.transAxes,
            color="0.4",
            fontsize=8,
        )
    ax_imp.set_yticks(ys, data.names, fontsize=8)
    ax_imp.set_title("importance", fontsize=9)
    corr = np.nan_to_num(data.correlation)
    ax_cor.barh(ys, corr, color=np.where(corr >= 0, "tab:green", "tab:red"))
    ax_cor.axvline(0, color="0.3", lw=0.8)
    ax_cor.set_xlim(-1, 1)
    ax_cor.set_xticks([-1, 0, 1])
    for y, r, name, label in zip(ys, corr, data.names, data.correlation_labels):
        if label != name:  # a categorical: say which value the correlation is of
            ax_cor.text(
                0.02 if r < 0 else -0.02,
                y,
                label.split("=", 1)[1],
                fontsize=7,
                va="center",
                ha="left" if r < 0 else "right",
                color="0.2",
            )
    ax_cor.set_title("correlation", fontsize=9)
    fig.suptitle(f"parameter importance for {data.metric} ({data.n_runs} runs)", fontsize=10)


def importance(df: pd.DataFrame, cfg: dict, *, metric: str | None = None) -> Figure:
    """W&B's parameter-importance panel: random-forest importance and correlation per parameter."""
    data = importance_data(df, cfg, metric=metric)
    fig = _new_figure(7, 0.8 + 0.35 * max(3, len(data.names)))
    draw_importance(data, fig)
    return fig


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


def draw_scatter(data: ScatterData, fig: Canvas, *, columns: int = 4) -> None:
    """One small panel per parameter, sharing the metric axis; colour = run state."""
    if not data.panels:
        _message(fig, "no swept parameter to plot")
        return
    ncols = min(columns, len(data.panels))
    nrows = math.ceil(len(data.panels) / ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
    colors = [STATE_STYLE.get(state, ("tab:purple", "o"))[0] for state in data.states]
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(data.y))
    for ax, panel in zip(axes, data.panels):
        x = panel.x + jitter if panel.kind == "categorical" else panel.x
        ax.scatter(x, data.y, s=9, c=colors, linewidths=0, alpha=0.8)
        if panel.kind == "log" and (panel.x > 0).any():
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(numticks=4))
            ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks cost more than the points
        elif panel.kind == "categorical":
            ax.set_xticks(range(len(panel.labels)), panel.labels, fontsize=7, rotation=30)
        else:
            ax.locator_params(axis="x", nbins=3)
        ax.locator_params(axis="y", nbins=4)
        ax.set_xlabel(panel.name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(data.panels) :]:
        ax.set_axis_off()
    axes[0].set_ylabel(data.metric, fontsize=8)
    fig.suptitle(f"{data.metric} against each parameter", fontsize=10)


def scatter(df: pd.DataFrame, cfg: dict, *, metric: str | None = None) -> Figure:
    """The metric of each run against each swept parameter (log x axis for log distributions)."""
    data = scatter_data(df, cfg, metric=metric)
    ncols = min(4, max(1, len(data.panels)))
    fig = _new_figure(2.6 * ncols, 2.4 * math.ceil(max(1, len(data.panels)) / ncols) + 0.4)
    draw_scatter(data, fig)
    return fig


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


def draw_learning_curves(data: CurvesData, fig: Canvas) -> None:
    """Curves coloured by state, stopped runs ending in a cross, hyperband bands and thresholds."""
    if not data.has_steps:
        _message(fig, f"no learning curves: runs log {data.metric!r} once")
        return
    ax = fig.add_subplot()
    by_state: dict[str, list[np.ndarray]] = {}
    for curve in data.curves:
        by_state.setdefault(curve.state, []).append(np.column_stack([curve.x, curve.y]))
    for state, segments in by_state.items():
        color, _ = STATE_STYLE.get(state, ("tab:purple", "o"))
        ax.add_collection(LineCollection(segments, colors=color, lw=1, alpha=0.7, label=state))
    ends = np.array([[c.x[-1], c.y[-1]] for c in data.curves if c.state == "stopped"]).reshape(
        -1, 2
    )
    if len(ends):
        ax.scatter(
            ends[:, 0], ends[:, 1], marker="x", c="tab:red", s=24, zorder=3, label="stopped here"
        )
    for band in data.bands:
        ax.axvline(band, color="0.5", ls=":", lw=0.9)
    if data.thresholds:
        t = np.array(data.thresholds)
        ax.scatter(
            t[:, 0], t[:, 1], marker="_", c="black", s=200, lw=2, zorder=4, label="band threshold"
        )
    ax.autoscale_view()
    ax.set_xlabel(data.xlabel, fontsize=8)
    ax.set_ylabel(data.metric)
    shown = (
        f"{len(data.curves)} of {data.n_total} runs"
        if data.n_total > len(data.curves)
        else f"{data.n_total} runs"
    )
    ax.set_title(f"learning curves ({shown})", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)


def learning_curves(
    history: pd.DataFrame | Sequence[dict],
    cfg: dict,
    *,
    metric: str | None = None,
    max_runs: int = 40,
    x: str = "auto",
) -> Figure:
    """The metric of each run over its steps: stopped runs marked, hyperband bands and thresholds
    drawn when the config uses hyperband (see :func:`learning_curves_data`)."""
    fig = _new_figure(6, 3.5)
    draw_learning_curves(
        learning_curves_data(history, cfg, metric=metric, max_runs=max_runs, x=x), fig
    )
    return fig
