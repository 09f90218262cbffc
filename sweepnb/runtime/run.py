"""Runs: ``sweepnb.log``, ``sweepnb.config`` and the ``Run`` object (``sweepnb.init`` is in
``run_start.py``, which makes and joins runs).

Inside an agent, ``init()`` joins the run the agent claimed (the agent makes it the thread's active
run before calling the function). In a program started by an agent, ``init()`` joins the run named
by the environment (``SWEEPNB_SWEEP_ID``, ``SWEEPNB_RUN_ID``, ``SWEEPNB_STORE``). Anywhere else it
makes a *standalone* run: a run of no sweep in the store (``store=`` / ``SWEEPNB_STORE`` / the
default store; ``Store.get_run(run.id)`` reads it back); ``init(mode="disabled")`` keeps nothing.

This module is imported with ``import sweepnb`` (for the ``sweepnb.config`` proxy), so it stays
light: the store is imported only when a run needs it.
"""

from __future__ import annotations

import atexit
import contextlib
import numbers
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from sweepnb.engine.metric import Metric
from sweepnb.engine.states import MAX_ERROR_CHARS
from sweepnb.errors import RunStopped, StoreError, SweepnbError, SweepnbWarning
from sweepnb.runtime import flusher, hooks
from sweepnb.runtime.flusher import FLUSH_DELAY
from sweepnb.runtime.heartbeat import HEARTBEAT_INTERVAL, Heartbeat
from sweepnb.runtime.outcomes import (  # how a run ends; importable from here as before
    apply_control,
    exit_outcome,
    reason_text,
    stopped_state,
)
from sweepnb.runtime.run_config import Config, RunProxy, as_mapping
from sweepnb.runtime.run_info import MetricSummaries, RunInfo, _is_number
from sweepnb.runtime.values import Summary, storable_row

FLUSH_INTERVAL = 0.2  # seconds between two writes of a run's history (issue 3: <= 1 write / 0.2 s)
# a row logged within FLUSH_INTERVAL of the last write is written by the flush timer at most
# FLUSH_DELAY s later (runtime/flusher.py), not left waiting for the next log() (issue 23.1)
ERROR_TAIL = MAX_ERROR_CHARS  # characters of a traceback kept with a failed run (the store's bound)

_local = threading.local()  # .run: the thread's active Run; .last: its last one (for the proxy)
_open_runs: set[Run] = set()
_open_lock = threading.Lock()


