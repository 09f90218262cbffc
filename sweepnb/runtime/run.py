"""Runs: ``sweepnb.init``, ``sweepnb.log``, ``sweepnb.config`` and the ``Run`` object.

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
import copy
import math
import numbers
import os
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from sweepnb.errors import RunStopped, SweepnbError, SweepnbWarning

FLUSH_INTERVAL = 0.2  # seconds between two writes of a run's history (issue 3: <= 1 write / 0.2 s)
HEARTBEAT_INTERVAL = 5.0  # seconds between two heartbeats; the store reaps after 30 s of silence
ERROR_TAIL = 20_000  # characters of a traceback kept with a failed run

_local = threading.local()  # .run: the thread's active Run; .last: its last one (for the proxy)
_open_runs: set[Run] = set()
_open_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# Config: a dict with attribute access, nested
# ---------------------------------------------------------------------------------------------


class Config(dict):
    """A run's config: a dict whose keys are also attributes, nested dicts included.

    >>> c = Config({"lr": 0.1, "optimizer": {"name": "adam"}})
    >>> c.lr, c["lr"], c.optimizer.name
    (0.1, 0.1, 'adam')
    """

    def __init__(self, data: Mapping | None = None, **kw: Any):
        super().__init__()
        self.update(data or {}, **kw)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r} (keys: {sorted(self)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, _wrap(value))

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, data: Mapping | None = None, **kw: Any) -> None:  # type: ignore[override]
        """Deep-merge ``data`` (a mapping, or an object with ``__dict__`` like argparse's
        Namespace) into this config: nested dicts are merged key by key, other values replaced."""
        for key, value in {**_as_mapping(data), **kw}.items():
            current = self.get(key)
            if isinstance(current, Config) and isinstance(value, Mapping):
                current.update(value)
            else:
                self[key] = value

    def as_dict(self) -> dict:
        """A plain nested ``dict`` copy (JSON-able if the values are)."""
        return {
            k: v.as_dict() if isinstance(v, Config) else copy.deepcopy(v) for k, v in self.items()
        }

    def __deepcopy__(self, memo: dict) -> Config:
        return Config(self.as_dict())

    def __reduce__(self):
        return (Config, (self.as_dict(),))


def _wrap(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, Config):
        return Config(value)
    return value


def _as_mapping(data: Any) -> Mapping:
    if data is None:
        return {}
    if isinstance(data, Mapping):
        return data
    if hasattr(data, "__dict__"):  # argparse.Namespace, simple objects (W&B accepts them too)
        return {k: v for k, v in vars(data).items() if not k.startswith("_")}
    raise TypeError(
        f"config must be a dict (or an object with attributes), not {type(data).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------------


def apply_control(target: Any, control: Mapping | None) -> None:
    """Take the store's control reply (from log or heartbeat) into ``target``'s ``sweep_state``
    and ``stop_reason`` (a run here, a program run's watcher in the agent)."""
    if not control:
        return
    target.sweep_state = control.get("sweep_state", target.sweep_state)
    if control.get("stop"):
        target.stop_reason = control.get("reason") or "stop requested"
    elif target.sweep_state == "cancelled":
        target.stop_reason = {"rule": "cancel", "message": "the sweep was cancelled"}


class Run:
    """One run of a sweep (or a standalone run): its config, history, summary and final state.

    Use it as a context manager: the run ends ``finished`` on a normal exit, ``stopped`` when
    ended by the sweep (``RunStopped``) or Ctrl-C, ``failed`` (with the traceback) on an exception.
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
        self.summary: dict[str, Any] = {}
        self.metric_name = (metric or {}).get("name")
        self.metric_goal = (metric or {}).get("goal", "minimize")
        self.state = "running"
        self.stop_reason: Any = None
        self.sweep_state: str | None = None
        self._owner = owner  # False in a program's process: the agent records the final state
        self._rows: list[dict] = []
        self._pending: dict[str, Any] = {}  # log(commit=False) values waiting for their row
        self._step = 0
        self._started = time.time()
        self._last_flush = 0.0
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
    def name(self) -> str | None:
        return self.id

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
        defaults = _as_mapping(defaults)
        if not defaults:
            return
        merged = Config(defaults)
        merged.update(self.config)
        self.config = merged

    # -- logging -------------------------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
        """Append one history row; raise ``RunStopped`` if the sweep asked this run to end.

        ``step`` defaults to one more than the previous row's. ``commit=False`` keeps the values
        for the next committed row (like W&B). Writes are batched (at most one per
        ``FLUSH_INTERVAL`` seconds, plus one at ``finish``).
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
                    "the row is kept with that step",
                    SweepnbWarning,
                    stacklevel=2,
                )
            row_step = int(step)
        else:
            row_step = self._step
        row = {str(k): _plain(v) for k, v in data.items()}
        row["_step"] = row_step
        with self._lock:
            self._rows.append(row)
            self._step = max(self._step, row_step + 1)
            self._update_summary(row)
            if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
                self._flush()
        if self.on_log is not None:
            self.on_log(self, row)
        if self.stop_reason is not None:
            raise RunStopped(_reason_text(self.stop_reason))

    def _update_summary(self, row: dict) -> None:
        now = time.time()
        self.summary.update(row)
        self.summary["_runtime"] = now - self._started
        self.summary["_timestamp"] = now
        name = self.metric_name
        if name and name in row and _is_number(row[name]):
            best = self.summary.get("_best")
            better = max if self.metric_goal == "maximize" else min
            if best is None or better(best, row[name]) != best:
                self.summary["_best"] = row[name]

    def _flush(self) -> None:
        """Write buffered rows and the summary; read the stop flag from the store's reply."""
        with self._lock:
            rows, self._rows = self._rows, []
            self._last_flush = time.monotonic()
            if self.store is None or self.id is None:
                return
            control = self.store.log(self.id, rows, dict(self.summary))
        self._control(control)
        if self.on_flush is not None:
            self.on_flush(self)

    def _control(self, control: Mapping | None) -> None:
        apply_control(self, control)

    # -- ending --------------------------------------------------------------------------------

    def finish(self, exit_code: int | None = None, state: str | None = None) -> None:
        """End the run: write what is buffered and record its final state (``finished`` unless
        ``exit_code`` is non-zero or ``state`` says otherwise). A second call does nothing."""
        if state is None:
            state = "finished" if not exit_code else "failed"
        self._end(state)

    def _end(self, state: str, error: str | None = None) -> None:
        with self._lock:
            if self.state != "running":
                return
            self.state = state
            self._stop_heartbeat()
            if self.store is not None and self.id is not None:
                if self._rows:
                    rows, self._rows = self._rows, []
                    self.store.log(self.id, rows, dict(self.summary))
                if self._owner:
                    self.store.finish_run(
                        self.id,
                        state,
                        summary=dict(self.summary),
                        error=error[-ERROR_TAIL:] if error else None,
                    )
        with _open_lock:
            _open_runs.discard(self)
        if getattr(_local, "run", None) is self:
            _local.run = None

    def __enter__(self) -> Run:  # noqa: PYI034 (Run is not subclassed)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._end("stopped" if self.should_stop else "finished")
        elif issubclass(exc_type, (RunStopped, KeyboardInterrupt)):
            self._end("stopped", error=f"{exc_type.__name__}: {exc}")
        else:
            self._end("failed", error="".join(traceback.format_exception(exc_type, exc, tb)))
        return False

    # -- heartbeat -----------------------------------------------------------------------------

    def _start_heartbeat(self, interval: float = HEARTBEAT_INTERVAL) -> None:
        """Beat for this run with a thread of its own (standalone runs, programs' runs)."""
        if self.store is not None and self.id is not None and self._heartbeat is None:
            beat = Heartbeat(self.store, interval)
            beat.start()
            self._attach_heartbeat(beat, own=True)

    def _attach_heartbeat(self, beat: Heartbeat, own: bool = False) -> None:
        """Let ``beat`` (an agent's long-lived thread) beat for this run until it ends."""
        self._heartbeat, self._own_heartbeat = beat, own
        beat.watch(self.id, self._control)

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.unwatch(self.id)
            if self._own_heartbeat:
                self._heartbeat.stop()
            self._heartbeat = None


