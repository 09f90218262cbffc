"""Grid search, enumerated exactly like W&B's (reference §2.2).

The Cartesian product of the discrete parameters, in W&B's parameter order with the first
parameter varying slowest and values in list order; int_uniform is inclusive, q_uniform is
``numpy.arange`` (max excluded). A point is covered by a run in any state; duplicates collapse.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweepnb.engine.config_schema import _key_path
from sweepnb.engine.params import MISSING, Param, flatten, nest, value_at, value_key
from sweepnb.errors import ConfigError

NEEDS_HISTORY = False  # a grid point is covered by a run's config, whatever it logged
DESCRIPTION = "every combination of the listed values, once each"

#: Distributions that a grid can enumerate.
GRID_DISTRIBUTIONS = frozenset({"categorical", "constant", "int_uniform", "q_uniform"})

#: The most values one grid parameter may have (int_uniform / q_uniform ranges are listed).
MAX_GRID_VALUES = 100_000  # every value is indexed at each suggestion (~1 s here)


@dataclass
class _Axis:
    """One swept parameter of the grid: its distinct values and how run values map onto them."""

    param: Param
    values: list
    dict_keys: frozenset | None
    index: dict
    loose_index: dict

    @classmethod
    def of(cls, param: Param) -> _Axis:
        raw = param.grid_values()
        dict_values = [v for v in raw if isinstance(v, dict)]
        dict_keys = frozenset(k for v in dict_values for k in v) if dict_values else None
        values, index, loose = [], {}, {}
        for v in raw:
            key = value_key(v, dict_keys)
            if key in index:  # duplicates collapse onto their first occurrence
                continue
            index[key] = len(values)
            loose.setdefault(value_key(_tuples_as_lists(v), dict_keys), []).append(len(values))
            values.append(v)
        unique_loose = {k: ix[0] for k, ix in loose.items() if len(ix) == 1}
        return cls(param, values, dict_keys, index, unique_loose)

    def locate(self, value: Any) -> int | None:
        """Index of the grid value a run's value stands for, or None."""
        i = self.index.get(value_key(value, self.dict_keys))
        if i is None:
            # a tuple that went through JSON comes back as a list: still the same point, unless
            # the grid holds both forms (then W&B's strict rule decides)
            i = self.loose_index.get(value_key(_tuples_as_lists(value), self.dict_keys))
        return i


def _tuples_as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_tuples_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _tuples_as_lists(v) for k, v in value.items()}
    return value


def axes_of(cfg: dict) -> tuple[list[_Axis], list[Param]]:
    """The grid's swept axes (W&B order) and its constant parameters."""
    params = flatten(cfg)
    bad = [p.name for p in params if p.distribution not in GRID_DISTRIBUTIONS]
    if bad:
        raise ConfigError(
            [
                f"parameters.{name}: grid search needs categorical (without probabilities), "
                "constant, int_uniform or q_uniform parameters"
                for name in bad
            ]
        )
    axes = [_Axis.of(p) for p in params if not p.is_constant]
    return axes, [p for p in params if p.is_constant]


def point_of(axes: list[_Axis], run: dict) -> tuple[int, ...] | None:
    """The grid point (index tuple) a run, in any state, covers; None when it covers none."""
    config = run.get("config") or {}
    point = []
    for axis in axes:
        value = value_at(config, axis.param.path, MISSING)
        i = None if value is MISSING else axis.locate(value)
        if i is None:  # a run missing a swept key (or off the grid) covers nothing
            return None
        point.append(i)
    return tuple(point)


def grid_size(cfg: dict) -> int:
    """Number of distinct points of the grid (W&B's "Est. Runs")."""
    axes, _ = axes_of(cfg)
    return int(np.prod([len(a.values) for a in axes], dtype=object))


def planned_runs(cfg: dict) -> int | None:
    """The grid's size, for progress bars; None when the config cannot be a grid."""
    try:
        return grid_size(cfg)
    except (ConfigError, ValueError, TypeError):
        return None


