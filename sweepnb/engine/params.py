"""Sweep parameters: each W&B distribution with its ``cdf`` and ``ppf``.

A loaded config's ``parameters`` section is flattened into :class:`Param` objects, sorted the way
W&B sorts them (keys in sorted order at every nesting level, depth first). Random sampling is
``ppf(U)``; the bayes search encodes run values through ``cdf`` and decodes through ``ppf``::

    >>> import numpy as np
    >>> (lr,) = flatten({"parameters": {"lr": {"distribution": "log_uniform_values",
    ...                                       "min": 1e-4, "max": 1.0}}})
    >>> lr.name, lr.is_log, round(lr.ppf(0.5), 6)
    ('lr', True, 0.01)
    >>> nest({("opt", "lr"): 0.1, ("seed",): 3})
    {'opt': {'lr': 0.1}, 'seed': 3}
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweepnb.engine.config_params import infer_distribution
from sweepnb.errors import ConfigError

LOG_DISTRIBUTIONS = frozenset(
    {
        "log_uniform",
        "log_uniform_values",
        "q_log_uniform",
        "q_log_uniform_values",
        "inv_log_uniform",
        "inv_log_uniform_values",
        "log_normal",
        "q_log_normal",
    }
)
CATEGORICAL_DISTRIBUTIONS = frozenset({"categorical", "categorical_w_probabilities"})
_DEFAULTS = {"q": 1.0, "mu": 0.0, "sigma": 1.0, "a": 1, "b": 1}
_MISSING = object()


def _special():
    """scipy.special, imported on first use: ``sweepnb ls`` and ``show`` read parameters but
    draw none, and the import costs them a fifth of a second."""
    from scipy import special

    return special


@dataclass(frozen=True)
class Param:
    """One (possibly nested) parameter of a sweep.

    ``path`` is the tuple of keys from the top of ``parameters`` (``("optimizer", "lr")``),
    ``name`` the dotted form, ``spec`` the filled parameter dict of the config.
    """

    path: tuple[str, ...]
    distribution: str
    spec: dict = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """The dotted name, e.g. ``optimizer.lr``."""
        return ".".join(self.path)

    @property
    def is_constant(self) -> bool:
        """True for ``value:`` parameters (not part of the search space)."""
        return self.distribution == "constant"

    @property
    def is_log(self) -> bool:
        """True when the distribution is uniform (or normal) in log space."""
        return self.distribution in LOG_DISTRIBUTIONS

    @property
    def is_categorical(self) -> bool:
        """True for ``values:`` parameters (with or without probabilities)."""
        return self.distribution in CATEGORICAL_DISTRIBUTIONS

    @property
    def is_integer(self) -> bool:
        """True when the values are Python ints (int_uniform, or a q-family with an int ``q``)."""
        if self.distribution == "int_uniform":
            return True
        return self.distribution.startswith("q_") and _is_int(self.spec.get("q", 1.0))

    @property
    def is_quantized(self) -> bool:
        """True when values are snapped to a lattice (int_uniform or a q-family)."""
        return self.distribution == "int_uniform" or self.distribution.startswith("q_")

    @property
    def values(self) -> list:
        """The categorical values (a constant has one)."""
        if self.is_constant:
            return [self.spec.get("value")]
        return list(self.spec.get("values", []))

    @property
    def probabilities(self) -> np.ndarray:
        """Prior probability of each categorical value (uniform unless given)."""
        vals = self.values
        if self.distribution == "categorical_w_probabilities":
            p = np.asarray(self.spec["probabilities"], dtype=float)
            return p / p.sum()
        return np.full(len(vals), 1.0 / max(len(vals), 1))

    def _get(self, key: str) -> Any:
        return self.spec.get(key, _DEFAULTS.get(key))

    # -- numeric core: arrays in, float arrays out (no rounding to types yet) -------------------
    def ppf_numeric(self, u: np.ndarray | float) -> np.ndarray:
        """The inverse CDF as float64 (categoricals: the value's index), vectorised over ``u``."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        d = self.distribution
        if d in CATEGORICAL_DISTRIBUTIONS:
            cum = np.cumsum(self.probabilities)
            idx = np.searchsorted(cum, u * cum[-1], side="right")
            return np.minimum(idx, len(cum) - 1).astype(float)
        if d == "int_uniform":
            lo, hi = self.spec["min"], self.spec["max"]
            return lo + np.minimum(np.floor(u * (hi - lo + 1)), hi - lo)
        if d == "constant":
            return np.zeros_like(u)
        x = self._continuous_ppf(u)
        if d.startswith("q_"):
            q = self._get("q")
            x = np.round(x / q) * q
        return x

    def _continuous_ppf(self, u: np.ndarray) -> np.ndarray:
        d = self.distribution.removeprefix("q_")
        lo, hi = self.spec.get("min"), self.spec.get("max")
        if d in ("normal", "log_normal"):  # keep ppf(0) and ppf(1) finite
            u = np.clip(u, 1e-12, 1.0 - 1e-12)
        if d == "uniform":
            return lo + u * (hi - lo)
        if d == "log_uniform":  # bounds are natural-log exponents (deprecated W&B form)
            return np.exp(lo + u * (hi - lo))
        if d in ("log_uniform_values", "inv_log_uniform_values"):  # same law, see reference §1.4
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if d == "inv_log_uniform":
            return np.exp(-(lo + (1.0 - u) * (hi - lo)))
        if d == "normal":
            return self._get("mu") + self._get("sigma") * _special().ndtri(u)
        if d == "log_normal":
            return np.exp(self._get("mu") + self._get("sigma") * _special().ndtri(u))
        if d == "beta":
            a, b = self._get("a"), self._get("b")
            if a <= 0 or b <= 0:  # degenerate limits: all mass at 0, at 1, or split between them
                return (
                    np.where(u < 0.5, 0.0, 1.0)
                    if a <= 0 and b <= 0
                    else np.full_like(u, 0.0 if a <= 0 else 1.0)
                )
            return _special().betaincinv(a, b, u)
        raise ConfigError(f"parameters.{self.name}: unknown distribution {self.distribution!r}")

    def cdf(self, x: Any) -> Any:
        """P(X <= x). Vectorised over numeric ``x``; a categorical takes a value, (i+1)/n."""
        d = self.distribution
        if d == "constant":
            return 0.0
        if d in CATEGORICAL_DISTRIBUTIONS:
            i = self.index_of(x)
            if i is None:
                raise ValueError(f"{x!r} is not a value of parameter {self.name}")
            return float(np.cumsum(self.probabilities)[i])
        x = np.asarray(x, dtype=float)
        if d == "int_uniform":
            lo, hi = self.spec["min"], self.spec["max"]
            return np.clip((np.floor(x) - lo + 1) / (hi - lo + 1), 0.0, 1.0)
        return self._continuous_cdf(x)

    def _continuous_cdf(self, x: np.ndarray) -> np.ndarray:
        d = self.distribution.removeprefix("q_")
        lo, hi = self.spec.get("min"), self.spec.get("max")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # clipped below
            if d == "uniform":
                u = (x - lo) / (hi - lo)
            elif d == "log_uniform":
                u = (np.log(x) - lo) / (hi - lo)
            elif d in ("log_uniform_values", "inv_log_uniform_values"):
                u = (np.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
            elif d == "inv_log_uniform":
                u = 1.0 - (-np.log(x) - lo) / (hi - lo)
            elif d == "normal":
                u = _special().ndtr((x - self._get("mu")) / self._get("sigma"))
            elif d == "log_normal":
                u = _special().ndtr((np.log(x) - self._get("mu")) / self._get("sigma"))
            elif d == "beta":
                u = _special().betainc(self._get("a"), self._get("b"), np.clip(x, 0.0, 1.0))
            else:
                raise ConfigError(f"parameters.{self.name}: unknown distribution {d!r}")
        return np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)

    # -- plain-Python values ---------------------------------------------------------------------
    def to_value(self, x: float) -> Any:
        """Turn one numeric ``ppf_numeric`` result into the plain Python value a run receives."""
        if self.is_constant:
            return copy.deepcopy(self.spec.get("value"))
        if self.is_categorical:
            return copy.deepcopy(self.values[int(x)])
        if self.is_integer:
            return round(float(x))
        return float(x)

    def ppf(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1], as a plain Python value."""
        return self.to_value(float(self.ppf_numeric(u)))

    def sample(self, rng: np.random.Generator) -> Any:
        """One random value: ``ppf(U)`` with U drawn from ``rng``."""
        if self.is_constant:
            return self.to_value(0.0)
        return self.ppf(rng.random())

    def grid_values(self) -> list:
        """The values a grid search enumerates (int_uniform inclusive, q_uniform like arange)."""
        d = self.distribution
        if d == "constant":
            return [copy.deepcopy(self.spec.get("value"))]
        if d == "categorical":
            return copy.deepcopy(self.values)
        if d == "int_uniform":
            return list(range(self.spec["min"], self.spec["max"] + 1))
        if d == "q_uniform":
            return np.arange(self.spec["min"], self.spec["max"], self._get("q")).tolist()
        raise ConfigError(
            f"parameters.{self.name}: distribution {d} is not allowed with grid search; grid "
            "search needs categorical (without probabilities), constant, int_uniform or "
            "q_uniform parameters"
        )

    def index_of(self, value: Any) -> int | None:
        """Index of ``value`` among the categorical values (W&B identity, see value_key)."""
        key = value_key(value)
        for i, v in enumerate(self.values):
            if value_key(v) == key:
                return i
        return None


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def value_key(value: Any, dict_keys: frozenset | None = None) -> Any:
    """A hashable identity for a parameter value, with W&B's grid rules.

    ``3000000.0`` and ``3000000`` are the same, ``True`` and ``1`` differ, NaN equals NaN, a list
    differs from a tuple, and dict key order is ignored. With ``dict_keys``, keys of a dict
    value outside that set (injected by a program) are ignored.

    >>> value_key(3.0) == value_key(3), value_key(True) == value_key(1)
    (True, False)
    """
    if value is None:
        return ("none",)
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if _is_int(value):
        return ("num", int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return ("nan",)
        if math.isfinite(v) and v == int(v):
            return ("num", int(v))
        return ("num", v)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, dict):
        items = (
            (str(k), value_key(v)) for k, v in value.items() if dict_keys is None or k in dict_keys
        )
        return ("dict", tuple(sorted(items, key=lambda kv: kv[0])))
    if isinstance(value, list):
        return ("list", tuple(value_key(v) for v in value))
    if isinstance(value, tuple):
        return ("tuple", tuple(value_key(v) for v in value))
    if isinstance(value, (set, frozenset)):
        kind = "frozenset" if isinstance(value, frozenset) else "set"
        return (kind, tuple(sorted((value_key(v) for v in value), key=repr)))
    return ("other", repr(value))


def flatten(cfg: dict) -> list[Param]:
    """The parameters of a (loaded) sweep config as a flat list of Param, in W&B's order.

    Keys are visited in sorted order at every level, nested parameters depth first.
    """
    params: list[Param] = []

    def walk(section: dict, prefix: tuple[str, ...]) -> None:
        for key in sorted(section):
            spec = section[key]
            path = (*prefix, key)
            if not isinstance(spec, dict):
                raise ConfigError(f"parameters.{'.'.join(path)}: must be a mapping")
            # configs that skipped load_config: infer it the way load_config does
            dist = spec.get("distribution") or infer_distribution(spec)
            if dist is None and isinstance(spec.get("parameters"), dict):
                walk(spec["parameters"], path)
            elif dist is None:
                raise ConfigError(
                    f"parameters.{'.'.join(path)}: invalid hyperparameter configuration"
                )
            else:
                params.append(Param(path, dist, spec))

    walk(cfg.get("parameters") or {}, ())
    return params


def nest(flat: dict[tuple[str, ...], Any]) -> dict:
    """Build a nested dict from ``{path_tuple: value}``."""
    out: dict = {}
    for path, value in flat.items():
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def value_at(config: Any, path: tuple[str, ...], default: Any = None) -> Any:
    """The value at ``path`` in a nested run config, or ``default`` when absent."""
    node = config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


MISSING = _MISSING
