"""The dashboard's panels, drawn light: one Axes per panel and no matplotlib tick machinery.

Matplotlib's axis ticks (a ``Tick`` per tick, each with its lines and labels, every label measured
for the layout) cost more than the data: 50-100 ms per Axes. The live view draws its few tick
labels as plain text and its grid as one ``LineCollection`` at fixed positions, and puts several
small charts (the metric against each parameter; importance beside correlation) side by side in
ONE Axes. ``sweepnb.plots`` keeps the full figures; both draw the same data objects
(``plots.*_data``), so what the dashboard shows is what the public charts show.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from sweepnb.analysis import plotdata as plots
from sweepnb.notebook import labels
from sweepnb.notebook.labels import Label

FONT = 7
GRID = "0.9"
# every label's size is multiplied by this: the dashboard sets it while it draws (its ``scale``
# times the default that reads at ~12 px on a 1400 px page; larger for a projector)
SCALE = 1.0
Rect = tuple[float, float, float, float]


# --------------------------------------------------------------------------- small helpers


def _text(parent: Axes | Figure, x: float, y: float, text: str, **style) -> None:
    """A label as a cached bitmap (see labels.py): ``Text``-like ``transform`` (default: the
    Axes' data or the Figure's fraction), ``fontsize``, ``color``, ``ha``, ``va``, ``rotation``,
    ``zorder``, ``halo`` and ``halo_pad`` (see ``Label``). Several lines, or characters the
    default font lacks, fall back to ``Text``."""
    if not labels.supported(text):
        style["fontsize"] = style.get("fontsize", FONT) * SCALE
        halo, pad = style.pop("halo", None), style.pop("halo_pad", 2.0)
        if halo is not None:
            box = f"square,pad={pad / style['fontsize']}"  # Text's pad is in font sizes
            style["bbox"] = {"boxstyle": box, "facecolor": halo, "edgecolor": "none"}
        parent.text(x, y, text, **style)
        return
    default = parent.transData if isinstance(parent, Axes) else parent.transFigure
    transform = style.pop("transform", default)
    size = style.pop("fontsize", FONT) * SCALE
    parent.add_artist(Label(x, y, text, transform=transform, size=size, **style))


def empty(fig: Figure) -> None:
    """Remove everything drawn on ``fig`` but keep its Axes, marked free for :func:`_axes`."""
    for artist in [*fig.artists, *fig.texts]:
        artist.remove()
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.artists, *ax.texts]:
            artist.remove()
        ax.set_axis_on()
        for spine in ax.spines.values():
            spine.set_visible(True)
        ax.set_gid("free")


def drop_unused_axes(fig: Figure) -> None:
    """Remove the Axes of an earlier drawing that this drawing did not use."""
    for ax in [a for a in fig.axes if a.get_gid() == "free"]:
        ax.remove()


def _axes(fig: Figure, rect: Rect) -> Axes:
    """An Axes at a fixed place whose x and y axes are not drawn (we label them ourselves): a
    free one of an earlier drawing at the same place, else a new one."""
    for ax in fig.axes:
        if ax.get_gid() == "free" and np.allclose(ax.get_position().bounds, rect):
            ax.set_gid(None)
            return ax
    ax = fig.add_axes(rect)
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    return ax


def _limits(values: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi == lo:
        half = abs(lo) * 0.1 or 0.5
        return lo - half, hi + half
    span = hi - lo
    return lo - pad * span, hi + pad * span


def _ticks(lo: float, hi: float, nbins: int = 4, integer: bool = False) -> np.ndarray:
    ticks = MaxNLocator(nbins, integer=integer).tick_values(lo, hi)
    return ticks[(ticks >= lo) & (ticks <= hi)]


def _fmt(value: float, log: bool = False) -> str:
    return f"{10**value:.3g}" if log else f"{value:.4g}"


def _y_labels(ax: Axes, ticks: np.ndarray, *, x: float = 0.0, grid: bool = True) -> None:
    """Tick labels left of axes-x ``x`` at data-y ``ticks``, and light grid lines."""
    trans = ax.get_yaxis_transform()  # x in axes units, y in data
    for t in ticks:
        _text(ax, x - 0.01, t, _fmt(t), transform=trans, ha="right", va="center", fontsize=FONT)
    if grid and len(ticks):
        lines = [[(0, t), (1, t)] for t in ticks]
        ax.add_collection(
            LineCollection(lines, transform=trans, colors=GRID, lw=0.7, zorder=0), autolim=False
        )


def _y_name_room(ticks: np.ndarray) -> float:
    """Points from the tick labels' anchor to the right edge of the metric's name beside them:
    the widest tick label and a gap (a name placed nearer overlaps the tick labels)."""
    return max((labels.width(_fmt(t), FONT * SCALE) for t in ticks), default=0.0) + 4 * SCALE


def _left_margin(fig: Figure, ticks: np.ndarray, least: float) -> float:
    """The Axes' left edge (figure fraction) leaving room for the tick labels and the name;
    in steps of 0.02, so that a refresh finds the Axes of the last drawing at the same place."""
    needed = (_y_name_room(ticks) + 8 * SCALE * 1.4 + 6) / 72 / fig.get_figwidth()
    return max(least, math.ceil(needed * 50) / 50)


def _y_name(ax: Axes, ticks: np.ndarray, name: str, *, x: float = 0.0) -> None:
    """The metric's name, turned, left of the tick labels that ``_y_labels`` put at ``x``."""
    beside = offset_copy(ax.transAxes, fig=ax.figure, x=-_y_name_room(ticks), units="points")
    _text(ax, x - 0.01, 0.5, name, transform=beside, rotation=90, ha="right", va="center",
          fontsize=8)  # fmt: skip


