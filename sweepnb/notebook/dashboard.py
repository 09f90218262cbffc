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

import base64
import html
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sweepnb.analysis import plots
from sweepnb.engine.metric import best_value
from sweepnb.notebook.charts import TERMINAL, Charts, gc_paused, load_chart_libraries

ACTIVE_SWEEP = ("running", "paused")


# --------------------------------------------------------------------------- progress (pure)


@dataclass
class Progress:
    """Counts, best run and timing of a sweep at one moment."""

    sweep_id: str
    sweep_state: str
    metric: str | None
    goal: str
    done: int
    planned: int | None
    running: int
    failed: int
    stopped: int
    best_value: float | None
    best_id: str | None
    best_config: dict | None
    elapsed: float
    eta: float | None

    def text(self) -> str:
        """Two lines: counts and timing, then the best run."""
        planned = f"/{self.planned}" if self.planned else ""
        eta = f", ETA {_duration(self.eta)}" if self.eta is not None else ""
        counts = (
            f"sweep {self.sweep_id} [{self.sweep_state}]: {self.done}{planned} runs done, "
            f"{self.running} running, {self.failed} failed, {self.stopped} stopped; "
            f"elapsed {_duration(self.elapsed)}{eta}"
        )
        if self.best_id is None:
            return counts + "\nbest: none yet"
        best = f"best {self.metric} = {self.best_value:.6g}"
        return f"{counts}\n{best} ({self.best_id}: {_params(self.best_config)})"

    def html(self) -> str:
        """The same as a small HTML block with a progress bar."""
        share = min(1.0, self.done / self.planned) if self.planned else 0.0
        bar = (
            f'<progress value="{share:.3f}" max="1" style="width:240px"></progress> '
            if self.planned
            else ""
        )
        lines = [html.escape(line) for line in self.text().splitlines()]
        return f'<div class="sweepnb-progress">{bar}<b>{lines[0]}</b><br>{lines[1]}</div>'


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _params(config: dict | None, prefix: str = "") -> str:
    parts = []
    for key, value in (config or {}).items():
        if isinstance(value, dict):
            parts.append(_params(value, f"{prefix}{key}."))
        else:
            parts.append(
                f"{prefix}{key}={value:.4g}"
                if isinstance(value, float)
                else f"{prefix}{key}={value}"
            )
    return ", ".join(p for p in parts if p)


def planned_runs(cfg: dict, count: int | None = None) -> int | None:
    """How many runs the sweep will make, when known: the smallest of the search method's
    planned runs (grid: its size), ``run_cap`` and the agent's ``count``."""
    known = [n for n in (cfg.get("run_cap"), count) if isinstance(n, int) and n > 0]
    size = _method_planned_runs(cfg)
    if size:
        known.append(size)
    return min(known) if known else None


def _method_planned_runs(cfg: dict) -> int | None:
    from sweepnb.engine import search

    method = cfg.get("method")
    known = isinstance(method, str) and method in search.METHODS
    return search.describe(method).planned_runs(cfg) if known else None


def progress(
    cfg: dict,
    runs: list[dict],
    *,
    sweep_id: str,
    sweep_state: str,
    count: int | None = None,
    now: float | None = None,
) -> Progress:
    """Progress of a sweep from its config and run dicts (``store.get_runs``).

    ``now`` defaults to ``time.time()``; ``count`` is the agent's run count, if any."""
    now = time.time() if now is None else now
    metric = (cfg.get("metric") or {}).get("name")
    goal = (cfg.get("metric") or {}).get("goal", "minimize")
    states = [r.get("state") for r in runs]
    done = sum(s in TERMINAL for s in states)
    best = _best_run(runs, metric, goal)
    created = [r["created"] for r in runs if isinstance(r.get("created"), (int, float))]
    ended = [r["ended"] for r in runs if isinstance(r.get("ended"), (int, float))]
    live = sweep_state in ACTIVE_SWEEP or "running" in states
    end = now if live or not ended else max(ended)
    elapsed = max(0.0, end - min(created)) if created else 0.0
    planned = planned_runs(cfg, count)
    eta = None
    if planned and live and done:
        eta = max(0.0, elapsed / done * (planned - done))
    return Progress(
        sweep_id=sweep_id,
        sweep_state=sweep_state,
        metric=metric,
        goal=goal,
        done=done,
        planned=max(planned, done) if planned else None,
        running=states.count("running"),
        failed=states.count("failed") + states.count("crashed"),
        stopped=states.count("stopped"),
        best_value=best[1] if best else None,
        best_id=best[0]["id"] if best else None,
        best_config=best[0].get("config") if best else None,
        elapsed=elapsed,
        eta=eta,
    )