class Heartbeat(threading.Thread):
    """Tells the store every ``interval`` seconds that the worker of a run is alive, and hands
    the store's control reply (stop flag, sweep state) to ``on_control``.

    One thread serves the runs of an agent in turn: ``watch(run_id, on_control)`` /
    ``unwatch(run_id)``; ``stop()`` ends it.
    """

    def __init__(self, store: Any, interval: float = HEARTBEAT_INTERVAL):
        super().__init__(name="sweepnb-heartbeat", daemon=True)
        self.store, self.interval = store, interval
        self._target: tuple[str, Callable] | None = None
        self._target_lock = threading.Lock()
        self._halt = threading.Event()

    def watch(self, run_id: str, on_control: Callable[[dict], None]) -> None:
        with self._target_lock:
            self._target = (run_id, on_control)

    def unwatch(self, run_id: str) -> None:
        with self._target_lock:
            if self._target is not None and self._target[0] == run_id:
                self._target = None

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            with self._target_lock:
                target = self._target
            if target is None:
                continue
            run_id, on_control = target
            try:
                on_control(self.store.heartbeat(run_id))
            except Exception as err:  # noqa: BLE001 (a transient store error must not kill the run)
                warnings.warn(
                    f"sweepnb heartbeat of run {run_id} failed: {err}", SweepnbWarning, stacklevel=1
                )

    def stop(self) -> None:
        self._halt.set()


