"""Early-termination rules: one module per rule, registered in ``sweepnb.engine.stopping.RULES``.

A rule is one function::

    def decide(settings: dict, metric: Metric, runs: list[dict]) -> dict[str, dict]:
        ...

``settings`` is the config's ``early_terminate`` mapping (possibly without defaults filled),
``metric`` the sweep's metric, ``runs`` every run of the sweep (engine run dicts). It returns,
for each *running* run to stop, in the order of ``runs``, a reason dict
``{"rule": name, "message": "...", ...}`` whose numbers are in the user's units.
Pure: no I/O, no clock, no random state. Adding a rule = one module + one registry line.
"""

from __future__ import annotations

from typing import NamedTuple

from sweepnb.engine.metric import history_values


class Metric(NamedTuple):
    """The sweep's metric: its ``name`` and ``goal`` ("minimize" or "maximize")."""

    name: str
    goal: str = "minimize"

    def oriented(self, value: float) -> float:
        """``value`` turned so that lower is better (maximize negates), and back again."""
        return -value if self.goal == "maximize" else value

    def history(self, run: dict) -> list[float]:
        """The run's valid logged values of the metric, lower-is-better (one per iteration)."""
        return [self.oriented(v) for v in history_values(run, self.name)]

    def worse(self) -> str:
        """The comparison sign that means "worse than", in the user's units."""
        return "<" if self.goal == "maximize" else ">"


def is_running(run: dict) -> bool:
    """Only running runs can be stopped; the others still shape the thresholds."""
    return run.get("state") == "running"
