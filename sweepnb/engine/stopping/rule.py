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

from sweepnb.engine.metric import Metric  # noqa: F401  (re-exported for the rules)


def is_running(run: dict) -> bool:
    """Only running runs can be stopped; the others still shape the thresholds."""
    return run.get("state") == "running"
