"""The interactive dashboard: one anywidget whose ES module (``static/dashboard.js``) draws the
parallel coordinates, the metric per run, the learning curves, the importance bars, the runs
table and the pinned run's panel, and hands the brush and the pins back to Python.

What goes over the wire, and when (the widget only draws; the data comes from
``sweepnb.analysis``):

- the runs, as records in blocks of ``BLOCK`` runs, each block a small child widget: a refresh
  re-sends only the blocks holding a run that changed (the running runs are the newest, so
  one or two blocks), never the whole sweep; a new view reads every block's state when it is
  drawn, so nothing depends on the kernel answering a message (a blocking ``%agent`` keeps
  the kernel busy while the view is drawn);
- ``axes`` (the parallel coordinates' axes, raw-value domains), ``status`` (progress), ``curves``
  (the shown learning curves, at most ``CURVE_POINTS`` points each), ``importance`` (bars and
  their one-sentence explanations): traits, re-sent only when they changed;
- from the browser: ``brush`` and ``pinned`` (traits), and a ``stop`` message (the Stop button).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import numpy as np
import pandas as pd
import traitlets

from sweepnb.analysis import plotdata, runs_frame
from sweepnb.analysis.importance import explain
from sweepnb.analysis.labels import value_label
from sweepnb.analysis.selection import BrushAxis, brush_axes
from sweepnb.analysis.tables import rerun_command
from sweepnb.engine.params import flatten
from sweepnb.engine.states import TERMINAL_RUN_STATES

STATIC = Path(__file__).with_name("static")
BLOCK = 100  # runs per block widget: a refresh re-sends the blocks whose runs changed
CURVE_POINTS = 150  # a learning curve longer than this is thinned (its ends and best kept)
MAX_CURVES = 40
IMPORTANCE_EVERY = 3.0  # seconds between two importance forests while runs arrive
SUMMARY_KEYS = 40  # summary values sent per run (the panel shows them; the rest: sweepnb show)
ERROR_CHARS = 4000

# CSS colours per run state, matching plotdata.STATE_STYLE's matplotlib colours
STATE_COLORS = {
    "finished": "#1f77b4",
    "running": "#2ca02c",
    "stopped": "#8c8c8c",
    "killed": "#595959",
    "failed": "#d62728",
    "crashed": "#d62728",
}


class RunBlock(ipywidgets.Widget):
    """Up to ``BLOCK`` run records (run number -> record); a model without a view."""

    runs = traitlets.Dict().tag(sync=True)


class DashboardWidget(anywidget.AnyWidget):
    """The whole dashboard as one widget; :class:`sweepnb.notebook.dashboard.Dashboard` fills it."""

    _esm = STATIC / "dashboard.js"
    _css = STATIC / "dashboard.css"

    sweep_id = traitlets.Unicode().tag(sync=True)
    metric = traitlets.Dict().tag(sync=True)  # {"name", "goal"} or {}
    scale = traitlets.Float(1.0).tag(sync=True)
    stop_button = traitlets.Bool(False).tag(sync=True)
    state_colors = traitlets.Dict(STATE_COLORS).tag(sync=True)
    blocks = traitlets.List(traitlets.Instance(RunBlock)).tag(
        sync=True, **ipywidgets.widget_serialization
    )
    axes = traitlets.List().tag(sync=True)
    status = traitlets.Dict().tag(sync=True)
    curves = traitlets.Dict().tag(sync=True)
    importance = traitlets.Dict().tag(sync=True)
    brush = traitlets.Dict().tag(sync=True)  # axis -> [lo, hi] or [label, ...]
    pinned = traitlets.List().tag(sync=True)  # run ids
    params = traitlets.List().tag(sync=True)  # swept parameter names, the table's columns


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _json_number(value: Any) -> Any:
    """A value the browser can take: NaN and infinities as None, numpy scalars as Python."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _plain(value: Any) -> Any:
    """A config or summary value as JSON the widget can show (nested dicts and lists kept)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: as they are
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, str, int, float, np.number)):
        return _json_number(value)
    return str(value)


def _thin(x: np.ndarray, y: np.ndarray, goal: str) -> tuple[list, list]:
    """At most CURVE_POINTS points of a curve, evenly spaced, keeping its ends and its best."""
    if len(x) > CURVE_POINTS:
        keep = set(np.linspace(0, len(x) - 1, CURVE_POINTS - 1).round().astype(int).tolist())
        keep.add(int(np.argmax(y) if goal == "maximize" else np.argmin(y)))
        index = sorted(keep)
        x, y = x[index], y[index]
    return [float(f"{v:.6g}") for v in x], [float(f"{v:.6g}") for v in y]


class WidgetView:
    """Keeps a :class:`DashboardWidget` in step with a sweep's runs: ``refresh(runs, prog)``
    sends what changed since the last call and returns the bytes it sent (an estimate of the
    JSON on the wire, for the benchmark)."""

    def __init__(
        self,
        sweep_id: str,
        cfg: dict,
        *,
        scale: float = 1.0,
        on_stop: Any = None,
        stop_button: bool = False,
    ):
        self.cfg = cfg
        metric = (cfg.get("metric") or {}).get("name")
        self.metric = str(metric) if metric else None
        self.goal = (cfg.get("metric") or {}).get("goal", "minimize")
        self.widget = DashboardWidget(
            sweep_id=sweep_id,
            metric={"name": self.metric, "goal": self.goal} if self.metric else {},
            scale=float(scale),
            stop_button=bool(stop_button),
        )
        self.widget.on_msg(self._message)
        self.widget.observe(self._pins_changed, names="pinned")
        self.on_stop = on_stop
        self._lock = threading.RLock()
        self._versions: dict[str, Any] = {}  # run id -> what it was when last sent
        self._number: dict[str, int] = {}  # run id -> run number (creation order, 0-based)
        self._rows: dict[str, dict] = {}  # run id -> its runs-frame row (params, metric, state)
        self._runs: dict[str, dict] = {}  # run id -> the last run dict seen (with history)
        self._curve_keys: dict[str, Any] = {}
        self._importance_key: Any = None
        self._importance_at = -math.inf
        self.bytes_sent = 0
        self.last_bytes = 0
        self._pending: list[dict] = []  # changed runs noted by take(), not sent yet
        self._axes: list[BrushAxis] | None = None
        self._record_axes: tuple[list, set] = ([], set())  # what the sent records hold
        self._searched = [p.name for p in flatten(cfg) if not p.is_constant]

    # -- what the browser sends ------------------------------------------------------------

    def _message(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "stop" and self.on_stop:
            self.on_stop()

    def _pins_changed(self, change: dict) -> None:
        # a pinned run's curve is drawn even when it is not among the best shown
        with self._lock:
            if self._runs:
                self._send_curves(list(self._runs.values()), force=True)

    # -- what Python sends -----------------------------------------------------------------

    def _record(self, run: dict, row: dict, params: list[str], categorical: set[str]) -> dict:
        values = {}
        for name in params:
            value = row.get(name)
            if _missing(value):
                continue
            values[name] = value_label(value) if name in categorical else _json_number(value)
        summary = {
            k: _plain(v)
            for k, v in list((run.get("summary") or {}).items())[:SUMMARY_KEYS]
            if not str(k).startswith("_")
        }
        error = run.get("error")
        name = (run.get("info") or {}).get("name")
        record = {
            "id": run["id"],
            "n": self._number[run["id"]] + 1,
            "s": run.get("state"),
            "m": _json_number(row.get(self.metric)) if self.metric else None,
            "p": values,
            "c": _plain(run.get("config") or {}),
            "sum": summary,
            "rt": _json_number(row.get("runtime")),
            "cmd": rerun_command(self.cfg, run, self.widget.sweep_id),
        }
        if name:
            record["name"] = str(name)
        if error:
            record["err"] = str(error)[-ERROR_CHARS:]
        reason = run.get("stop_reason")
        if isinstance(reason, dict) and reason.get("message"):
            record["why"] = str(reason["message"])
        return record

    def refresh(self, runs: list[dict], prog: Any, *, final: bool = False) -> int:
        """Send the runs that changed, the axes, the progress, the curves and (at most every
        ``IMPORTANCE_EVERY`` seconds, and at the end) the importance. Returns bytes sent."""
        with self._lock:
            before = _sent_bytes(self.widget)
            changed = self.take(runs)
            self._pending = []
            if changed:
                self._send_runs(changed, full_axes=final)
            elif final:
                self._send_axes(full=True)
            self._send_status(prog)
            self._send_curves(runs)
            self._send_importance(final)
            sent = _sent_bytes(self.widget) - before
            self.bytes_sent += sent
            self.last_bytes = sent
            return sent

    def take(self, runs: list[dict]) -> list[dict]:
        """Note the runs that changed since the last call (their runs-frame rows computed now)
        and return them; ``refresh`` sends them."""
        with self._lock:
            changed = []
            for run in runs:
                run_id = run["id"]
                if run_id not in self._number:
                    self._number[run_id] = len(self._number)
                mark = (run.get("state"), run.get("version"), repr(run.get("summary")))
                if self._versions.get(run_id) != mark:
                    changed.append(run)
                    self._versions[run_id] = mark
                self._runs[run_id] = run
            if changed:
                for record in runs_frame(self.cfg, changed).to_dict("records"):
                    self._rows[record["id"]] = record
            self._pending += changed
            return self._pending

    def metric_value(self, run: dict) -> float | None:
        """The run's metric value as its runs-frame row has it (what ``progress`` ranks by)."""
        return self._metric_of(run)

    def _send_axes(self, changed: list[dict] | None = None, full: bool = False) -> list:
        """The axes, recomputed over every run only when a changed run falls outside them (a new
        category, a value beyond an end) or ``full``: a refresh of a big sweep reads the changed
        rows, not all of them (an axis may stay a little wider than its runs until the end)."""
        cached = self._axes
        if (
            full
            or cached is None
            or any(self._outside(cached, self._rows[r["id"]]) for r in changed or ())
        ):
            self._axes = self.axes()
        self.widget.axes = [a.to_dict() for a in self._axes]
        return self._axes

    def _outside(self, axes: list[BrushAxis], row: dict) -> bool:
        """The row does not fit the axes: a value beyond an end, a new category, or a value of
        a searched parameter that has no axis yet (the first runs had no value for it)."""
        named = {axis.name for axis in axes}
        for name in self._searched:
            if name not in named and not _missing(row.get(name)):
                return True
        for axis in axes:
            value = row.get(axis.name)
            if _missing(value):
                continue
            if axis.kind == "categorical":
                if value_label(value) not in axis.categories:
                    return True
            elif (
                not isinstance(value, (int, float))
                or axis.lo is None
                or not axis.lo <= value <= axis.hi
            ):
                return True
        return False

    def _send_runs(self, changed: list[dict], full_axes: bool = False) -> None:
        axes = self._send_axes(changed, full=full_axes)
        params = [a.name for a in axes if not a.metric]
        categorical = {a.name for a in axes if a.kind == "categorical"}
        if (params, categorical) != self._record_axes:
            # a record holds the values of the axes' parameters as they were when it was sent:
            # new axes (a parameter's first value, a number column turned categorical) re-send
            # every run, else the runs sent before would have no value on the new axis
            self._record_axes = (params, categorical)
            changed = list(self._runs.values())
        by_id = {run["id"]: run for run in changed}
        touched: dict[int, dict] = {}
        blocks = list(self.widget.blocks)
        for run_id, run in by_id.items():
            number = self._number[run_id]
            index = number // BLOCK
            while len(blocks) <= index:
                blocks.append(RunBlock())
            if index not in touched:
                touched[index] = dict(blocks[index].runs)
            touched[index][str(number)] = self._record(run, self._rows[run_id], params, categorical)
        for index, records in touched.items():
            blocks[index].runs = records
        if len(blocks) != len(self.widget.blocks):
            self.widget.blocks = blocks
        self.widget.params = params

    def frame(self) -> pd.DataFrame:
        """The runs-frame rows seen so far (the swept parameters, the metric, id, state)."""
        return pd.DataFrame.from_records(list(self._rows.values()))

    def axes(self) -> list[BrushAxis]:
        frame = self.frame()
        if frame.empty:
            return []
        return brush_axes(frame, self.cfg)

    def _send_status(self, prog: Any) -> None:
        status = {
            "text": prog.text(),
            "state": prog.state,
            "done": prog.done,
            "planned": prog.planned,
            "running": prog.running,
            "failed": prog.failed,
            "stopped": prog.stopped,
            "best_id": prog.best_id,
        }
        if status != self.widget.status:
            self.widget.status = status

    def _send_curves(self, runs: list[dict], force: bool = False) -> None:
        if not self.metric:
            return
        # the candidates: running runs, the best ended ones and the pinned ones (a learning
        # curve over every run of a big sweep would cost a pass over all histories)
        ranked = sorted(
            (r for r in runs if self._metric_of(r) is not None),
            key=lambda r: self._metric_of(r) * (-1 if self.goal == "maximize" else 1),
        )
        pinned = set(self.widget.pinned)
        chosen = {r["id"]: r for r in runs if r.get("state") == "running"}
        for r in ranked[: MAX_CURVES * 2]:
            chosen.setdefault(r["id"], r)
        for r in runs:
            if r["id"] in pinned:
                chosen[r["id"]] = r
        key = tuple((i, r.get("version"), r.get("state")) for i, r in chosen.items())
        if not force and key == self._curve_keys.get("all"):
            return
        self._curve_keys["all"] = key
        data = plotdata.learning_curves_data(list(chosen.values()), self.cfg, max_runs=MAX_CURVES)
        shown = {c.id for c in data.curves}
        extra = [
            plotdata.learning_curves_data([chosen[i]], self.cfg).curves
            for i in pinned
            if i in chosen and i not in shown
        ]
        curves = list(data.curves) + [c for found in extra for c in found]
        thresholds = [[float(b), float(t)] for b, t in data.thresholds]
        thinned = [_thin(c.x, c.y, self.goal) for c in curves]
        self.widget.curves = {
            "xlabel": data.xlabel,
            "bands": [float(b) for b in data.bands],
            "thresholds": thresholds,
            "n_total": data.n_total,
            "curves": [
                {
                    "id": c.id,
                    "s": c.state,
                    "x": x,
                    "y": y,
                    "stop": _plain(c.stop_reason) if c.stop_reason else None,
                }
                for c, (x, y) in zip(curves, thinned)
            ],
        }

    def _metric_of(self, run: dict) -> float | None:
        row = self._rows.get(run["id"])
        value = None if row is None else row.get(self.metric)
        if _missing(value):
            return None
        return float(value)

    def _send_importance(self, final: bool) -> None:
        if not self.metric or not self._rows:
            return
        if not final and time.monotonic() - self._importance_at < IMPORTANCE_EVERY:
            return  # the next refresh (or the last) computes it
        frame = self.frame()
        ended = frame[frame["state"].isin(TERMINAL_RUN_STATES)]
        key = (
            tuple(ended["id"]),
            tuple(map(str, ended[self.metric])) if self.metric in ended else (),
        )
        if key == self._importance_key:
            return
        self._importance_key, self._importance_at = key, time.monotonic()
        # a small forest on bounded samples, as the PNG dashboard: ~25 ms at 1,000 runs
        data = plotdata.importance_data(ended, self.cfg, n_estimators=20, max_samples=200)
        self.widget.importance = {
            "names": data.names,
            "importance": [_json_number(v) for v in data.importance],
            "correlation": [_json_number(v) for v in data.correlation],
            "labels": data.correlation_labels,
            "sentences": explain(data),
            "n_runs": data.n_runs,
            "min_runs": data.min_runs,
        }


