"""Median stopping (Google Vizier's rule): a sweepnb extension, not a W&B ``early_terminate`` type.

A running run that has logged ``n >= min_iter`` values is stopped when its best value so far is
worse than the median, over the other runs (any state) with at least ``n`` values, of their
mean over their first ``n`` values; at least ``min_runs`` such runs are needed to judge.

>>> runs = [{"id": k, "state": "finished", "history": [{"loss": v}] * 3} for k, v in
...         [("a", 1), ("b", 2), ("c", 3)]]
>>> runs.append({"id": "d", "state": "running", "history": [{"loss": 5}] * 3})
>>> decide({"type": "median"}, Metric("loss"), runs)["d"]["message"]
'Iteration 3: best 5 > median 2 of 3 runs'
"""

from __future__ import annotations

from statistics import median

from sweepnb.engine.stopping.rule import Field, Metric, is_running, schema_defaults
from sweepnb.errors import ConfigError

NAME = "median"
MAX_COUNT = 10**9  # the largest min_iter (logged values) and min_runs
SCHEMA = {
    "type": "object",
    "description": "Median stopping (sweepnb extension): stop a run whose best value is worse "
    "than the median of the other runs' means over as many iterations.",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": [NAME]},
        "min_iter": {
            "type": "integer",
            "format": "integer",
            "minimum": 1,
            "maximum": MAX_COUNT,
            "default": 3,
            "description": "Judge a run from its min_iter-th logged value of the metric on.",
        },
        "min_runs": {
            "type": "integer",
            "format": "integer",
            "minimum": 1,
            "maximum": MAX_COUNT,
            "default": 3,
            "description": "Judge only when this many other runs have as many values.",
        },
    },
    "additionalProperties": False,
}
DEFAULTS = schema_defaults(SCHEMA)
FIELDS = (
    Field("min_iter", "int", 3, "judge a run from this many logged values on"),
    Field("min_runs", "int", 3, "other runs needed to take a median"),
)
X_AXIS = "iteration"  # a run is compared over its first n logged values
CHECKPOINT_LIMIT = 2**40  # more logged values than any run makes


def checkpoints(settings: dict) -> list[int]:
    """min_iter, then each doubling: the rule may judge at every iteration, but a judgement at
    each log cost ~8 ms (a flush and a read of every run; 3 runs x 200 logs took 4.6 s instead
    of 0.2 s), so the agents' time-driven checks cover the iterations in between (not when the
    config has a ``seed``: its runs are judged at these iterations only, to repeat exactly)."""
    first = filled(settings)["min_iter"]
    return [first * 2**k for k in range(64) if first * 2**k < CHECKPOINT_LIMIT]


def decide(settings: dict, metric: Metric, runs: list[dict]) -> dict[str, dict]:
    """The running runs to stop, each with its reason (see ``sweepnb.engine.stopping.rule``)."""
    settings = filled(settings)
    histories = [metric.history(run) for run in runs]
    decisions: dict[str, dict] = {}
    for i, run in enumerate(runs):
        n = len(histories[i])
        if not is_running(run) or n < settings["min_iter"]:
            continue
        means = [sum(h[:n]) / n for j, h in enumerate(histories) if j != i and len(h) >= n]
        if len(means) < settings["min_runs"]:
            continue
        best, threshold = min(histories[i]), median(means)
        if best > threshold:
            decisions[run["id"]] = _reason(metric, n, threshold, best, len(means))
    return decisions


def filled(settings: dict) -> dict:
    """``settings`` with min_iter 3 / min_runs 3 filled in; ConfigError naming a bad key."""
    out = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    errors = [
        f"early_terminate.{key}: must be an integer >= 1, got {out[key]!r}"
        for key in DEFAULTS
        if isinstance(out[key], bool) or not isinstance(out[key], int) or out[key] < 1
    ]
    if errors:
        raise ConfigError(errors)
    return out


def _reason(metric: Metric, n: int, threshold: float, value: float, count: int) -> dict:
    value, threshold = metric.oriented(value), metric.oriented(threshold)
    return {
        "rule": NAME,
        "iteration": n,
        "threshold": threshold,
        "value": value,
        "message": (
            f"Iteration {n}: best {value:.6g} {metric.worse()} median {threshold:.6g} "
            f"of {count} runs"
        ),
    }
