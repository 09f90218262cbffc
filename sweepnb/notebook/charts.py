"""The dashboard's chart: every panel drawn on its own figure, cached, and tiled into one PNG.

A panel is redrawn only when its data changed. The summary panels (metric per run, parallel
coordinates, importance, scatter) show the runs that have ended, so while runs are logging only
the learning curves move; the others redraw when a run ends. Lines are capped, the DPI is modest,
margins are fixed by hand (a layout engine costs more than drawing a panel). The panels are drawn
light (``panels.py``: no matplotlib tick machinery, labels from cached bitmaps) on figures kept
between drawings, and the importance forest is small: a full refresh at 1,000 runs takes ~200 ms
of CPU (``bench/dashboard.py``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sweepnb.analysis import plotdata as plots
from sweepnb.engine.metric import Metric
from sweepnb.engine.states import TERMINAL_RUN_STATES
from sweepnb.notebook import panels

WIDTH = 12.0  # inches; every row of tiles is this wide
SCATTER_COLUMNS = 4
DPI = 96  # the image is WIDTH * DPI = 1152 px wide, shown at most that wide
FONT_SCALE = 1.3  # label sizes times this read at ~12 px (ticks) at DPI on a 1400 px page
RENDER_LOCK = threading.Lock()  # matplotlib is not thread-safe: one drawing at a time


def _column_key(column: pd.Series) -> bytes | tuple:
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=float).tobytes()  # NaN has one byte pattern, unlike hash()
    return tuple(map(str, column))


def _frame_key(df: pd.DataFrame, columns: list[str]) -> int:
    """Changes when any value of these columns (those present) changes."""
    present = [c for c in columns if c in df.columns]
    return hash((len(df), tuple(present), *(_column_key(df[c]) for c in present)))


def _curves_key(data: plots.CurvesData) -> tuple:
    curves = tuple(
        (c.id, c.state, len(c.y), float(c.y[-1]) if len(c.y) else None) for c in data.curves
    )
    return curves, tuple(data.bands), tuple(data.thresholds), data.n_total


SCALE_RANGE = (0.5, 4.0)  # the dashboard's size factor (labels, figure): a room's projector


def check_scale(scale: Any, name: str = "scale") -> float:
    """``scale`` as a float within ``SCALE_RANGE``; a ValueError naming ``name`` otherwise."""
    low, high = SCALE_RANGE
    ok = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
    if not ok or not low <= scale <= high:
        raise ValueError(f"{name}: expected a number from {low:g} to {high:g}, got {scale!r}")
    return float(scale)


class Charts:
    """Builds the dashboard chart; ``tiles_drawn`` counts panel drawings (cache misses).

    >>> png = Charts().png(runs_frame(cfg, runs), cfg, runs)    # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        dpi: int = DPI,
        max_lines: int = 150,
        max_curves: int = 30,
        max_scatter: int = 4,
        scale: float = 1.0,
    ):
        self.dpi = dpi
        self.scale = check_scale(scale)
        self.max_lines = max_lines
        self.max_curves = max_curves
        self.max_scatter = max_scatter
        self.tiles_drawn = 0
        self.last_drawn: list[str] = []  # the panels the last png() call had to draw
        self._tiles: dict[str, tuple[Any, np.ndarray]] = {}
        self._importance: tuple[Any, plots.ImportanceData] | None = None

    # -- one tile ----------------------------------------------------------------------------

    def _tile(
        self, name: str, key: Any, size: tuple[float, float], draw: Callable[[Figure], None]
    ) -> np.ndarray:
        cached = self._tiles.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        fig = _blank_figure(name, size, self.dpi)
        draw(fig)
        panels.drop_unused_axes(fig)
        fig.canvas.draw()
        canvas = fig.canvas
        pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
        self._tiles[name] = (key, pixels)
        self.tiles_drawn += 1
        self.last_drawn.append(name)
        return pixels

    # -- panels ------------------------------------------------------------------------------

    def _importance_data(self, ended: pd.DataFrame, cfg: dict, key: int) -> plots.ImportanceData:
        if self._importance is None or self._importance[0] != key:
            # a small forest on bounded samples: ~25 ms at 1,000 runs (vs ~100 for 30 trees on
            # every run); over seeds the importances move by < 0.01
            data = plots.importance_data(ended, cfg, n_estimators=20, max_samples=200)
            self._importance = (key, data)
        return self._importance[1]

    def _panels(self, df: pd.DataFrame, cfg: dict, runs: list[dict]) -> list[list[np.ndarray]]:
        """Rows of tiles: history | curves, parallel coordinates, importance | scatter."""
        metric = Metric.of(cfg).name
        ended = df[df["state"].isin(TERMINAL_RUN_STATES)] if "state" in df.columns else df
        params = [p.name for p in plots.swept_params(df, cfg)]
        key = _frame_key(ended, ["id", "state", metric, *params])
        importance = self._importance_data(ended, cfg, key)
        scatter = plots.scatter_data(ended, cfg)
        rank = {name: i for i, name in enumerate(importance.names)}  # most important first
        scatter.panels = sorted(scatter.panels, key=lambda p: rank.get(p.name, len(rank)))
        scatter.panels = scatter.panels[: self.max_scatter]
        curves = plots.learning_curves_data(runs, cfg, max_runs=self.max_curves)

        history = self._tile("history", key, (WIDTH / 2, 3), lambda f: _history(f, ended, cfg))
        parallel = self._tile(
            "parallel", key, (WIDTH, 3.2), lambda f: _parallel(f, ended, cfg, self.max_lines)
        )
        rows = math.ceil(max(1, len(scatter.panels)) / _scatter_columns(scatter))
        if curves.has_steps:
            right = self._tile(
                "curves", _curves_key(curves), (WIDTH / 2, 3), lambda f: _curves(f, curves)
            )
            height = 2 + 2.2 * rows
            imp = self._tile(
                "importance", key, (WIDTH / 3, height), lambda f: _importance(f, importance)
            )
            sc = self._tile(
                "scatter", key, (WIDTH * 2 / 3, height), lambda f: _scatter(f, scatter, rows)
            )
            return [[history, right], [parallel], [imp, sc]]
        right = self._tile(
            "importance-top", key, (WIDTH / 2, 3), lambda f: _importance(f, importance)
        )
        sc = self._tile(
            "scatter-wide", key, (WIDTH, 2 + 2.2 * rows), lambda f: _scatter(f, scatter, rows)
        )
        return [[history, right], [parallel], [sc]]

    def png(self, df: pd.DataFrame, cfg: dict, runs: list[dict]) -> bytes:
        """The chart as PNG bytes (panels whose data did not change are reused)."""
        from PIL import Image

        with RENDER_LOCK, gc_paused():
            self.last_drawn = []
            panels.SCALE = FONT_SCALE * self.scale
            try:
                rows = self._panels(df, cfg, runs)
            finally:
                panels.SCALE = 1.0
        image = _stack(rows)
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