def _best_run(runs: list[dict], metric: str | None, goal: str) -> tuple[dict, float] | None:
    if not metric:
        return None
    scored = [(r, best_value(r, metric, goal)) for r in runs]
    scored = [(r, v) for r, v in scored if v is not None]
    if not scored:
        return None
    pick = max if goal == "maximize" else min
    return pick(scored, key=lambda rv: rv[1])


def fingerprint(runs: list[dict], sweep_state: str) -> int:
    """Changes whenever a run starts, ends, logs or updates its summary. Cheap: the store's
    per-run ``version`` stands for the history when present, so run dicts read without history
    give the same fingerprint."""
    return hash(
        (
            sweep_state,
            tuple(
                (
                    r.get("id"),
                    r.get("state"),
                    r["version"] if "version" in r else len(r.get("history") or ()),
                    repr(r.get("summary")),
                )
                for r in runs
            ),
        )
    )


def best_table(df: pd.DataFrame, cfg: dict, top: int = 5) -> pd.DataFrame:
    """The ``top`` runs by the metric: id, state, the metric, the swept parameters, runtime."""
    metric = (cfg.get("metric") or {}).get("name")
    if not metric or metric not in df.columns or df.empty:
        return df.head(0)[["id"]] if "id" in df.columns else pd.DataFrame()
    goal = (cfg.get("metric") or {}).get("goal", "minimize")
    ranked = df[pd.to_numeric(df[metric], errors="coerce").notna()]
    ranked = ranked.sort_values(metric, ascending=goal != "maximize", kind="stable").head(top)
    params = [p.name for p in plots.swept_params(df, cfg)]
    columns = [c for c in ("id", "state", metric, *params, "runtime") if c in ranked.columns]
    return ranked[list(dict.fromkeys(columns))].reset_index(drop=True)


# --------------------------------------------------------------------------- the bundle


def bundle(prog: Progress, table: pd.DataFrame, png: bytes | None, note: str = "") -> dict:
    """The MIME bundle: text/plain, text/html (chart inline) and image/png when there is a chart."""
    encoded = base64.b64encode(png).decode("ascii") if png else None
    text_table = (
        table.to_string(index=False, float_format=lambda v: f"{v:.6g}") if len(table) else ""
    )
    text = (
        prog.text()
        + (f"\n\nbest runs:\n{text_table}" if text_table else "")
        + (f"\n{note}" if note else "")
    )
    parts = [prog.html()]
    if encoded:
        parts.append(f'<img src="data:image/png;base64,{encoded}" style="max-width:100%"/>')
    if len(table):
        parts.append(
            "<b>best runs</b>" + table.to_html(index=False, float_format=lambda v: f"{v:.6g}")
        )
    if note:
        parts.append(f"<i>{html.escape(note)}</i>")
    out = {
        "text/plain": text,
        "text/html": "<div class='sweepnb-dashboard'>" + "".join(parts) + "</div>",
    }
    if encoded:
        out["image/png"] = encoded
    return out


# --------------------------------------------------------------------------- front ends


def frontend() -> str:
    """'widget' in a Jupyter kernel with ipywidgets, 'rich' in a kernel without, 'text' elsewhere
    (terminal IPython, plain Python). ``SWEEPNB_UI=text|rich`` forces one."""
    forced = os.environ.get("SWEEPNB_UI", "").strip().lower()
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    in_kernel = shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
    if forced in ("text", "rich"):
        return forced if in_kernel or forced == "text" else "text"
    if not in_kernel:
        return "text"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "rich"
    return "widget"