def _plain(value: Any) -> Any:
    """numpy scalars/arrays and other number-likes to plain Python (the store takes JSON)."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _reason_text(reason: Any) -> str:
    if isinstance(reason, Mapping):
        return str(reason.get("message") or reason.get("rule") or reason)
    return str(reason)


# ---------------------------------------------------------------------------------------------
# Module-level API: init, log, finish, config, summary
# ---------------------------------------------------------------------------------------------


def init(
    config: Any = None,
    project: str | None = None,
    entity: str | None = None,
    *,
    mode: str | None = None,
    store: Any = None,
    **ignored: Any,
) -> Run:
    """Start (or join) a run and make it the active one; ``config`` gives defaults.

    Inside an agent it joins the claimed run: the swept values are deep-merged over ``config``.
    Outside a sweep it records a standalone run (``mode="disabled"``: nothing recorded).
    Other W&B keyword arguments (``name``, ``tags``, ``reinit``...) are accepted and ignored.

    >>> with init(config={"lr": 0.1}, mode="disabled") as run:
    ...     log({"loss": 0.5})
    >>> run.config.lr, run.summary["loss"], run.state
    (0.1, 0.5, 'finished')
    """
    if ignored:  # issue 12: W&B keywords sweepnb does not record say so, once each
        from sweepnb.compat.offline import ignored_init_keywords

        ignored_init_keywords(ignored)
    run = getattr(_local, "run", None)
    if run is None or run.state != "running":
        run = _run_from_env() or _standalone_run(config, project, entity, mode, store)
    if project is not None and run.project is None:
        run.project = project
    if entity is not None and run.entity is None:
        run.entity = entity
    run._apply_defaults(config)
    activate(run)
    return run


def activate(run: Run) -> None:
    """Make ``run`` this thread's active run (``sweepnb.log``/``config``/``summary`` use it)."""
    _local.run = run
    _local.last = run
    with _open_lock:
        _open_runs.add(run)


def current() -> Run | None:
    """This thread's active run, or None."""
    run = getattr(_local, "run", None)
    return run if run is not None and run.state == "running" else None