_FIGURES: dict[tuple, Figure] = {}  # (panel, size, dpi) -> a figure to draw it on again


def _blank_figure(name: str, size: tuple[float, float], dpi: int) -> Figure:
    """The panel's figure of an earlier drawing (any Charts), emptied, or a new one. An Axes
    costs ~10 ms to create (its axis objects and ticks), more than a panel's data; the panels
    reuse the emptied ones (``panels.reuse_axes``). Call under RENDER_LOCK."""
    key = (name, size, dpi)
    fig = _FIGURES.get(key)
    if fig is None:
        fig = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(fig)
        _FIGURES[key] = fig
    panels.empty(fig)
    return fig


@functools.cache
def load_chart_libraries() -> None:
    """Import what drawing needs beyond this module (scikit-learn's forest: ~1 s) once."""
    import sklearn.ensemble  # noqa: F401
    from PIL import Image  # noqa: F401


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while drawing: matplotlib makes thousands of small objects,
    and with a sweep's runs in memory each collection walks them all (10-20% of a drawing).
    Collection resumes (if it was on) as soon as the drawing ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _stack(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Tiles side by side in each row, rows on top of each other (padded white to one width)."""
    lines = [np.hstack(row) for row in rows]
    width = max(line.shape[1] for line in lines)
    padded = [
        np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0)), constant_values=255)
        for line in lines
    ]
    return np.ascontiguousarray(np.vstack(padded))


# --------------------------------------------------------------------------- drawing steps


def _history(fig: Figure, ended: pd.DataFrame, cfg: dict) -> None:
    panels.history(fig, plots.history_data(ended, cfg))


def _parallel(fig: Figure, ended: pd.DataFrame, cfg: dict, max_lines: int) -> None:
    panels.parallel_coordinates(
        fig, plots.parallel_coordinates_data(ended, cfg, max_lines=max_lines)
    )


def _curves(fig: Figure, curves: plots.CurvesData) -> None:
    panels.learning_curves(fig, curves)


def _importance(fig: Figure, importance: plots.ImportanceData) -> None:
    panels.importance(fig, importance)


def _scatter_columns(scatter: plots.ScatterData) -> int:
    # as many columns as panels (up to 4): three parameters fill the width, not 3/4 of it
    return max(1, min(SCATTER_COLUMNS, len(scatter.panels)))


def _scatter(fig: Figure, scatter: plots.ScatterData, rows: int) -> None:
    panels.scatter(fig, scatter, columns=_scatter_columns(scatter))
