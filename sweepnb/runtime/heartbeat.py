"""The heartbeat thread that tells the store a run's worker is alive (and relays its replies)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

from sweepnb.errors import SweepnbWarning

HEARTBEAT_INTERVAL = 5.0  # seconds between two heartbeats; the store reaps after 30 s of silence


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