def _x_labels(ax: Axes, ticks, labels, *, rotation: float = 0) -> None:
    """Labels below the Axes at data-x ``ticks``."""
    trans = ax.get_xaxis_transform()  # x in data, y in axes units
    for t, label in zip(ticks, labels):
        _text(
            ax,
            t,
            -0.03,
            label,
            transform=trans,
            ha="right" if rotation else "center",
            va="top",
            fontsize=FONT,
            rotation=rotation,
        )


def _title(ax: Axes, text: str, *, y: float = 1.03) -> None:
    _text(ax, 0.5, y, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=10)


HALO_PAD = 2.0  # points (times SCALE) of background kept around a label that lines cross
LEGEND_ROOM = 0.2  # the share of a panel's width right of its Axes, where its legend goes


def _legend(ax: Axes, entries: list[tuple[str, str]], *, loc: str = "outside") -> None:
    """Coloured names stacked right of the Axes, off the data (``loc="right"``/``"left"``: in
    that corner inside); a matplotlib legend measures every entry twice."""
    x, ha = {"outside": (1.02, "left"), "right": (0.99, "right")}.get(loc, (0.01, "left"))
    step = 0.08 * SCALE
    for i, (label, color) in enumerate(entries):
        _text(
            ax,
            x,
            0.97 - step * i,
            f"\u25cf {label}",
            transform=ax.transAxes,
            ha=ha,
            va="top",
            fontsize=FONT,
            color=color,
            zorder=5,
        )


def _points(ax: Axes, x, y, color: str, marker: str, *, size: float, **style) -> None:
    """Same-coloured markers as a Line2D without line: Agg stamps one marker bitmap (a scatter
    draws every point as its own path)."""
    edge = 1.0 if marker in ("x", "+", "_") else 0.0
    ax.plot(x, y, ls="none", marker=marker, ms=size, color=color, mew=edge, **style)


def message(fig: Figure, text: str) -> None:
    """A panel that only says why there is nothing to draw."""
    _text(fig, 0.5, 0.5, text, ha="center", va="center", color="0.4")


def _state_style(state: str) -> tuple[str, str]:
    return plots.STATE_STYLE.get(state, ("tab:purple", "o"))


# --------------------------------------------------------------------------- panels


def history(fig: Figure, data: plots.HistoryData) -> None:
    """The metric per run (colour and marker by state) and the best-so-far step line."""
    if not np.isfinite(data.y).any():
        message(fig, f"no run has logged {data.metric!r} yet")
        return
    ylo, yhi = _limits(data.y)
    yt = _ticks(ylo, yhi)
    left = _left_margin(fig, yt, 0.1)
    ax = _axes(fig, (left, 0.16, 0.98 - LEGEND_ROOM - left, 0.72))
    legend = []
    for state, (x, y) in data.points_by_state().items():
        color, marker = _state_style(state)
        _points(ax, x, y, color, marker, size=4.5, zorder=2)
        legend.append((state, color))
    ax.plot(data.x, data.best, drawstyle="steps-post", color="black", lw=1.2, zorder=3)
    xlo, xhi = 0.5, len(data.x) + 0.5
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    xt = _ticks(xlo, xhi, 5, integer=True)
    _x_labels(ax, xt, [f"{t:.0f}" for t in xt])
    _y_labels(ax, yt)
    _text(fig, 0.44, 0.01, "run", ha="center", va="bottom", fontsize=8)
    _y_name(ax, yt, data.metric)
    _title(ax, f"{data.metric} per run ({data.goal})")
    _legend(ax, [*legend, ("best so far", "black")])


