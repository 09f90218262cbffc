"""Early-termination rules: one module per rule, registered in ``sweepnb.engine.stopping.RULES``.

A rule module declares (only ``decide`` is required; ``stopping.describe`` fills the rest)::

    def decide(settings: dict, metric: Metric, runs: list[dict]) -> dict[str, dict]: ...
    SCHEMA = {...}          # JSON-Schema fragment for its early_terminate mapping; the "default"
                            # of each property is what load_config fills in
    def problems(settings, cfg) -> list[str]: ...   # checks a schema cannot say ("key.path: ...")
    def checkpoints(settings) -> Collection[int]: ...  # iteration counts at which it judges a
                            # run at once (empty: only the agents' time-driven checks)
    FIELDS = (Field(...),)  # what the sweep builder shows for it
    X_AXIS = "step"         # "iteration" when it counts logged values of the metric
    def chart_lines(settings) -> list[int]: ...     # iterations the learning curves mark

``settings`` is the config's ``early_terminate`` mapping (possibly without defaults filled),
``metric`` the sweep's metric, ``runs`` every run of the sweep (engine run dicts). It returns,
for each *running* run to stop, in the order of ``runs``, a reason dict
``{"rule": name, "message": "...", ...}`` whose numbers are in the user's units.
Pure: no I/O, no clock, no random state. Adding a rule = one module + one registry line.
"""

from __future__ import annotations

from typing import NamedTuple

from sweepnb.engine.metric import history_values


class Field(NamedTuple):
    """One setting of a rule as the sweep builder shows it: ``kind`` is "int" or "number"."""

    name: str
    kind: str
    default: float | None
    help: str = ""


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
