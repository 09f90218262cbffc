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

from sweepnb.engine.metric import Metric  # noqa: F401  (re-exported for the rules)


class Field(NamedTuple):
    """One setting of a rule as the sweep builder shows it: ``kind`` is "int" or "number"."""

    name: str
    kind: str
    default: float | None
    help: str = ""


def schema_defaults(schema: dict) -> dict:
    """The settings ``load_config`` fills in from a rule's ``SCHEMA``: each property's default."""
    props = schema.get("properties", {})
    return {key: spec["default"] for key, spec in props.items() if "default" in spec}


def is_running(run: dict) -> bool:
    """Only running runs can be stopped; the others still shape the thresholds."""
    return run.get("state") == "running"