def enable_colab_widgets() -> None:
    """On Colab, turn on its custom widget manager (what Colab documents for third-party widgets:
    ``from google.colab import output; output.enable_custom_widget_manager()``), once."""
    import sys

    if "google.colab" not in sys.modules or _COLAB["done"]:
        return
    import contextlib

    # an old Colab without it: the text and image fallback still show
    with contextlib.suppress(Exception):
        from google.colab import output

        output.enable_custom_widget_manager()
    _COLAB["done"] = True


_COLAB = {"done": False}
_COUNTER = {"bytes": 0}


def _sent_bytes(widget: DashboardWidget) -> int:
    """Bytes of JSON all widget comms sent so far (counted once :func:`count_bytes` ran)."""
    return _COUNTER["bytes"]


def count_bytes() -> None:
    """Count the JSON every widget comm sends (for ``bench/dashboard.py`` and the tests): wraps
    ipywidgets' ``Widget._send`` once per process."""
    import json

    if getattr(ipywidgets.Widget._send, "_sweepnb_counted", False):
        return
    original = ipywidgets.Widget._send

    def counted(self, msg, buffers=None):
        _COUNTER["bytes"] += len(json.dumps(msg, default=str)) + sum(
            len(memoryview(b)) for b in buffers or ()
        )
        return original(self, msg, buffers)

    counted._sweepnb_counted = True
    ipywidgets.Widget._send = counted
