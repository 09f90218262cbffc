"""Early termination: which running runs of a sweep to stop, and why.

Pure functions on the sweep config and its runs (DESIGN.md §2). The rule named by
``early_terminate.type`` decides; each rule is one module in ``sweepnb.engine.stopping.rule`` and one line
in ``RULES``.

>>> cfg = {"metric": {"name": "loss"}, "early_terminate": {"type": "hyperband", "min_iter": 2}}
>>> runs = [{"id": "a", "state": "finished", "history": [{"loss": 1}, {"loss": 1}]},
...         {"id": "b", "state": "running", "history": [{"loss": 9}, {"loss": 9}]}]
>>> should_stop(cfg, runs)
['b']
"""

from __future__ import annotations

from collections.abc import Callable

from sweepnb.engine.stopping import hyperband, median
from sweepnb.engine.stopping.rule import Metric
from sweepnb.errors import ConfigError

Rule = Callable[[dict, Metric, list], dict]

RULES: dict[str, Rule] = {
    "hyperband": hyperband.decide,
    "median": median.decide,  # sweepnb extension; W&B configs only name hyperband
}

GOALS = ("minimize", "maximize")


def stop_decisions(cfg: dict, runs: list[dict]) -> dict[str, dict]:
    """``{run_id: reason}`` for every running run to stop, in the order of ``runs``.

    A reason is ``{"rule", "message", ...}``; hyperband adds ``band``, ``threshold`` and
    ``value`` in the user's units. No ``early_terminate`` in the config: ``{}``.
    Raises ConfigError naming the key when the config cannot be used.
    """
    settings = cfg.get("early_terminate")
    if settings is None:
        return {}
    rule = RULES[rule_name(settings)]
    return rule(settings, sweep_metric(cfg), runs)


def should_stop(cfg: dict, runs: list[dict]) -> list[str]:
    """Ids of the running runs to stop now (see ``stop_decisions`` for the reasons)."""
    return list(stop_decisions(cfg, runs))


def rule_name(settings: object) -> str:
    """The registered rule an ``early_terminate`` section names; ConfigError otherwise."""
    if not isinstance(settings, dict) or "type" not in settings:
        raise ConfigError(
            f'early_terminate: must be a mapping with a "type" key, e.g. '
            f"{{type: hyperband, min_iter: 3}}, got {settings!r}"
        )
    name = settings["type"]
    if name not in RULES:
        raise ConfigError(f"early_terminate.type: {name!r} is not one of {sorted(RULES)}")
    return name


def sweep_metric(cfg: dict) -> Metric:
    """The config's metric (goal defaults to minimize); early termination needs one."""
    metric = cfg.get("metric")
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        raise ConfigError('metric: early_terminate needs a "metric" section with a "name"')
    goal = metric.get("goal", "minimize")
    if goal not in GOALS:
        raise ConfigError(f"metric.goal: must be one of {list(GOALS)}, got {goal!r}")
    return Metric(metric["name"], goal)