def _line_height(texts: list[str], size: float) -> float:
    """The tallest of ``texts`` at ``size`` in points (one drawn by ``Text``: 1.25 sizes)."""
    return max(labels.height(t, size) if labels.supported(t) else 1.25 * size for t in texts)


def _parallel_rect(
    fig: Figure, ticks: list[str], names: list[str], best: str, title: str
) -> tuple[Rect, float, float]:
    """The parallel coordinates' Axes (data y 0..1 fills it), and the points from its bottom to
    the axis names' top and to the best run's line: room for half a tick label and its halo
    above 1 and below 0, the title above, the names and the best run below, at any ``SCALE``.
    Margins in steps of 0.02, so that a refresh finds the Axes of the last drawing."""
    size = FONT * SCALE
    half = _line_height(ticks, size) / 2 + HALO_PAD * SCALE
    gap = 3 * SCALE
    names_at = half + gap
    best_at = names_at + _line_height(names, size) + gap
    height = fig.get_figheight() * 72
    top = math.ceil((2 + _line_height([title], 10 * SCALE) + gap + half) / height * 50) / 50
    bottom = math.ceil((best_at + _line_height([best], size) + 2) / height * 50) / 50
    return (0.03, bottom, 0.96, 1 - top - bottom), names_at, best_at


def parallel_coordinates(fig: Figure, data: plots.ParallelData) -> None:
    """A line per run over the axes coloured by the metric, the best run in black on top.

    Tick labels sit on a halo of the background right of their axis, so the runs' lines stop
    ``HALO_PAD`` short of their text; the names, title and best run are laid out off the lines
    (all sizes in points: the layout holds at any ``SCALE``)."""
    if not len(data.ids):
        message(fig, f"no run has logged {data.metric!r} yet")
        return
    names = [a.name + (" (log)" if a.kind == "log" else "") for a in data.axes]
    shown = (
        f"best {len(data.ids)} of {data.n_total} runs"
        if data.n_total > len(data.ids)
        else f"{data.n_total} runs"
    )
    title, best = f"parallel coordinates ({shown})", f"\u2014 best: {data.ids[-1]}"
    ticks = [label for axis in data.axes for label in axis.labels] or ["0"]
    rect, names_at, best_at = _parallel_rect(fig, ticks, names, best, title)
    ax = _axes(fig, rect)
    ax.set_axis_off()  # no spines: a bottom spine at y=0 would run through the lowest labels
    k = len(data.axes)
    xs = np.arange(k, dtype=float)
    segments = np.stack([np.broadcast_to(xs, data.values.shape), data.values], axis=-1)
    finite = data.metric_values[np.isfinite(data.metric_values)]
    lines = LineCollection(
        segments,
        array=data.metric_values,
        cmap="viridis" if data.goal == "maximize" else "viridis_r",
        norm=Normalize(float(finite.min()), float(finite.max())),
        lw=0.9,
        alpha=0.7,
        clip_on=False,  # y 0 and 1 are the Axes' edges: a line there is drawn whole
    )
    ax.add_collection(lines, autolim=False)
    ax.plot(xs, data.values[-1], color="black", lw=2.2, zorder=3, clip_on=False)
    ax.add_collection(
        LineCollection([[(x, 0), (x, 1)] for x in xs], colors="0.3", lw=0.8, zorder=1),
        autolim=False,
    )
    pad = HALO_PAD * SCALE
    beside = offset_copy(ax.transData, fig=fig, x=pad + 1.5 * SCALE, units="points")
    for x, axis in zip(xs, data.axes):
        for pos, label in zip(axis.ticks, axis.labels):
            _text(ax, x, pos, label, transform=beside, fontsize=FONT, va="center", color="0.15",
                  zorder=4, halo=fig.get_facecolor(), halo_pad=pad)  # fmt: skip
    ax.set_xlim(-0.1, k - 0.6 if k > 1 else 0.6)
    ax.set_ylim(0, 1)
    below = ax.get_xaxis_transform()  # x in data, y in axes units
    under = offset_copy(below, fig=fig, y=-names_at, units="points")
    for x, name in zip(xs, names):
        _text(ax, x, 0, name, transform=under, ha="center", va="top", fontsize=FONT)
    top = 1 - 2 / (fig.get_figheight() * 72)
    _text(fig, 0.5, top, title, ha="center", va="top", fontsize=10)
    last = offset_copy(ax.transAxes, fig=fig, y=-best_at, units="points")
    _text(ax, 0, 0, best, transform=last, va="top", fontsize=FONT)