def problems(cfg: dict, leaves: list[tuple[tuple, str]]) -> list[str]:
    """Parameters a grid cannot enumerate, each message starting with its key path."""
    out = []
    for path, form in leaves:
        where = _key_path(path)
        if form == "categorical_w_probabilities":
            out.append(
                f"{where}: probabilities cannot be used with method grid "
                "(a grid tries every value once)"
            )
        elif form not in GRID_DISTRIBUTIONS:
            out.append(
                f"{where}: distribution {form!r} cannot be used with method grid "
                "(a grid needs values, value, int_uniform or q_uniform)"
            )
        elif (count := _value_count(_spec_at(cfg, path), form)) > MAX_GRID_VALUES:
            out.append(
                f"{where}: {count:.3g} grid values are more than a grid can "
                f"enumerate ({MAX_GRID_VALUES:,}); raise q or narrow min and max"
            )
    return out


def _spec_at(cfg: dict, path: tuple) -> dict:
    spec: Any = cfg
    for key in path:
        spec = spec[key]
    return spec


def _value_count(spec: dict, form: str) -> float:
    """How many values a grid takes from a parameter (int_uniform inclusive, q_uniform arange)."""
    try:
        if form == "int_uniform":
            return float(spec["max"] - spec["min"] + 1)
        if form == "q_uniform":
            return (spec["max"] - spec["min"]) / spec.get("q", 1.0)
    except OverflowError:  # ints beyond float range
        return math.inf
    return 0.0


def suggest(cfg: dict, runs: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    """The next ``n`` uncovered grid points as nested run configs (fewer, or [], at the end)."""
    index = Index(cfg)
    for key, run in enumerate(runs):
        index.add(key, run)
    return index.suggest(n, rng)


class Index:
    """The grid's covered points, kept across suggestions (``engine.Suggester``).

    Points are numbered in enumeration order (first parameter slowest), each counting the runs
    on it; every point below ``cursor`` is covered. A suggestion walks on from the cursor, so at
    any grid size it costs the points it skips, once: no scan of the runs or the grid.
    """

    def __init__(self, cfg: dict):
        self.axes, self.constants = axes_of(cfg)
        self.size = 1
        self.strides: list[int] = []
        for axis in reversed(self.axes):
            self.strides.insert(0, self.size)
            self.size *= len(axis.values)
        self.order = {p.path: k for k, p in enumerate(flatten(cfg))}
        self.runs_on: dict[int, int] = {}  # point number -> how many runs cover it
        self.number_of: dict[Any, int] = {}  # run key -> the number of the point it covers
        self.cursor = 0

    def add(self, key: Any, run: dict) -> None:
        """The run ``key`` covers its point (replacing what it covered before)."""
        self.discard(key)
        point = point_of(self.axes, run)
        if point is not None:
            number = sum(i * stride for i, stride in zip(point, self.strides))
            self.number_of[key] = number
            self.runs_on[number] = self.runs_on.get(number, 0) + 1

    def discard(self, key: Any) -> None:
        """The run ``key`` covers nothing any more (deleted, or retried)."""
        number = self.number_of.pop(key, None)
        if number is None:
            return
        left = self.runs_on[number] - 1
        if left:
            self.runs_on[number] = left
        else:
            del self.runs_on[number]
            self.cursor = min(self.cursor, number)

    def suggest(self, n: int, rng: np.random.Generator) -> list[dict]:
        """The next ``n`` uncovered points as nested run configs (fewer, or [], at the end)."""
        while self.cursor < self.size and self.cursor in self.runs_on:
            self.cursor += 1
        out, number = [], self.cursor
        while len(out) < n and number < self.size:
            if number not in self.runs_on:
                out.append(self.config(number))
            number += 1
        return out

    def config(self, number: int) -> dict:
        """The nested run config of point ``number``."""
        flat = {}
        for axis, stride in zip(self.axes, self.strides):
            i, number = divmod(number, stride)
            flat[axis.param.path] = copy.deepcopy(axis.values[i])
        flat.update({p.path: p.to_value(0.0) for p in self.constants})
        return nest(dict(sorted(flat.items(), key=lambda kv: self.order[kv[0]])))
