"""The flush timer: a logged row reaches the store at most ``FLUSH_DELAY`` seconds after
``log()`` returned, even when no other ``log()`` call follows.

``Run.log`` writes at most once per ``FLUSH_INTERVAL`` (0.2 s) to keep each call cheap, so a row
logged soon after a write waits in the run's buffer. Without a timer it would wait for the next
``log()`` — a whole epoch for a loop that logs once per epoch — unseen by ``sweepnb show``, the
dashboard and other agents' stopping rules, and lost if the process is killed. One daemon thread
per process serves every run: ``Run.log`` arms it when a row stays buffered and it is not armed
yet (a dict insert under a lock), so the per-call cost stays that of a flag check; a run that
writes by itself every 0.2 s re-arms it without adding writes (``Run.timer_flush``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any

FLUSH_DELAY = 0.5  # seconds a buffered row may wait for the timer (the issue asks <= 1 s)


class Flusher:
    """Calls ``run.timer_flush()`` at the time ``arm(run, at)`` asked for, on one thread.

    The thread starts on first use, and in a forked child again on its first use there.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # a forked child inherits neither the thread nor a usable lock (the parent's thread may
        # have held it): it starts with none armed, and its own thread on first use
        self._due: dict[Any, float] = {}  # run -> monotonic deadline
        self._cond = threading.Condition()
        self._started = False

    def arm(self, run: Any, at: float) -> None:
        """Call ``run.timer_flush()`` at monotonic time ``at`` (if it is armed already, the
        earlier time stands: its oldest buffered row is the one that must not wait longer)."""
        with self._cond:
            if not self._started:
                threading.Thread(target=self._loop, name="sweepnb-flush", daemon=True).start()
                self._started = True
            if at < self._due.get(run, math.inf):
                self._due[run] = at
                self._cond.notify()

    def _loop(self) -> None:
        cond = self._cond  # this process's: a fork makes a new one for the child's thread
        while True:
            with cond:
                while not self._due:
                    cond.wait()
                now = time.monotonic()
                ready = [run for run, at in self._due.items() if at <= now]
                if not ready:
                    cond.wait(min(self._due.values()) - now)
                    continue
                for run in ready:
                    del self._due[run]
            for run in ready:  # outside the lock: a write may take a while (store retries)
                run.timer_flush()


_flusher = Flusher()


def arm(run: Any, at: float) -> None:
    """Have this process's flush timer call ``run.timer_flush()`` at monotonic time ``at``."""
    _flusher.arm(run, at)
