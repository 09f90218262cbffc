"""What `%agent` returns: the agents running in a background thread, then their results.

    h = %agent train --count 8 --jobs 2     # waits; Ctrl-C pauses the sweep
    h.df, h.best, h.config                 # runs DataFrame, best run, loaded sweep config
    h = %agent train --background          # returns at once (the dashboard's Stop button works)
    await h                                # waits without blocking widgets (or h.wait())

The agents run off the kernel's main thread, which only waits: a kernel interrupt reaches it
and is handled completely (first: pause the sweep, running runs finish; second: stop them).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from sweepnb.store import open_store

if TYPE_CHECKING:
    import pandas as pd

    from sweepnb.notebook.dashboard import Dashboard


class AgentHandle:
    """What `%agent` returns: the agents' thread, then `.df`, `.best` and `.result`.

    `options` are more `sweepnb.agent` keywords (`n_jobs`, `backend`, `scheduler`, `gpus`...).

    The agents run in a background thread so the kernel's main thread only waits (a kernel
    interrupt reaches it) and, with `--background`, is free for the dashboard's Stop button.
    """

    def __init__(
        self,
        sweep_id: str,
        function: Callable | None,
        *,
        count: int | None = None,
        store: Any = None,
        options: dict | None = None,
    ):
        self.sweep_id = sweep_id
        self.function = function
        self.count = count
        self.store = store
        self.options = dict(options or {})  # other `sweepnb.agent` keywords: n_jobs, backend...
        self.result: Any = None
        self.error: BaseException | None = None
        self.dashboard: Any = None  # the live dashboard (kept after the end: d.selected, ...)
        self._live: Any = None  # the dashboard still to finish
        self._main_waiting = False  # wait() draws the dashboard's last frame from its thread
        self._dashboard_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name=f"sweepnb-agent-{sweep_id}", daemon=True
        )

    def start(self, dashboard: bool = True, *, blocking: bool = False, scale: float = 1.0) -> None:
        """Show the live dashboard and start the agents. ``blocking`` (the cell waits): the
        dashboard shows no Stop button, whose click the busy kernel could not handle."""
        if dashboard:
            self.dashboard = self._live = _start_dashboard(
                self.sweep_id, self.store, self.count, stop_button=not blocking, scale=scale
            )
            if blocking:
                print(
                    "To stop: interrupt the kernel (the ■ button): running runs finish; "
                    "interrupt again to stop them now. (`%agent ... --background` has a "
                    "Stop button.)"
                )
        self._thread.start()

    def _run(self) -> None:
        from sweepnb import api

        try:
            self.result = api.agent(
                self.sweep_id,
                self.function,
                count=self.count,
                store=self.store,
                quiet=self.dashboard is not None,
                progress=False,
                **self.options,
            )
        except BaseException as exc:  # noqa: BLE001 (re-raised in the waiting thread)
            self.error = exc
        finally:
            if not self._main_waiting:
                self._finish_dashboard()

    def _finish_dashboard(self) -> None:
        """Stop the dashboard's polling and draw its final state, once."""
        with self._dashboard_lock:
            dash, self._live = self._live, None
        if dash is not None:
            _finish_dashboard(dash)

    @property
    def done(self) -> bool:
        """True once every agent has returned."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def wait(self) -> AgentHandle:
        """Block until the agents end. A first KeyboardInterrupt pauses the sweep (running runs
        finish, no new ones), a second stops the running runs at their next log."""
        self._main_waiting = True
        with _counted_interrupts() as interrupts:
            while self._thread.is_alive():
                self._thread.join(0.2)
                self._handle_interrupts(interrupts)
        return self._outcome()

    async def wait_async(self) -> AgentHandle:
        """`await h`: like `wait()`, but the kernel keeps handling widget messages meanwhile,
        so the dashboard's Stop button works while the cell runs (ipykernel >= 7)."""
        import asyncio

        self._main_waiting = True
        with _counted_interrupts() as interrupts:
            while self._thread.is_alive():
                await asyncio.sleep(0.2)
                self._handle_interrupts(interrupts)
        return self._outcome()

    def __await__(self) -> Generator[Any, None, AgentHandle]:
        return self.wait_async().__await__()

    def _handle_interrupts(self, interrupts: _InterruptCount) -> None:
        while interrupts.handled < interrupts.count:
            interrupts.handled += 1
            self._interrupt(interrupts.handled)

    def _outcome(self) -> AgentHandle:
        """Once the agents ended: the dashboard's last frame, then self or the agents' error."""
        self._finish_dashboard()
        if self.error is not None and not isinstance(self.error, KeyboardInterrupt):
            raise self.error
        return self

    def _interrupt(self, count: int) -> None:
        """Ctrl-C while waiting: pause the sweep, then stop its running runs. A sweep that
        already ended cannot pause: its running runs are stopped at the first Ctrl-C."""
        from sweepnb import api
        from sweepnb.errors import SweepnbError

        if count == 1:
            try:
                api.pause(self.sweep_id, store=self.store)
            except SweepnbError:
                pass
            else:
                print(
                    f"Interrupted: sweep {self.sweep_id} paused, running runs finish "
                    f"(interrupt again to stop them now; %sweep --resume to go on later)"
                )
                return
        print(f"Stopping the running runs of sweep {self.sweep_id} at their next log")
        store = open_store(self.store)
        reason = {"rule": "interrupt", "message": "the notebook kernel was interrupted"}
        for run in store.get_runs(self.sweep_id, history=False):
            if run["state"] == "running" and not run.get("stop_requested"):
                store.request_stop(run["id"], reason)

    def stop(self) -> None:
        """Stop the sweep: no new runs; the running ones finish."""
        from sweepnb import api

        api.stop(self.sweep_id, store=self.store)

    @property
    def df(self) -> pd.DataFrame:
        """The sweep's runs as a DataFrame (`sweepnb.runs`)."""
        from sweepnb import api

        return api.runs(self.sweep_id, store=self.store)

    @property
    def config(self) -> dict:
        """The sweep's loaded config (what the `sweepnb.plots` functions take with `.df`)."""
        return open_store(self.store).get_sweep(self.sweep_id)["config"]

    @property
    def best(self) -> dict | None:
        """The sweep's best run so far (`sweepnb.best_run`)."""
        from sweepnb import api

        return api.best_run(self.sweep_id, store=self.store)

    def __repr__(self) -> str:
        status = "done" if self.done else "running"
        try:
            states = self.df["state"].value_counts().to_dict() if self.done else {}
        except Exception:  # noqa: BLE001 (a repr never raises)
            states = {}
        counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        return f"<agent of sweep {self.sweep_id}: {status}{'; ' + counts if counts else ''}>"


class _InterruptCount:
    count = 0  # SIGINTs received
    handled = 0  # SIGINTs acted upon


@contextlib.contextmanager
def _counted_interrupts():
    """While waiting on the main thread, count SIGINTs (Ctrl-C, a kernel interrupt) instead of
    raising KeyboardInterrupt at a random point, so each one is handled completely."""
    counter = _InterruptCount()
    if threading.current_thread() is not threading.main_thread():
        yield counter
        return

    def count(_signum, _frame):
        counter.count += 1

    previous = signal.signal(signal.SIGINT, count)
    try:
        yield counter
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_dashboard(
    sweep_id: str, store: Any, count: int | None, *, stop_button: bool = True, scale: float = 1.0
) -> Dashboard:
    """Show the live dashboard of `sweep_id` (this call's runs from now) and start its refresh
    thread."""
    import time

    from sweepnb.notebook.dashboard import Dashboard

    dash = Dashboard(
        sweep_id,
        store=store,
        count=count,
        since=time.time() - 0.001,
        stop_button=stop_button,
        scale=scale,
    )
    dash.show()
    dash.start()
    return dash


def _finish_dashboard(dash: Any) -> None:
    """Stop refreshing and draw the final state once (from the thread that waited)."""
    dash.stop()
