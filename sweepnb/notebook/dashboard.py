"""The live dashboard of a sweep: progress, charts, the best runs and a Stop button.

    sweepnb.dashboard(sweep_id)   # watch a sweep run anywhere on the store; a finished one: static

``%agent`` shows one too. Everything lands in ONE display handle holding a MIME bundle (text/plain,
text/html with the chart inline, image/png), so nbconvert, nbval, a terminal IPython and frontends
without widgets show the same information; the Stop button (ipywidgets) is displayed above it only
in a kernel. A refresh happens at most once per ``refresh`` seconds and only when a run changed.

The agent (or anyone) can push runs itself: ``dash.update(runs)``; ``dash.start()`` polls the store
in a background thread, ``dash.stop()`` ends polling and draws the final state.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pandas as pd

from sweepnb.errors import SweepnbError
from sweepnb.notebook.charts import Charts, gc_paused, load_chart_libraries
from sweepnb.notebook.output import bundle, cell_token, frontend  # the output, its front end
from sweepnb.notebook.progress import (  # noqa: F401  (re-exported: the dashboard's data)
    ACTIVE_SWEEP,
    Progress,
    best_table,
    fingerprint,
    planned_runs,
    progress,
)


def _none_running(runs: list[dict]) -> bool:
    """Runs exist and none is running (a sweep no run has started yet is not at rest: its
    agents are about to start)."""
    return bool(runs) and all(r.get("state") != "running" for r in runs)


class Dashboard:
    """A sweep's live view. ``show()`` displays it (call from the cell's thread), ``update(runs)``
    or ``refresh()`` redraws when something changed (at most once per ``refresh`` seconds),
    ``start()``/``stop()`` poll the store in a background thread, ``stop_sweep()`` is the button.

    ``count``: the runs the agent was asked for (progress and ETA); ``since``: the time that
    agent call started (progress then counts that call's runs, the sweep's total beside them);
    ``scale``: text size for a room (1.5 or 2 on a projector; 1 reads at ~12 px on a 1400 px
    page); ``on_stop``: called after the Stop button stopped the sweep (e.g. to end a local agent loop
    at once); ``stop_button=False``: no button (a blocking ``%agent`` cannot handle its click
    while the cell runs: the dashboard says to interrupt the kernel instead).
    """

    def __init__(
        self,
        sweep_id: str,
        store: Any = None,
        *,
        refresh: float = 1.0,
        count: int | None = None,
        top: int = 5,
        dpi: int | None = None,
        scale: float = 1.0,
        budget: float = 0.04,
        on_stop: Any = None,
        since: float | None = None,
        stop_button: bool = True,
    ):
        if not isinstance(sweep_id, str) or not sweep_id:
            raise ValueError(f"sweep_id: expected a sweep id string, got {sweep_id!r}")
        if isinstance(refresh, bool) or not isinstance(refresh, (int, float)) or not refresh >= 0:
            raise ValueError(f"refresh: must be a number >= 0 seconds, got {refresh!r}")
        if not 0 < budget <= 1:
            raise ValueError(f"budget: must be a share of time in (0, 1], got {budget!r}")
        from sweepnb.store import open_store

        self.sweep_id = sweep_id
        self.store = open_store(store, create=False)  # never creates a store
        self.refresh_interval = float(refresh)
        self.count = count
        self.top = top
        self.on_stop = on_stop
        self.since = since
        self.stop_button = stop_button
        self.charts = Charts(scale=scale) if dpi is None else Charts(dpi=dpi, scale=scale)
        self.renders = 0  # how many times the bundle was built
        self.last_bundle: dict | None = None
        self._sweep = self.store.get_sweep(sweep_id)  # SweepNotFound early, with the store named
        self._lock = threading.RLock()
        self._fingerprint: int | None = None
        self._last_render = -math.inf
        self.budget = budget
        self.render_seconds = 0.0  # total wall time spent building bundles
        self._last_cost = 0.0  # seconds of the last drawing, as the throttle counts them
        self._last_cpu = 0.0
        self._handle: Any = None
        self._shown_in: Any = None
        self._shown = False
        self._printed = ""
        self._mode = "text"
        self._note = ""
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._light: list[dict] = []  # the runs (without history) of the last poll
        self.state = ""  # the sweep's display state at the last drawing (progress.display_state)
        self.scale = self.charts.scale
        self.view: Any = None  # the interactive widget's link (widget front ends)
        self._brush: dict[str, list] = {}  # brush and pins when there is no widget
        self._pins: list[str] = []
        self._fallback_mark: int | None = None  # what the saved image (last bundle) shows
        self._polled: int | None = None  # the state the last poll read

    # -- data ------------------------------------------------------------------------------

    @property
    def config(self) -> dict:
        return self._sweep["config"]

    def poll(self) -> tuple[list[dict], str]:
        """The sweep's runs and state, read from the store (which re-parses only changed runs)."""
        return self._read(history=True, copy=True)

    def _read(self, *, history: bool, copy: bool = False) -> tuple[list[dict], str]:
        # the refreshes only read the runs: the store's own dicts, not a copy of each (0.1-0.2 s
        # at 20,000 runs); poll() gives callers copies they may change
        self._sweep = self.store.get_sweep(self.sweep_id)
        runs = self.store.get_runs(self.sweep_id, history=history, copy=copy)
        return runs, self._sweep["state"]

    def _progress(self, runs: list[dict], sweep_state: str, value_of: Any = None) -> Progress:
        prog = progress(
            self.config,
            runs,
            sweep_id=self.sweep_id,
            sweep_state=sweep_state,
            count=self.count,
            since=self.since,
            value_of=value_of,
        )
        self.state = prog.state
        return prog

    def render(self, runs: list[dict], sweep_state: str) -> dict:
        """Build the MIME bundle for these runs (no throttling, no display)."""
        from sweepnb.analysis import runs_frame

        cfg = self.config
        prog = self._progress(runs, sweep_state)
        df = runs_frame(cfg, runs)
        has_metric = bool((cfg.get("metric") or {}).get("name"))
        png = self.charts.png(df, cfg, runs) if has_metric and len(df) else None
        table = best_table(df, cfg, self.top)
        note = "" if has_metric else "the sweep config has no metric: no charts"
        return bundle(prog, table, png, note or self._note)

    # -- refreshing --------------------------------------------------------------------------

    def update(
        self,
        runs: list[dict] | None = None,
        *,
        sweep_state: str | None = None,
        force: bool = False,
        final: bool = False,
    ) -> bool:
        """Redraw if a run changed since the last drawing and the throttle allows it (``force``:
        redraw now). ``runs`` None: read them from the store. Returns True if redrawn.

        Throttle: at most one drawing per ``refresh`` seconds, and drawing takes at most a
        ``budget`` share of the time (a drawing that took 0.2 s waits 5 s with the default
        4%; the polls in between add about 1%)."""
        with self._lock:
            if runs is None and self.view is not None:
                # the widget reads the runs once (the store re-reads only the changed ones)
                runs, sweep_state = self._read(history=True)
                self._light = runs
                mark = fingerprint(runs, sweep_state)
            elif runs is None:  # a light read first: histories only when there is something to draw
                light, sweep_state = self._poll_light()
                mark = fingerprint(light, sweep_state)
            else:
                mark = fingerprint(runs, sweep_state or self._sweep["state"])
            state = sweep_state or self._sweep["state"]
            self._polled = mark
            if not force and mark == self._fingerprint:
                return False
            if not force and time.monotonic() - self._last_render < self.min_interval:
                return False  # the next tick (or stop()) draws it
            if runs is None:
                runs = self.store.get_runs(self.sweep_id, copy=False)
            if self._draw(runs, state, mark, final=final):
                self._publish(self._bundle())
            return True

    def _poll_light(self) -> tuple[list[dict], str]:
        self._light, state = self._read(history=False)
        return self._light, state

    def _at_rest(self) -> bool:
        """No run is running and the saved image does not show this state yet (widget only)."""
        return (
            self.view is not None
            and self._fingerprint is not None
            and self._polled == self._fingerprint != self._fallback_mark
            and _none_running(self._light)
        )

    def _ended(self) -> bool:
        """The sweep is over: not running or paused, and no run is running."""
        return self._sweep["state"] not in ACTIVE_SWEEP and all(
            r.get("state") != "running" for r in self._light
        )

    @property
    def min_interval(self) -> float:
        """Seconds between two drawings: ``refresh``, or longer when drawing is slow (the last
        drawing's wall time divided by ``budget``)."""
        return max(self.refresh_interval, self._last_cost / self.budget)

    def _draw(self, runs: list[dict], state: str, mark: int, *, final: bool = False) -> bool:
        """Draw; returns True when the bundle a saved notebook keeps (HTML, PNG) was redrawn."""
        # a one-off import (~1 s) must not count as what every drawing costs: it would hold
        # the next drawings back for ~25 s
        if self.view is None or final:
            load_chart_libraries()
        start, cpu = time.perf_counter(), time.thread_time()
        with gc_paused():  # the frame, table and chart make many short-lived objects
            if self.view is not None:
                # the widget gets what changed; the PNG fallback is drawn only at the end
                self.view.take(runs)  # the changed runs' rows first: progress reads them
                prog = self._progress(runs, state, self.view.metric_value)
                self.view.refresh(runs, prog, final=final)
                if final:
                    self.last_bundle = self.render(runs, state)
                    self._fallback_mark = mark
                else:
                    self.last_bundle = {"text/plain": prog.text()}
            else:
                self.last_bundle = self.render(runs, state)
        wall = time.perf_counter() - start
        self._last_cpu = time.thread_time() - cpu
        # the budget counts wall time, the share of the sweep's time spent refreshing (CPU
        # time alone let a drawing stretched by the agents' threads exceed it)
        self._last_cost = max(wall, self._last_cpu)
        self.render_seconds += wall
        self.renders += 1
        self._fingerprint, self._last_render = mark, time.monotonic()
        return self.view is None or final

    def refresh(self) -> bool:
        """Read the store and redraw if something changed."""
        return self.update()

    def start(self) -> Dashboard:
        """Poll the store every ``refresh`` seconds (less often while drawing is throttled) in a
        background thread until the sweep has ended and no run is running (or :meth:`stop`)."""
        if self._thread is None or not self._thread.is_alive():
            self._halt.clear()
            self._thread = threading.Thread(
                target=self._watch, name=f"sweepnb-dashboard-{self.sweep_id}", daemon=True
            )
            self._thread.start()
        return self

    def _watch(self) -> None:
        # no poll while the throttle would not let a drawing happen anyway
        while not self._halt.wait(self._next_poll()):
            try:
                drawn = self.update()
            except Exception as exc:  # noqa: BLE001 - a watcher must not die on a busy store
                self._note = f"dashboard: {type(exc).__name__}: {exc}"
                continue
            if self._ended():
                self._final()
                return
            if not drawn and self._at_rest():
                # nothing changed for a whole poll and no run runs (a random sweep stays
                # 'running' with no agent left): draw the image a saved notebook keeps, once
                self._final()

    def _next_poll(self) -> float:
        wait = self._last_render + self.min_interval - time.monotonic()
        return max(self.refresh_interval, wait, 0.05)

    def _final(self) -> None:
        """Draw the state once more if it changed since the last drawing (throttle ignored);
        with the widget, also the fallback image a saved notebook shows, once."""
        light, state = self._poll_light()
        mark = fingerprint(light, state)
        if mark != self._fingerprint or (self.view is not None and mark != self._fallback_mark):
            self.update(force=True, final=True)

    def stop(self, timeout: float = 5.0) -> None:
        """End the polling thread and draw the final state (a no-op redraw if nothing changed)."""
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._final()

    def wait(self, timeout: float | None = None) -> Dashboard:
        """Block until the polling thread has ended (the sweep is over)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def stop_sweep(self) -> None:
        """The Stop button: stop the sweep gracefully (running runs finish, no new ones start)."""
        from sweepnb import api
        from sweepnb.errors import SweepnbError

        try:
            api.stop(self.sweep_id, store=self.store)
        except SweepnbError as exc:  # already finished or cancelled: say so on the dashboard
            self._note = str(exc)
        if self.on_stop is not None:
            self.on_stop()

    # -- the selection, back in Python -----------------------------------------------------

    @property
    def brush(self) -> dict[str, list]:
        """The brush on the parallel coordinates: axis -> [low, high] or [category, ...]."""
        return dict(self.view.widget.brush) if self.view is not None else dict(self._brush)

    @property
    def pinned(self) -> list[str]:
        """The ids of the pinned runs, in the order they were pinned."""
        return list(self.view.widget.pinned) if self.view is not None else list(self._pins)

    @pinned.setter
    def pinned(self, run_ids: list[str]) -> None:
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        known = {r["id"] for r in self.store.get_runs(self.sweep_id, history=False)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise SweepnbError(f"pinned: sweep {self.sweep_id} has no run {unknown[0]!r}")
        ids = list(dict.fromkeys(ids))
        if self.view is not None:
            self.view.widget.pinned = ids
        self._pins = ids

    def _frame_and_axes(self) -> tuple[pd.DataFrame, list]:
        from sweepnb import api
        from sweepnb.analysis.selection import brush_axes

        frame = api.runs(self.sweep_id, store=self.store)
        return frame, brush_axes(frame, self.config)

    @property
    def selected(self) -> pd.DataFrame:
        """The runs the brush keeps plus the pinned ones (every run when nothing is brushed), read
        from the store now: the same columns as ``sweepnb.runs(sweep_id)``."""
        from sweepnb.analysis.selection import kept

        frame, axes = self._frame_and_axes()
        return kept(frame, self.brush, axes, self.pinned).reset_index(drop=True)

    def select(self, ranges: dict | None = None, /, **more: Any) -> pd.DataFrame:
        """Set the brush from code and return :attr:`selected`: a (low, high) range for a
        numeric parameter or the metric, a value or a list of values for a categorical one,
        None to clear that axis; no argument clears the whole brush. Dotted (nested) names go
        in a dict: ``d.select({"model.depth": 4}, lr=(1e-4, 1e-2))``.

        >>> d.select(lr=(1e-4, 1e-2), optimizer="adam")      # doctest: +SKIP
        """
        from sweepnb.analysis.selection import check_brush

        if ranges is not None and not isinstance(ranges, dict):
            raise SweepnbError(
                f"select: expected a dict of axis -> range or values, got {type(ranges).__name__}"
            )
        wanted = {**(ranges or {}), **more}
        _, axes = self._frame_and_axes()
        if wanted:
            checked = check_brush(wanted, axes)
            brush = {k: v for k, v in self.brush.items() if k not in wanted}
            brush.update(checked)
        else:
            brush = {}
        self._brush = brush
        if self.view is not None:
            self.view.widget.brush = brush
        return self.selected

    # -- display -----------------------------------------------------------------------------

    def show(self) -> Dashboard:
        """Display the dashboard (Stop button in a widget frontend) and draw the current state."""
        from IPython.display import display

        self._mode = frontend()
        if self._mode == "widget" and self.view is None:
            self._make_view()
        if self.last_bundle is None or self.view is not None:
            runs, state = self._read(history=True)
            self._light = runs
            # an ended sweep is drawn once, with the image a saved notebook keeps
            final = self.view is not None and (self._ended() or _none_running(runs))
            self._draw(runs, state, fingerprint(runs, state), final=final)
        if self._mode == "text":
            self._print(self.last_bundle)
        else:
            self._handle = display(self._bundle(), raw=True, display_id=True)
        self._shown, self._shown_in = True, cell_token()
        return self

    def _make_view(self) -> None:
        from sweepnb.notebook.widget import WidgetView, enable_colab_widgets

        enable_colab_widgets()
        self.view = WidgetView(
            self.sweep_id,
            self.config,
            scale=self.scale,
            on_stop=self.stop_sweep,
            stop_button=bool(self.stop_button),
        )
        self.view.widget.brush, self.view.widget.pinned = dict(self._brush), list(self._pins)

    def _bundle(self) -> dict:
        """What the output shows: the widget (where a front end draws widgets) over the last
        bundle (text, and at the end the HTML and PNG a saved notebook shows)."""
        data = dict(self.last_bundle or {})
        if self.view is not None:
            widget = self.view.widget._repr_mimebundle_()
            widget = widget[0] if isinstance(widget, tuple) else widget
            for key, value in (widget or {}).items():
                if key != "text/plain":
                    data[key] = value
        return data

    def _publish(self, data: dict) -> None:
        if self._handle is not None:
            self._handle.update(data, raw=True)
        elif self._mode == "text" and self._shown:
            self._print(data)

    def _print(self, data: dict) -> None:
        # a terminal cannot redraw in place: print only when the progress text changed
        head = data["text/plain"].split("\n\n")[0]
        if head != self._printed:
            print(data["text/plain"] if not self._printed else head, flush=True)
            self._printed = head

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        if self.last_bundle is None:
            self.update(force=True)
        return self._bundle()

    def _ipython_display_(self) -> None:
        # `sweepnb.dashboard(id)` as a cell's last line: it is already on screen, don't repeat it
        if self._shown_in is not None and self._shown_in == cell_token():
            return
        if not self._shown:
            self.show()
            return
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self) -> str:
        return f"Dashboard({self.sweep_id!r}, store={self.store.display_url!r})"


def dashboard(
    sweep_id: str,
    store: Any = None,
    refresh: float = 1.0,
    *,
    count: int | None = None,
    scale: float = 1.0,
) -> Dashboard:
    """Show a sweep's dashboard; while the sweep runs (agents anywhere on the same store) it
    refreshes from a background thread, a finished sweep is shown once.

    >>> dash = sweepnb.dashboard(sweep_id)      # doctest: +SKIP
    >>> dash.wait()                             # block until the sweep is over
    """
    dash = Dashboard(sweep_id, store, refresh=refresh, count=count, scale=scale).show()
    dash._poll_light()
    if not dash._ended():
        dash.start()
    return dash