class Run(RunInfo):
    """One run of a sweep (or a standalone run): its config, history, summary and final state.

    Use it as a context manager: the run ends ``finished`` on a normal exit (or ``sys.exit(0)``),
    ``stopped`` when ended by the sweep (``RunStopped``), ``killed`` by Ctrl-C or a user's stop,
    ``failed`` (with the traceback) on an exception or a non-zero ``sys.exit``.
    """

    def __init__(
        self,
        *,
        store: Any = None,
        run_id: str | None = None,
        sweep_id: str | None = None,
        config: Mapping | None = None,
        metric: Mapping | None = None,
        owner: bool = True,
        project: str | None = None,
        entity: str | None = None,
    ):
        self.id = run_id
        self.sweep_id = sweep_id
        self.project = project
        self.entity = entity
        self.store = store
        self._swept = Config(config or {})  # the sweep's values: they win over init()'s defaults
        self.config = Config(self._swept)
        self.config.watch(self._config_changed, self._swept if sweep_id else None)
        self._changed = False  # config or info changed since the last write
        self._info: dict[str, Any] = {}
        self._metrics = MetricSummaries()
        self._summary = Summary()
        self.metric = Metric.of({"metric": metric}) if metric else None
        self.state = "running"
        self.stop_reason: Any = None
        self.store_error: str | None = None  # why the store refused this run's last writes
        self.sweep_state: str | None = None
        self._owner = owner  # False in a program's process: the agent records the final state
        self._rows: list[dict] = []
        self._pending: dict[str, Any] = {}  # log(commit=False) values waiting for their row
        self._step = 0
        self._started = time.time()
        self._dir: str | None = None  # run.dir, made on first use
        self._last_flush = 0.0
        self._armed = False  # the flush timer will write the buffer (flusher.arm)
        self._oldest = 0.0  # monotonic time the oldest buffered row was logged
        self._lock = threading.RLock()
        self._heartbeat: Heartbeat | None = None
        self._own_heartbeat = False
        self.on_flush: Callable[[Run], None] | None = None  # the agent's early-termination check
        self.on_log: Callable[[Run, dict], None] | None = None  # ... and its band-crossing hook

    # -- identity ------------------------------------------------------------------------------

    def __repr__(self) -> str:
        where = f"sweep {self.sweep_id!r}" if self.sweep_id else "no store"
        return f"<sweepnb.Run {self.id!r} ({where}, {self.state})>"

    @property
    def should_stop(self) -> bool:
        """True once the sweep asked this run to end (early termination, cancel).

        The next ``log()`` then raises ``RunStopped``. A function with long stretches between
        logs may poll this instead and return; either way the run is recorded ``stopped``.
        It turns true at a history write or a heartbeat::

            for batch in batches:
                if run.should_stop:
                    return
                step(batch)
        """
        return self.stop_reason is not None

    # -- config --------------------------------------------------------------------------------

    def _apply_defaults(self, defaults: Any) -> None:
        """Merge ``init(config=...)`` under the swept values (swept values win, like W&B's lock)."""
        defaults = as_mapping(defaults)
        if not defaults:
            return
        merged = Config(defaults)
        merged.update(self.config, allow_val_change=True)
        merged.watch(self._config_changed, self._swept if self.sweep_id else None)
        self.config = merged
        self._changed = True

    # -- logging -------------------------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
        """Append one history row; raise ``RunStopped`` if the sweep asked this run to end.

        ``step`` defaults to one more than the previous row's; a row at a step the run has
        already logged merges into it (the store keeps one row per step, as W&B does).
        ``commit=False`` keeps the values for the next committed row (like W&B). Writes are batched: at most one per
        ``FLUSH_INTERVAL`` seconds, plus one at ``finish``; a row not written at once is written
        by the flush timer within ``FLUSH_DELAY`` seconds, whether or not ``log()`` is called
        again.
        """
        if self.state != "running":
            raise SweepnbError(f"run {self.id} is {self.state}: log() after finish()")
        if not isinstance(data, Mapping):
            raise TypeError(f"log() takes a dict of values, not {type(data).__name__}")
        if not commit:
            self._pending.update(data)
            return
        if self._pending:
            data, self._pending = {**self._pending, **data}, {}
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
                raise TypeError(f"log(step=...): expected a non-negative integer, got {step!r}")
            if step < self._step - 1:
                warnings.warn(
                    f"log(step={step}) is below the run's current step {self._step - 1}; "
                    "the row is kept at that step (merged into its row if it has one)",
                    SweepnbWarning,
                    stacklevel=2,
                )
            row_step = int(step)
        else:
            row_step = self._step
        if not all(isinstance(v, (str, bool, int, float, type(None))) for v in data.values()):
            # issue 12: media (Image, Table, ...) become files + references; other objects raise
            data = hooks.history_values(self, data, row_step)
        row = storable_row(data)  # refuses, naming the key, what the store could not read back
        row["_step"] = row_step
        with self._lock:
            self._rows.append(row)
            self._step = max(self._step, row_step + 1)
            self._update_summary(row)
            now = time.monotonic()
            if len(self._rows) == 1:
                self._oldest = now
            if now - self._last_flush >= FLUSH_INTERVAL:
                self.flush()
            elif not self._armed and self.store is not None:
                self._armed = True
                flusher.arm(self, now + FLUSH_DELAY)
        if self.on_log is not None:
            self.on_log(self, row)
        if self.stop_reason is not None:
            raise RunStopped(reason_text(self.stop_reason))

    @property
    def summary(self) -> Summary:
        """The run's summary: ``run.summary["acc"] = 0.9``, values checked as ``log()``'s are."""
        return self._summary

    @summary.setter
    def summary(self, value: Mapping[str, Any]) -> None:
        # replacing the whole summary checks its values too (a plain dict would skip the checks)
        summary = Summary()
        summary.update(value)
        self._summary = summary

    def _update_summary(self, row: dict) -> None:
        now = time.time()
        self.summary.update(row)
        self._metrics.apply(self.summary, row)
        self.summary["_runtime"] = now - self._started
        self.summary["_timestamp"] = now
        metric = self.metric
        if metric is not None and _is_number(row.get(metric.name)):
            best = self.summary.get("_best")
            if best is None or metric.better(row[metric.name], best):
                self.summary["_best"] = row[metric.name]

    def flush(self) -> None:
        """Write the buffered rows and the summary now; take the store's reply (stop flag,
        sweep state) with :meth:`apply_control`, then call ``on_flush``. ``log`` calls this at
        most once per ``FLUSH_INTERVAL``; the early-termination monitor calls it at a band."""
        self._write_buffer()
        if self.on_flush is not None:
            self.on_flush(self)

    def timer_flush(self) -> None:
        """The flush timer's write (``runtime/flusher.py``): the buffered rows of a running run,
        without ``on_flush``, so the agent's early-termination checks stay on the run's own
        thread and a seeded sweep's checks happen where its logs are. A store error is a
        warning: the rows stay buffered for the next write."""
        with self._lock:
            self._armed = False
            if self.state != "running" or not self._rows:
                return
            due = self._oldest + FLUSH_DELAY
            if time.monotonic() < due:
                # log() wrote since the timer was armed (a busy loop writes every 0.2 s): only
                # the younger rows wait, so wait for them instead of adding a write
                self._armed = True
                flusher.arm(self, due)
                return
            try:
                self._write_buffer()
            except Exception as err:  # noqa: BLE001 (the timer thread must outlive an outage)
                warnings.warn(
                    f"sweepnb: writing run {self.id}'s logged rows failed (kept for the next "
                    f"write): {err}",
                    SweepnbWarning,
                    stacklevel=1,
                )

    def _write_buffer(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
            self._last_flush = time.monotonic()
            if self.store is None or self.id is None:
                return
            changes = self._changes()
            try:
                control = self.store.log(self.id, rows, dict(self.summary), **changes)
            except BaseException:
                # nothing logged is lost: the rows wait for the next write (the store already
                # retried passing errors for $SWEEPNB_STORE_RETRY seconds)
                self._rows[:0] = rows
                self._changed = self._changed or bool(changes)
                raise
        self.apply_control(control)

    def _changes(self) -> dict[str, Any]:
        """The config and info to write with the next rows (nothing when they did not change)."""
        if not self._changed:
            return {}
        self._changed = False
        info = {k: list(v) if k == "tags" else v for k, v in self._info.items()}
        return {"config": self.config.as_dict(), "info": info}

    def apply_control(self, control: Mapping | None) -> None:
        """Take a control reply (``{"stop", "reason", "sweep_state"}``, from the store or the
        monitor) into ``sweep_state`` and ``stop_reason``: the next ``log()`` then stops.

        >>> run = Run()
        >>> run.apply_control({"stop": True, "reason": "too slow"})
        >>> run.should_stop
        True
        """
        apply_control(self, control)

    # -- ending --------------------------------------------------------------------------------

    def finish(self, exit_code: int | None = None, state: str | None = None) -> None:
        """End the run: write what is buffered and record its final state (``finished`` unless
        ``exit_code`` is non-zero or ``state`` says otherwise). A second call does nothing."""
        if state is None:
            state = "finished" if not exit_code else "failed"
        self.end(state)

    def end(self, state: str, error: str | None = None) -> None:
        """Record the run's final ``state`` (with ``error``, a traceback or reason, kept to its
        last ``ERROR_TAIL`` characters): write what is buffered, stop its heartbeat, and stop
        being the thread's active run. The first end wins: later calls do nothing.

        >>> run = Run()
        >>> run.end("failed", error="boom"); run.end("finished")
        >>> run.state
        'failed'
        """
        with self._lock:
            if self.state != "running":
                return
            self.state = state
            self._stop_heartbeat()
            if self.store is not None and self.id is not None:
                try:
                    self._write_end(state, error)
                except StoreError as err:
                    # the store refused the last writes for good (disk full, read-only, an
                    # outage longer than the retry budget): the run failed, and says why when
                    # the store still takes that much; else it is reaped as crashed later
                    self.state, self.store_error = "failed", str(err)
                    if self._owner:
                        with contextlib.suppress(StoreError):
                            self.store.finish_run(
                                self.id, "failed", error=f"its last writes failed: {err}"
                            )
        with _open_lock:
            _open_runs.discard(self)
        if getattr(_local, "run", None) is self:
            _local.run = None

    def _write_end(self, state: str, error: str | None) -> None:
        if not self._owner:
            # a program's run: its agent records the final state from the exit code. Say how
            # the program's own run ended, so that if the agent dies before recording it, the
            # reaper does not call a complete run crashed (`store.tables.crash_dead_runs`)
            self.summary["_program_end"] = state
            rows, self._rows = self._rows, []
            self.store.log(self.id, rows, dict(self.summary), **self._changes())
            return
        if self._rows or self._changed:
            rows, self._rows = self._rows, []
            self.store.log(self.id, rows, dict(self.summary), **self._changes())
        if self._owner:
            self.store.finish_run(
                self.id,
                state,
                summary=dict(self.summary),
                error=error[-ERROR_TAIL:] if error else None,
            )

    def __enter__(self) -> Run:  # noqa: PYI034 (Run is not subclassed)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.end(stopped_state(self.stop_reason) if self.should_stop else "finished")
        elif issubclass(exc_type, RunStopped):
            self.end(stopped_state(self.stop_reason), error=f"{exc_type.__name__}: {exc}")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("killed", error=f"{exc_type.__name__}: {exc}")
        elif issubclass(exc_type, SystemExit):
            self.end(*exit_outcome(exc.code if exc is not None else None))
        else:
            self.end("failed", error="".join(traceback.format_exception(exc_type, exc, tb)))
        return False

    # -- heartbeat -----------------------------------------------------------------------------

    def start_heartbeat(self, interval: float = HEARTBEAT_INTERVAL) -> None:
        """Beat for this run with a thread of its own until it ends (standalone runs, a
        program's run); nothing without a store. The store reaps a run that stops beating."""
        if self.store is not None and self.id is not None and self._heartbeat is None:
            beat = Heartbeat(self.store, interval)
            beat.start()
            self._attach(beat, own=True)

    def attach_heartbeat(self, beat: Heartbeat) -> None:
        """Let ``beat`` (an agent's long-lived thread, shared by its runs in turn) beat for this
        run until it ends; its replies go to :meth:`apply_control`."""
        self._attach(beat, own=False)

    def _attach(self, beat: Heartbeat, own: bool) -> None:
        self._heartbeat, self._own_heartbeat = beat, own
        beat.watch(self.id, self.apply_control)

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.unwatch(self.id)
            if self._own_heartbeat:
                self._heartbeat.stop()
            self._heartbeat = None


# ---------------------------------------------------------------------------------------------
# Module-level API: init, log, finish, config, summary
# ---------------------------------------------------------------------------------------------


def activate(run: Run) -> None:
    """Make ``run`` this thread's active run (``sweepnb.log``/``config``/``summary`` use it)."""
    _local.run = run
    _local.last = run
    with _open_lock:
        _open_runs.add(run)


def deactivate(*, forget: bool = False) -> None:
    """This thread has no active run any more. Its last run stays behind ``sweepnb.config``
    and ``sweepnb.summary`` (W&B code reads them after ``finish()``) unless ``forget``."""
    _local.run = None
    if forget:
        _local.last = None


def current() -> Run | None:
    """This thread's active run, or None."""
    run = getattr(_local, "run", None)
    return run if run is not None and run.state == "running" else None


def active_run(what: str) -> Run:
    """The active run; without one, an error naming ``sweepnb.<what>``."""
    run = current()
    if run is None:
        raise SweepnbError(f"sweepnb.{what}: no active run; call sweepnb.init() first")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
    """Log one row of values to the active run (see ``Run.log``)."""
    active_run("log()").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None) -> None:
    """End the active run (no active run: nothing happens, like W&B)."""
    run = current()
    if run is not None:
        run.finish(exit_code=exit_code)


def _proxy_target() -> Run | None:
    return getattr(_local, "run", None) or getattr(_local, "last", None)


config = RunProxy("config", _proxy_target)
summary = RunProxy("summary", _proxy_target)


@atexit.register
def _finish_open_runs() -> None:
    """At interpreter exit, write what runs still buffer (standalone: mark them finished)."""
    with _open_lock:
        runs = list(_open_runs)
    for run in runs:
        with contextlib.suppress(Exception):  # the store may be gone already: nothing to save
            run.end("finished")