def _run_from_env() -> Run | None:
    """The run of a program started by an agent (env SWEEPNB_RUN_ID), or None."""
    run_id = os.environ.get("SWEEPNB_RUN_ID")
    if not run_id or getattr(_local, "joined_env", None) == run_id:
        return None
    from sweepnb.store import Store

    store = Store(os.environ.get("SWEEPNB_STORE"))
    record = store.get_run(run_id)
    sweep_id = os.environ.get("SWEEPNB_SWEEP_ID") or record.get("sweep_id")
    cfg = store.get_sweep(sweep_id)["config"] if sweep_id else {}
    run = Run(
        store=store,
        run_id=run_id,
        sweep_id=sweep_id,
        config=record.get("config"),
        metric=cfg.get("metric"),
        owner=False,
        project=record.get("project"),
    )
    if cfg.get(
        "early_terminate"
    ):  # the program judges its own bands too (sweepnb.runtime.termination)
        from sweepnb.runtime.termination import Monitor

        Monitor(store, sweep_id, cfg).watch(run)
    _local.joined_env = run_id  # a second init() in the same program makes a standalone run
    run._start_heartbeat()
    return run


def _standalone_run(
    config: Any, project: str | None, entity: str | None, mode: str | None, store: Any
) -> Run:
    if mode == "disabled":
        return Run(run_id=None, project=project, entity=entity)
    from sweepnb.store import open_store

    st = open_store(store)
    plain = Config(_as_mapping(config)).as_dict()
    run_id = st.add_run(
        None, plain, state="running", host=_host(), pid=os.getpid(), project=project
    )
    run = Run(store=st, run_id=run_id, project=project, entity=entity)
    run._start_heartbeat()
    return run


def _host() -> str:
    import socket

    return socket.gethostname()


def _active(what: str) -> Run:
    run = current()
    if run is None:
        raise SweepnbError(f"sweepnb.{what}: no active run; call sweepnb.init() first")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
    """Log one row of values to the active run (see ``Run.log``)."""
    _active("log()").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None) -> None:
    """End the active run (no active run: nothing happens, like W&B)."""
    run = current()
    if run is not None:
        run.finish(exit_code=exit_code)


class _Proxy:
    """``sweepnb.config`` / ``sweepnb.summary``: the active run's (else the thread's last run's)."""

    def __init__(self, attr: str):
        object.__setattr__(self, "_attr", attr)

    def _target(self) -> Any:
        run = getattr(_local, "run", None) or getattr(_local, "last", None)
        if run is None:
            raise SweepnbError(f"sweepnb.{self._attr}: no run yet; call sweepnb.init() first")
        return getattr(run, self._attr)

    def __getattr__(self, name: str) -> Any:
        try:
            target = self._target()
        except SweepnbError as err:
            raise AttributeError(str(err)) from None
        if isinstance(target, Config) or name in dir(dict):
            return getattr(target, name)
        try:
            return target[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._target()[name] = value

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._target()[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def __iter__(self):
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __eq__(self, other: object) -> bool:
        return self._target() == other

    def __dir__(self):
        try:
            return sorted(set(dir(type(self._target()))) | set(self._target()))
        except SweepnbError:
            return []

    def __repr__(self) -> str:
        try:
            return repr(self._target())
        except SweepnbError:
            return f"<sweepnb.{self._attr}: no run yet>"


config = _Proxy("config")
summary = _Proxy("summary")

# `wandb.run.id` & co: with `import sweepnb as wandb`, `wandb.run` is this module, so it answers
# for the active run the attributes W&B code reads from `wandb.run`
_RUN_ATTRIBUTES = ("id", "name", "sweep_id", "project", "entity", "state", "should_stop")


def __getattr__(name: str) -> Any:
    if name in _RUN_ATTRIBUTES:
        return getattr(_active(f"run.{name}"), name)
    raise AttributeError(f"module 'sweepnb.run' has no attribute {name!r}")


@atexit.register
def _finish_open_runs() -> None:
    """At interpreter exit, write what runs still buffer (standalone: mark them finished)."""
    with _open_lock:
        runs = list(_open_runs)
    for run in runs:
        with contextlib.suppress(Exception):  # the store may be gone already: nothing to save
            run._end("finished")