def _bar_section(ax: Axes, ys, widths, *, left: float, colors, title: str) -> None:
    ax.barh(ys, widths, left=left, height=0.7, color=colors)
    _text(ax, left if left else 0.5, len(ys) - 0.2, title, ha="center", va="bottom", fontsize=9)


def importance(fig: Figure, data: plots.ImportanceData) -> None:
    """Forest importance (x in [0, 1]) beside Pearson correlation (centred at 1.75) in ONE Axes."""
    if not data.names:
        message(fig, "no swept parameter to rank")
        return
    ax = _axes(fig, (0.3, 0.14, 0.65, 0.66))
    n, centre = len(data.names), 1.75
    ys = np.arange(n)[::-1]
    if np.isfinite(data.importance).any():
        _bar_section(
            ax, ys, np.nan_to_num(data.importance), left=0, colors="tab:blue", title="importance"
        )
    else:
        _text(
            ax,
            0.5,
            (n - 1) / 2,
            f"needs {data.min_runs} runs\nwith {data.metric!r}",
            ha="center",
            va="center",
            color="0.4",
            fontsize=8,
        )
        _text(ax, 0.5, n - 0.2, "importance", ha="center", va="bottom", fontsize=9)
    corr = np.nan_to_num(data.correlation)
    colors = np.where(corr >= 0, "tab:green", "tab:red")
    _bar_section(ax, ys, corr / 2, left=centre, colors=colors, title="correlation")
    ax.add_collection(
        LineCollection([[(centre, -0.6), (centre, n - 0.4)]], colors="0.3", lw=0.8), autolim=False
    )
    for y, r, name, label in zip(ys, corr, data.names, data.correlation_labels):
        _text(ax, -0.05, y, name, ha="right", va="center", fontsize=8)
        if label != name:  # a categorical: say which value the correlation is of
            _text(
                ax,
                centre + (0.01 if r < 0 else -0.01),
                y,
                label.split("=", 1)[1],
                ha="left" if r < 0 else "right",
                va="center",
                fontsize=FONT,
                color="0.2",
            )
    ax.set_xlim(-0.02, centre + 0.52)
    ax.set_ylim(-0.6, n - 0.4)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _x_labels(
        ax, [0, 0.5, 1, centre - 0.5, centre, centre + 0.5], ["0", "0.5", "1", "-1", "0", "1"]
    )
    _text(
        fig,
        0.5,
        0.97,
        f"parameter importance ({data.n_runs} runs)",
        ha="center",
        va="top",
        fontsize=10,
    )


def _scatter_x(panel) -> tuple[np.ndarray, float, float, np.ndarray, list[str]]:
    """x values of a panel, its limits, and its tick positions and labels (log: in log10)."""
    if panel.kind == "categorical":
        n = max(1, len(panel.labels))
        return panel.x, -0.5, n - 0.5, np.arange(len(panel.labels)), list(panel.labels)
    x = panel.x
    if panel.kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), np.nan)
    lo, hi = _limits(x)
    ticks = _ticks(lo, hi, 3, integer=panel.kind == "log")
    return x, lo, hi, ticks, [_fmt(t, panel.kind == "log") for t in ticks]


def _box(c: int, lo: float, hi: float) -> list[tuple[float, float]]:
    left, right = c + 0.06, c + 0.94
    return [(left, lo), (right, lo), (right, hi), (left, hi), (left, lo)]


def _scatter_row(ax: Axes, data: plots.ScatterData, row: list) -> None:
    """The panels of one row: x of panel c scaled into [c + 0.06, c + 0.94], shared y."""
    ylo, yhi = ax.get_ylim()
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(data.y))
    name_y = -0.45 / (ax.get_position().height * ax.figure.get_figheight())  # 0.45 in below
    xs, boxes = [], []
    for c, panel in enumerate(row):
        x, lo, hi, ticks, labels = _scatter_x(panel)
        if panel.kind == "categorical":
            x = x + jitter

        def scale(v, lo=lo, hi=hi, c=c):
            return c + 0.06 + 0.88 * (np.asarray(v, dtype=float) - lo) / (hi - lo)

        xs.append(scale(x))
        boxes.append(_box(c, ylo, yhi))
        _x_labels(ax, scale(ticks), labels, rotation=30 if panel.kind == "categorical" else 0)
        trans = ax.get_xaxis_transform()
        _text(ax, c + 0.5, name_y, panel.name, transform=trans, ha="center", va="top", fontsize=8)
    x, y = np.concatenate(xs), np.tile(data.y, len(row))
    states = np.tile(np.array(data.states), len(row))
    for state in dict.fromkeys(data.states):
        mask = states == state
        _points(ax, x[mask], y[mask], _state_style(state)[0], "o", size=3.5, alpha=0.8)
    ax.add_collection(LineCollection(boxes, colors="0.2", lw=0.8), autolim=False)


