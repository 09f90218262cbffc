"""Early termination while runs train: the agent-side monitor that flags runs to stop.

Each agent owns one :class:`Monitor`. A check reads *every* run of the sweep from the store, asks
the config's stopping rule (``stopping.stop_decisions``) which running runs to end, and flags the
new ones with their reason (``Store.request_stop``). Because the decision uses the store, agents
in other threads, processes or hosts all see the same thresholds. A monitor checks

- after a run's history write, at most once per ``interval`` seconds (default ``CHECK_INTERVAL``);
- at once when a run logs the value that takes it to a new band (hyperband counts iterations =
  logged values of the metric), so a run is judged at the band even when an epoch takes 1 ms.

A config with a ``seed`` asks for a run sequence that repeats: its runs are judged at the rule's
checkpoints only (hyperband's bands; the median rule's ``min_iter``, then each doubling), never
by the clock, so how long an epoch takes cannot change which iteration a run stops at.

A flagged function run ends at its next ``sweepnb.log``, which raises ``RunStopped`` (the agent
records the run ``stopped``, its history and reason kept); a function may instead check the
documented ``run.should_stop`` and return. A program run's process watches its own run the same
way, and its agent, which polls the flag, ends it with SIGTERM, then SIGKILL after a grace period.

    >>> monitor = Monitor(store, sweep_id, cfg)          # doctest: +SKIP
    >>> monitor.watch(run)                               # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from sweepnb.engine.metric import is_valid as is_metric_value
from sweepnb.engine.stopping import configured, stop_decisions
from sweepnb.errors import SweepnbWarning

CHECK_INTERVAL = 1.0  # seconds between two time-driven checks (and program-run polls) by one agent


def flag_runs(store: Any, sweep_id: str) -> dict[str, dict]:
    """Evaluate the sweep's stopping rule on all its runs now; flag and return the new stops.

    Returns ``{run_id: reason}`` for the runs flagged by this call (runs flagged before are
    left alone). A sweep without ``early_terminate`` never flags anything.
    """
    cfg = store.get_sweep(sweep_id)["config"]
    if not cfg.get("early_terminate"):
        return {}
    runs = store.get_runs(sweep_id)
    already = {run["id"] for run in runs if run.get("stop_requested")}
    new = {rid: why for rid, why in stop_decisions(cfg, runs).items() if rid not in already}
    for run_id, reason in new.items():
        store.request_stop(run_id, reason)
    return new


def checkpoints(cfg: Mapping) -> set[int]:
    """The iteration counts at which the config's rule judges a run (empty: time-driven only).

    >>> sorted(checkpoints({"early_terminate": {"type": "hyperband", "min_iter": 3}}))[:3]
    [3, 9, 27]
    """
    rule = configured(dict(cfg))
    return set(rule.checkpoints(cfg["early_terminate"])) if rule else set()


class Monitor:
    """One agent's early-termination checks on sweep ``sweep_id`` (see the module docstring).

    ``clock`` (seconds, monotonic) is injectable for tests. Without ``early_terminate`` in
    ``cfg`` the monitor is disabled: ``watch`` attaches nothing and ``check`` never reads.
    """

    def __init__(
        self,
        store: Any,
        sweep_id: str,
        cfg: Mapping,
        *,
        interval: float = CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ):
        if interval < 0:
            raise ValueError(f"interval: must be >= 0 seconds, got {interval}")
        self.store = store
        self.sweep_id = sweep_id
        self.enabled = bool(cfg.get("early_terminate"))
        self.metric = (cfg.get("metric") or {}).get("name")
        self.bands = checkpoints(cfg) if self.enabled else set()
        # time-driven checks judge a run at whatever iteration the clock falls on: not with a seed
        self.on_time = self.enabled and cfg.get("seed") is None
        self.interval = interval
        self.clock = clock
        self.checks = 0  # evaluations made (for tests and benchmarks)
        self.flagged: dict[str, dict] = {}  # every run this monitor flagged, with its reason
        self._last_check: float | None = None
        self._counts: dict[str, int] = {}  # run id -> valid metric values seen in its logs
        self._band_due = False

    def due(self) -> bool:
        """True at most once per ``interval`` seconds: the one throttle of this agent's
        time-driven work (the checks here, and the agent's polls of a program run's stop flag).

        >>> m = Monitor(None, "s", {}, interval=60.0)
        >>> m.due(), m.due()
        (True, False)
        """
        now = self.clock()
        if self._last_check is not None and now - self._last_check < self.interval:
            return False
        self._last_check = now
        return True

    def check(self, *, force: bool = False) -> dict[str, dict]:
        """Flag the runs to stop now if ``force``, or if :meth:`due` and checks on time are on
        (``on_time``: the config has no ``seed``); return the new flags.

        A store error is reported as a warning (the run goes on; the next check retries).
        """
        if not self.enabled:
            return {}
        if force:
            self._last_check = self.clock()
        elif not self.on_time or not self.due():
            return {}
        self.checks += 1
        try:
            new = flag_runs(self.store, self.sweep_id)
        except Exception as err:  # noqa: BLE001 (a transient store error must not end a run)
            warnings.warn(
                f"sweepnb early-termination check of sweep {self.sweep_id} failed: {err}",
                SweepnbWarning,
                stacklevel=2,
            )
            return {}
        self.flagged.update(new)
        return new

    def watch(self, run: Any) -> Any:
        """Attach to a ``sweepnb.Run``: its band crossings and writes trigger checks. Returns it."""
        if self.enabled:
            run.on_log = self._on_log
            run.on_flush = self._on_flush
        return run

    def reached_band(self, run_id: str, row: Mapping) -> bool:
        """Count ``row``'s metric value for the run; True when that count is a band."""
        if self.metric is None or not is_metric_value(row.get(self.metric)):
            return False
        count = self._counts[run_id] = self._counts.get(run_id, 0) + 1
        return count in self.bands

    def _on_log(self, run: Any, row: Mapping) -> None:
        """Run hook at every log: at a new band, write the row now and judge the run."""
        if run.stop_reason is None and self.reached_band(run.id, row):
            self._band_due = True
            run.flush()  # the store gets the band's value; _on_flush then checks

    def _on_flush(self, run: Any) -> None:
        """Run hook after each history write: a (throttled unless at a band) check."""
        force, self._band_due = self._band_due, False
        new = self.check(force=force)
        if run.id in new and run.stop_reason is None:
            run.apply_control({"stop": True, "reason": new[run.id]})
