"""Early termination: which running runs of a sweep to stop, and why.

Pure functions on the sweep config and its runs (DESIGN.md §2). The rule named by
``early_terminate.type`` decides; each rule is one module (its protocol is in
``sweepnb.engine.stopping.rule``) and one line in ``RULES``.

>>> cfg = {"metric": {"name": "loss"}, "early_terminate": {"type": "hyperband", "min_iter": 2}}
>>> runs = [{"id": "a", "state": "finished", "history": [{"loss": 1}, {"loss": 1}]},
...         {"id": "b", "state": "running", "history": [{"loss": 9}, {"loss": 9}]}]
>>> should_stop(cfg, runs)
['b']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sweepnb.engine.stopping.rule import Field, Metric, schema_defaults
from sweepnb.errors import ConfigError

Rule = Callable[[dict, Metric, list], dict]

RULES: dict[str, str | ModuleType] = {
    "hyperband": "sweepnb.engine.stopping.hyperband",
    "median": "sweepnb.engine.stopping.median",  # sweepnb extension; W&B has only hyperband
}

GOALS = ("minimize", "maximize")


def _no_problems(settings: dict, cfg: dict) -> list[str]:
    return []


def _time_driven(settings: dict) -> Collection[int]:
    return ()


def _no_lines(settings: dict) -> list[int]:
    return []


@dataclass(frozen=True)
class StoppingRule:
    """A registered stopping rule with every optional member filled in."""

    name: str
    decide: Rule
    schema: dict[str, Any] = field(default_factory=dict)
    problems: Callable[[dict, dict], list[str]] = _no_problems
    checkpoints: Callable[[dict], Collection[int]] = _time_driven
    fields: tuple[Field, ...] = ()
    x_axis: str = "step"
    chart_lines: Callable[[dict], list[int]] = _no_lines

    @property
    def defaults(self) -> dict[str, Any]:
        """The settings load_config fills in: each schema property's ``default``."""
        return schema_defaults(self.schema)

    def filled(self, settings: dict) -> dict:
        """``settings`` with this rule's defaults for the keys it lacks."""
        return {**self.defaults, **settings}


def _open_schema(name: str) -> dict[str, Any]:
    # a rule that declares no schema accepts any keys next to its type
    return {"type": "object", "required": ["type"], "properties": {"type": {"const": name}}}


def describe(name: str) -> StoppingRule:
    """The registered rule ``name``; ConfigError naming ``early_terminate.type`` otherwise."""
    if name not in RULES:
        raise ConfigError(f"early_terminate.type: {name!r} is not one of {list(RULES)}")
    entry = RULES[name]
    mod = importlib.import_module(entry) if isinstance(entry, str) else entry
    return StoppingRule(
        name=name,
        decide=mod.decide,
        schema=getattr(mod, "SCHEMA", None) or _open_schema(name),
        problems=getattr(mod, "problems", _no_problems),
        checkpoints=getattr(mod, "checkpoints", _time_driven),
        fields=tuple(getattr(mod, "FIELDS", ())),
        x_axis=getattr(mod, "X_AXIS", "step"),
        chart_lines=getattr(mod, "chart_lines", _no_lines),
    )


def configured(cfg: dict) -> StoppingRule | None:
    """The rule a config's ``early_terminate`` names, or None without one (or an unknown type)."""
    settings = cfg.get("early_terminate")
    name = settings.get("type") if isinstance(settings, dict) else None
    if not isinstance(name, str) or name not in RULES:
        return None
    return describe(name)


def stop_decisions(cfg: dict, runs: list[dict]) -> dict[str, dict]:
    """``{run_id: reason}`` for every running run to stop, in the order of ``runs``.

    A reason is ``{"rule", "message", ...}``; hyperband adds ``band``, ``threshold`` and
    ``value`` in the user's units. No ``early_terminate`` in the config: ``{}``.
    Raises ConfigError naming the key when the config cannot be used.
    """
    settings = cfg.get("early_terminate")
    if settings is None:
        return {}
    rule = describe(rule_name(settings))
    return rule.decide(settings, sweep_metric(cfg), runs)


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
    if not isinstance(name, str) or name not in RULES:
        raise ConfigError(f"early_terminate.type: {name!r} is not one of {sorted(RULES)}")
    return name


def sweep_metric(cfg: dict) -> Metric:
    """The config's metric (goal defaults to minimize); early termination needs one."""
    metric = Metric.of(cfg)
    if metric is None:
        raise ConfigError('metric: early_terminate needs a "metric" section with a "name"')
    if metric.goal not in GOALS:
        raise ConfigError(f"metric.goal: must be one of {list(GOALS)}, got {metric.goal!r}")
    return metric