def scatter(fig: Figure, data: plots.ScatterData, *, columns: int = 4) -> None:
    """The metric against each parameter: ``columns`` panels per row, each row ONE Axes whose
    x runs 0..columns; the metric axis is shared."""
    if not data.panels:
        message(fig, "no swept parameter to plot")
        return
    rows = math.ceil(len(data.panels) / columns)
    ylo, yhi = _limits(data.y)
    ticks = _ticks(ylo, yhi)
    left = _left_margin(fig, ticks, 0.08)
    inches = fig.get_figheight()
    row_height = (inches - 0.45) / rows  # 0.45 in for the title
    for r in range(rows):
        top = inches - 0.45 - r * row_height - 0.1
        bottom = top - row_height + 0.7  # room for tick labels and the parameter's name
        ax = _axes(fig, (left, bottom / inches, 0.98 - left, (top - bottom) / inches))
        ax.set_axis_off()
        ax.set_xlim(0, columns)
        ax.set_ylim(ylo, yhi)
        _scatter_row(ax, data, data.panels[r * columns : (r + 1) * columns])
        _y_labels(ax, ticks, x=0.06 / columns)
        _y_name(ax, ticks, data.metric, x=0.06 / columns)
    _text(
        fig, 0.5, 0.98, f"{data.metric} against each parameter", ha="center", va="top", fontsize=10
    )


def learning_curves(fig: Figure, data: plots.CurvesData) -> None:
    """Curves coloured by state, stopped runs ending in a cross, hyperband bands and thresholds."""
    if not data.has_steps:
        message(fig, f"no learning curves: runs log {data.metric!r} once")
        return
    x = np.concatenate([c.x for c in data.curves])
    y = np.concatenate([c.y for c in data.curves])
    if data.thresholds:
        y = np.concatenate([y, np.array(data.thresholds)[:, 1]])
    ylo, yhi = _limits(y)
    yt = _ticks(ylo, yhi)
    left = _left_margin(fig, yt, 0.1)
    ax = _axes(fig, (left, 0.16, 0.98 - LEGEND_ROOM - left, 0.72))
    legend = []
    for state, segments in data.lines_by_state().items():
        color = _state_style(state)[0]
        ax.add_collection(LineCollection(segments, colors=color, lw=1, alpha=0.7), autolim=False)
        legend.append((state, color))
    ends = np.array([[c.x[-1], c.y[-1]] for c in data.curves if c.state == "stopped"])
    if len(ends):
        _points(ax, ends[:, 0], ends[:, 1], "tab:red", "x", size=5, zorder=3)
        legend.append(("stopped here", "tab:red"))
    if data.thresholds:
        t = np.array(data.thresholds)
        ax.plot(t[:, 0], t[:, 1], "_", color="black", ms=14, mew=2, zorder=4)
        legend.append(("band threshold", "black"))
    xlo, xhi = _limits(x, pad=0.02)
    if data.bands:
        bands = [[(b, ylo), (b, yhi)] for b in data.bands]
        ax.add_collection(
            LineCollection(bands, colors="0.5", lw=0.9, linestyles=":"), autolim=False
        )
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    whole = bool(np.all(np.mod(x, 1) == 0))  # steps or epochs: no tick at 1.5
    xt = _ticks(xlo, xhi, 5, integer=whole)
    _x_labels(ax, xt, [f"{t:.0f}" if whole else _fmt(t) for t in xt])
    _y_labels(ax, yt)
    _text(fig, 0.44, 0.01, data.xlabel, ha="center", va="bottom", fontsize=8)
    _y_name(ax, yt, data.metric)
    shown = (
        f"{len(data.curves)} of {data.n_total} runs"
        if data.n_total > len(data.curves)
        else f"{data.n_total} runs"
    )
    _title(ax, f"learning curves ({shown})")
    _legend(ax, legend)
