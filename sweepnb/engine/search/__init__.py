"""Search methods: one module each, one line in ``METHODS``.

A method module declares (Optuna style: only ``suggest`` is required, the rest have defaults)::

    def suggest(cfg, runs, n, rng) -> list[dict]      # the next n run configs (required)
    NEEDS_HISTORY = True       # False: reads only the runs' configs and states, never their logs
    DESCRIPTION = ""           # one line for the sweep builder
    def problems(cfg, leaves) -> list[str]: ...       # config checks, each "key.path: ..."
    def planned_runs(cfg) -> int | None: ...          # how many runs it will ever make (grid)
    class Index: ...           # state kept across suggestions (engine.Suggester): Index(cfg),
                               # .add(key, run) (replacing the key's run), .discard(key),
                               # .suggest(n, rng); without one the Suggester keeps the runs

``leaves`` is ``[(key_path_tuple, distribution), ...]`` for every parameter of the loaded config.
``describe(name)`` returns a :class:`SearchMethod` with the defaults filled in; everything else
(schema enum, config checks, builder, dashboard, agent) reads it.

>>> describe("grid").needs_history, describe("bayes").needs_history
(False, True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SuggestFn = Callable[[dict, list, int, "np.random.Generator"], list]

METHODS: dict[str, str | ModuleType] = {
    "grid": "sweepnb.engine.search.grid",
    "random": "sweepnb.engine.search.random",
    "bayes": "sweepnb.engine.search.bayes",
}


def _no_problems(cfg: dict, leaves: list) -> list[str]:
    return []


def _unknown_size(cfg: dict) -> int | None:
    return None


@dataclass(frozen=True)
class SearchMethod:
    """A registered search method with every optional member filled in."""

    name: str
    suggest: SuggestFn
    needs_history: bool = True
    description: str = ""
    problems: Callable[[dict, list], list[str]] = _no_problems
    planned_runs: Callable[[dict], int | None] = _unknown_size
    index: type | None = None


def module(entry: str | ModuleType) -> ModuleType:
    """A registry value (a module or its dotted path) as the module."""
    return importlib.import_module(entry) if isinstance(entry, str) else entry


def describe(method: str) -> SearchMethod:
    """The registered method ``method``; ConfigError naming ``method`` when it is not one."""
    from sweepnb.errors import ConfigError

    if not isinstance(method, str) or method not in METHODS:
        raise ConfigError(f"method: {method!r} is not one of {list(METHODS)}")
    mod = module(METHODS[method])
    return SearchMethod(
        name=method,
        suggest=mod.suggest,
        needs_history=getattr(mod, "NEEDS_HISTORY", True),
        description=getattr(mod, "DESCRIPTION", ""),
        problems=getattr(mod, "problems", _no_problems),
        planned_runs=getattr(mod, "planned_runs", _unknown_size),
        index=getattr(mod, "Index", None),
    )