def _cell_token() -> Any:
    """Identifies the cell being executed (so a dashboard is not shown twice by one cell)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None
    header = getattr(shell, "parent_header", None) or {}
    msg_id = header.get("msg_id") or (header.get("header") or {}).get("msg_id")
    return msg_id or ("count", shell.execution_count)


def _stop_box(dash: Dashboard):
    """The Stop button in an HBox whose text fallback tells how to stop without widgets."""
    import ipywidgets as widgets

    class StopBox(widgets.HBox):
        def __repr__(self) -> str:
            return f"stop the sweep with sweepnb.stop({dash.sweep_id!r})"

    button = widgets.Button(
        description="Stop sweep",
        button_style="danger",
        icon="stop",
        tooltip="end the sweep gracefully: running runs finish",
    )
    button.add_class("sweepnb-stop")

    def clicked(button: widgets.Button) -> None:
        button.disabled, button.description = True, "stopping..."
        dash.stop_sweep()

    button.on_click(clicked)
    return StopBox([button]), button


# --------------------------------------------------------------------------- the dashboard


class Dashboard:
    """A sweep's live view. ``show()`` displays it (call from the cell's thread), ``update(runs)``
    or ``refresh()`` redraws when something changed (at most once per ``refresh`` seconds),
    ``start()``/``stop()`` poll the store in a background thread, ``stop_sweep()`` is the button.

    ``count``: the runs the agent was asked for (progress and ETA); ``on_stop``: called after the
    Stop button stopped the sweep (e.g. to end a local agent loop at once).
    """

    def __init__(
        self,
        sweep_id: str,
        store: Any = None,
        *,
        refresh: float = 1.0,
        count: int | None = None,
        top: int = 5,
        dpi: int = 72,
        budget: float = 0.04,
        on_stop: Any = None,
    ):
        if not isinstance(sweep_id, str) or not sweep_id:
            raise ValueError(f"sweep_id: expected a sweep id string, got {sweep_id!r}")
        if not refresh >= 0:
            raise ValueError(f"refresh: must be >= 0 seconds, got {refresh!r}")
        if not 0 < budget <= 1:
            raise ValueError(f"budget: must be a share of time in (0, 1], got {budget!r}")
        from sweepnb.store import open_store

        self.sweep_id = sweep_id
        self.store = open_store(store)
        self.refresh_interval = float(refresh)
        self.count = count
        self.top = top
        self.on_stop = on_stop
        self.charts = Charts(dpi=dpi)
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
        self._button: Any = None
        self._shown_in: Any = None
        self._shown = False
        self._printed = ""
        self._mode = "text"
        self._note = ""
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._light: list[dict] = []  # the runs (without history) of the last poll

    # -- data ------------------------------------------------------------------------------

    @property
    def config(self) -> dict:
        return self._sweep["config"]

    def poll(self) -> tuple[list[dict], str]:
        """The sweep's runs and state, read from the store (which re-parses only changed runs)."""
        self._sweep = self.store.get_sweep(self.sweep_id)
        return self.store.get_runs(self.sweep_id), self._sweep["state"]

    def render(self, runs: list[dict], sweep_state: str) -> dict:
        """Build the MIME bundle for these runs (no throttling, no display)."""
        from sweepnb.analysis import runs_frame

        cfg = self.config
        prog = progress(
            cfg, runs, sweep_id=self.sweep_id, sweep_state=sweep_state, count=self.count
        )
        df = runs_frame(cfg, runs)
        has_metric = bool((cfg.get("metric") or {}).get("name"))
        png = self.charts.png(df, cfg, runs) if has_metric and len(df) else None
        table = best_table(df, cfg, self.top)
        note = "" if has_metric else "the sweep config has no metric: no charts"
        return bundle(prog, table, png, note or self._note)

    # -- refreshing --------------------------------------------------------------------------

    def update(
        self, runs: list[dict] | None = None, *, sweep_state: str | None = None, force: bool = False
    ) -> bool:
        """Redraw if a run changed since the last drawing and the throttle allows it (``force``:
        redraw now). ``runs`` None: read them from the store. Returns True if redrawn.

        Throttle: at most one drawing per ``refresh`` seconds, and drawing takes at most a
        ``budget`` share of the time (a drawing that took 0.2 s waits 5 s with the default
        4%; the polls in between add about 1%)."""
        with self._lock:
            if runs is None:  # a light read first: histories only when there is something to draw
                light, sweep_state = self._poll_light()
                mark = fingerprint(light, sweep_state)
            else:
                mark = fingerprint(runs, sweep_state or self._sweep["state"])
            state = sweep_state or self._sweep["state"]
            if not force and mark == self._fingerprint:
                return False
            if not force and time.monotonic() - self._last_render < self.min_interval:
                return False  # the next tick (or stop()) draws it
            if runs is None:
                runs = self.store.get_runs(self.sweep_id)
            self._draw(runs, state, mark)
            self._publish(self.last_bundle)
            if state not in ACTIVE_SWEEP and self._button is not None:
                self._button.disabled, self._button.description = True, f"sweep {state}"
            return True

    def _poll_light(self) -> tuple[list[dict], str]:
        self._sweep = self.store.get_sweep(self.sweep_id)
        self._light = self.store.get_runs(self.sweep_id, history=False)
        return self._light, self._sweep["state"]

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

    def _draw(self, runs: list[dict], state: str, mark: int) -> None:
        # a one-off import (~1 s) must not count as what every drawing costs: it would hold
        # the next drawings back for ~25 s
        load_chart_libraries()
        start, cpu = time.perf_counter(), time.thread_time()
        with gc_paused():  # the frame, table and chart make many short-lived objects
            self.last_bundle = self.render(runs, state)
        wall = time.perf_counter() - start
        self._last_cpu = time.thread_time() - cpu
        # the budget counts wall time, the share of the sweep's time spent refreshing (CPU
        # time alone let a drawing stretched by the agents' threads exceed it)
        self._last_cost = max(wall, self._last_cpu)
        self.render_seconds += wall
        self.renders += 1
        self._fingerprint, self._last_render = mark, time.monotonic()

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
                self.update()
            except Exception as exc:  # noqa: BLE001 - a watcher must not die on a busy store
                self._note = f"dashboard: {type(exc).__name__}: {exc}"
                continue
            if self._ended():
                self._final()
                return

    def _next_poll(self) -> float:
        wait = self._last_render + self.min_interval - time.monotonic()
        return max(self.refresh_interval, wait, 0.05)

    def _final(self) -> None:
        """Draw the state once more if it changed since the last drawing (throttle ignored)."""
        light, state = self._poll_light()
        if fingerprint(light, state) != self._fingerprint:
            self.update(force=True)

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

    # -- display -----------------------------------------------------------------------------

    def show(self) -> Dashboard:
        """Display the dashboard (Stop button in a widget frontend) and draw the current state."""
        from IPython.display import display

        self._mode = frontend()
        if self.last_bundle is None:
            runs, state = self.poll()
            self._draw(runs, state, fingerprint(runs, state))
        if self._mode == "widget":
            box, self._button = _stop_box(self)
            if self._sweep["state"] not in ACTIVE_SWEEP:
                self._button.disabled, self._button.description = (
                    True,
                    f"sweep {self._sweep['state']}",
                )
            display(box)
        if self._mode == "text":
            self._print(self.last_bundle)
        else:
            self._handle = display(self.last_bundle, raw=True, display_id=True)
        self._shown, self._shown_in = True, _cell_token()
        return self

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
        return dict(self.last_bundle)

    def _ipython_display_(self) -> None:
        # `sweepnb.dashboard(id)` as a cell's last line: it is already on screen, don't repeat it
        if self._shown_in is not None and self._shown_in == _cell_token():
            return
        if not self._shown:
            self.show()
            return
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self) -> str:
        return f"Dashboard({self.sweep_id!r}, store={self.store.display_url!r})"


def dashboard(
    sweep_id: str, store: Any = None, refresh: float = 1.0, *, count: int | None = None
) -> Dashboard:
    """Show a sweep's dashboard; while the sweep runs (agents anywhere on the same store) it
    refreshes from a background thread, a finished sweep is shown once.

    >>> dash = sweepnb.dashboard(sweep_id)      # doctest: +SKIP
    >>> dash.wait()                             # block until the sweep is over
    """
    dash = Dashboard(sweep_id, store, refresh=refresh, count=count).show()
    dash._poll_light()
    if not dash._ended():
        dash.start()
    return dash
