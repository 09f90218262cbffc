"""The sweep engine: pure functions from a config and its runs to the next runs / runs to stop.

No I/O, no clock, no global random state; a store, an agent or a notebook drive it the same way::

    >>> from sweepnb import engine
    >>> cfg = engine.load_config({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})
    >>> engine.suggest(cfg, [])
    [{'a': 1}]
    >>> engine.suggest(cfg, [{"id": "r1", "state": "failed", "config": {"a": 1}}], n=5)
    [{'a': 2}]
"""

from __future__ import annotations

from sweepnb.engine.config import load_config
from sweepnb.engine.inputs import _check_n, _load
from sweepnb.engine.suggester import Suggester

__all__ = ["Suggester", "is_done", "load_config", "should_stop", "suggest"]


def target_reached(cfg: dict, runs: list[dict]) -> bool:
    """True when a *finished* run's best metric reached ``metric.target`` (in the goal's direction)."""
    from sweepnb.engine.metric import Metric

    metric = Metric.of(cfg)
    if metric is None or metric.target is None:
        return False
    return any(metric.reached_by(r) for r in runs)


def is_done(cfg: dict, runs: list[dict]) -> bool:
    """True when no run may start any more: ``run_cap`` runs exist or the target was reached."""
    cap = cfg.get("run_cap")
    return (cap is not None and len(runs) >= cap) or target_reached(cfg, runs)


def suggest(cfg: dict | str, runs: list[dict], n: int = 1, seed: int | None = None) -> list[dict]:
    """The next ``n`` run configs (nested, plain Python values, constants included).

    ``cfg`` may be raw (dict, YAML text or path) or already loaded. Returns fewer than ``n``
    (possibly ``[]``) when a grid is exhausted, ``run_cap`` is reached or a finished run reached
    ``metric.target``. ``seed`` makes the call reproducible; without it the config's ``seed``
    (mixed with the number of runs) is used, else fresh entropy.

    >>> suggest({"method": "random", "parameters": {"n": {"min": 1, "max": 3}}}, [], seed=0)
    [{'n': 2}]
    """
    n = _check_n(n)
    suggester = Suggester(cfg)  # what an agent keeps between claims, built from these runs
    suggester.reset(list(runs or []), by_id=False)
    return suggester.suggest(n, seed)


def should_stop(cfg: dict | str, runs: list[dict]) -> list[str]:
    """Ids of running runs that the config's ``early_terminate`` rule says to stop."""
    from sweepnb.engine.stopping import (
        should_stop as rule_should_stop,  # imported late: a sibling module
    )

    return rule_should_stop(_load(cfg), list(runs or []))
