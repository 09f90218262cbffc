"""Charts of a sweep drawn with matplotlib: each ``draw_*(data, fig)`` renders a data object of
``sweepnb.analysis.plotdata`` into a Figure or SubFigure, and each chart function builds both.

Every chart takes the runs DataFrame (``sweepnb.runs(sweep_id)``) and the loaded config, and
returns a ``matplotlib.figure.Figure`` built without pyplot (no global state, safe off the main
thread, no GUI)::

    df = sweepnb.runs(sweep_id)
    cfg = sweepnb.engine.load_config("sweep.yaml")
    sweepnb.plots.parallel_coordinates(df, cfg).savefig("pc.png")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import LogLocator, NullLocator
from matplotlib.transforms import offset_copy

from sweepnb.analysis.plotdata import (
    STATE_STYLE,
    CompareData,
    CurvesData,
    HistoryData,
    ImportanceData,
    ParallelData,
    ScatterData,
    compare_data,
    history_data,
    importance_data,
    learning_curves_data,
    parallel_coordinates_data,
    scatter_data,
)

__all__ = [
    "compare",
    "draw_compare",
    "draw_history",
    "draw_importance",
    "draw_learning_curves",
    "draw_parallel_coordinates",
    "draw_scatter",
    "history",
    "importance",
    "learning_curves",
    "parallel_coordinates",
    "scatter",
]

Canvas = Figure | SubFigure


def _message(fig: Canvas, text: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", color="0.4", wrap=True)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def draw_history(data: HistoryData, fig: Canvas) -> None:
    """Draw the metric per run (coloured by state) and the best-so-far line."""
    if not np.isfinite(data.y).any():
        _message(fig, f"no run has logged {data.metric!r} yet")
        return
    ax = fig.add_subplot()
    for state, (x, y) in data.points_by_state().items():
        color, marker = STATE_STYLE.get(state, ("tab:purple", "o"))
        ax.scatter(x, y, s=14, c=color, marker=marker, label=state, zorder=2)
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
    # tick labels on a halo of the background a little right of their axis: the runs' lines
    # passing under them stop short of their text, and the axis line stays whole
    beside = offset_copy(ax.transData, fig=fig, x=3.5, units="points")
    halo = {"boxstyle": "square,pad=0.3", "facecolor": fig.get_facecolor(), "edgecolor": "none"}
    for x, axis in zip(xs, data.axes):
        ax.axvline(x, color="0.3", lw=0.8, zorder=1)
        for pos, label in zip(axis.ticks, axis.labels):
            ax.text(x, pos, label, fontsize=7, va="center", ha="left", color="0.15", zorder=4,
                    transform=beside, bbox=halo)  # fmt: skip
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


def draw_learning_curves(data: CurvesData, fig: Canvas) -> None:
    """Curves coloured by state, stopped runs ending in a cross, hyperband bands and thresholds."""
    if not data.has_steps:
        _message(fig, f"no learning curves: runs log {data.metric!r} once")
        return
    ax = fig.add_subplot()
    for state, segments in data.lines_by_state().items():
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


def draw_compare(data: CompareData, fig: Canvas) -> None:
    """Draw each sweep's best-so-far curve against the number of runs."""
    if not any(np.isfinite(best).any() for _, best in data.curves.values()):
        _message(fig, f"no run has logged {data.metric!r} yet")
        return
    ax = fig.add_subplot()
    for label, (x, best) in data.curves.items():
        final = best[np.isfinite(best)][-1] if np.isfinite(best).any() else float("nan")
        ax.step(x, best, where="post", lw=2, label=f"{label} (best {final:.4g})")
    ax.set_xlabel("runs", fontsize=12)
    ax.set_ylabel(f"best {data.metric} so far", fontsize=12)
    ax.set_title(f"best {data.metric} so far ({data.goal})", fontsize=13)
    ax.tick_params(labelsize=11)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=11, loc="lower right" if data.goal == "maximize" else "upper right")
    ax.grid(alpha=0.3)


def compare(
    sweep_ids: Any, store: Any = None, *, labels: Any = None, metric: str | None = None
) -> Figure:
    """One chart comparing sweeps: each one's best metric value so far against its number of
    runs (same budget, different methods: which finds a good value sooner?).

    ``sweep_ids``: a list of ids (labelled by their name, else method and id) or a dict
    ``{label: sweep_id}``; the sweeps must share the metric (the first one's is used).

    >>> sweepnb.plots.compare([random_id, bayes_id])       # doctest: +SKIP
    """
    from sweepnb.analysis import runs_frame
    from sweepnb.store import open_store

    st = open_store(store, create=False)
    if isinstance(sweep_ids, str):
        sweep_ids = [sweep_ids]  # one sweep: its curve alone
    if not isinstance(sweep_ids, (dict, list, tuple)):
        raise TypeError(
            f"sweep_ids: expected a list of sweep ids or a dict {{label: id}}, got {sweep_ids!r}"
        )
    items = (
        list(sweep_ids.items()) if isinstance(sweep_ids, dict) else [(None, s) for s in sweep_ids]
    )
    if not items:
        raise ValueError("sweep_ids: give at least one sweep id")
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"labels: {len(labels)} labels for {len(items)} sweeps")
        items = [(label, sid) for label, (_, sid) in zip(labels, items)]
    frames, first_cfg = {}, None
    for label, sid in items:
        sweep = st.get_sweep(sid)
        cfg = sweep["config"]
        first_cfg = first_cfg or cfg
        name = label or sweep.get("name") or f"{cfg.get('method')} {sweep['id']}"
        frames[name] = runs_frame(cfg, st.get_runs(sweep["id"]))
    fig = _new_figure(7, 4)
    draw_compare(compare_data(frames, first_cfg, metric=metric), fig)
    return fig
