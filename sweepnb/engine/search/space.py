"""The search space of the bayes method: run configs <-> points of the unit cube.

Numbers go through their distribution's CDF (so log distributions live in log space and a
uniform draw in the cube is a draw from the prior), integers sit at the centre of their bin,
categoricals are one-hot (one column per value, falsy values included).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from sweepnb.engine.params import MISSING, Param, flatten, nest, value_at, value_key


def _as_number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return math.nan
    return float(value)


@dataclass
class Space:
    """The searchable parameters and their columns in the encoded unit cube."""

    params: list[Param]
    constants: list[Param]
    slices: list[slice]
    dim: int
    order: list[tuple[str, ...]]

    @classmethod
    def of(cls, cfg: dict) -> Space:
        """The space of a loaded config (constants kept aside)."""
        all_params = flatten(cfg)
        params = [p for p in all_params if not p.is_constant]
        slices, start = [], 0
        for p in params:
            width = len(p.values) if p.is_categorical else 1
            slices.append(slice(start, start + width))
            start += width
        constants = [p for p in all_params if p.is_constant]
        return cls(params, constants, slices, start, [p.path for p in all_params])

    @property
    def float_columns(self) -> np.ndarray:
        """Columns of continuous (not quantized, not categorical) parameters."""
        cols = [
            s.start
            for p, s in zip(self.params, self.slices)
            if not p.is_categorical and not p.is_quantized
        ]
        return np.array(cols, dtype=int)

    def encode_many(self, configs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Run configs as points of the unit cube, and a mask of those that could be encoded.

        A config cannot be encoded when a value is missing, not a number for a numeric
        parameter, or not one of a categorical's values.
        """
        X = np.zeros((len(configs), self.dim))
        ok = np.ones(len(configs), dtype=bool)
        for p, s in zip(self.params, self.slices):
            raw = [value_at(c, p.path, MISSING) for c in configs]
            if p.is_categorical:
                lookup = {}
                for i, v in enumerate(p.values):
                    lookup.setdefault(value_key(v), i)
                for row, v in enumerate(raw):
                    i = None if v is MISSING else lookup.get(value_key(v))
                    if i is None:
                        ok[row] = False
                    else:
                        X[row, s.start + i] = 1.0
                continue
            numeric = np.array([_as_number(v) for v in raw])
            ok &= np.isfinite(numeric)
            numeric = np.where(np.isfinite(numeric), numeric, 0.0)
            if p.distribution == "int_uniform":
                lo, hi = p.spec["min"], p.spec["max"]
                X[:, s.start] = np.clip((np.round(numeric) - lo + 0.5) / (hi - lo + 1), 0.0, 1.0)
            else:
                X[:, s.start] = p.cdf(numeric)
        return X, ok

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` points drawn from the prior (categoricals by their probabilities)."""
        X = rng.random((m, self.dim))
        for p, s in zip(self.params, self.slices):
            if p.is_categorical:
                X[:, s] = 0.0
                idx = rng.choice(len(p.values), size=m, p=p.probabilities)
                X[np.arange(m), s.start + idx] = 1.0
        return self.snap(X)

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Move quantized columns onto values a run can actually take (decode then encode)."""
        X = X.copy()
        for p, s in zip(self.params, self.slices):
            if p.distribution == "int_uniform":
                lo, hi = p.spec["min"], p.spec["max"]
                k = p.ppf_numeric(X[:, s.start])
                X[:, s.start] = (k - lo + 0.5) / (hi - lo + 1)
            elif p.is_quantized:
                X[:, s.start] = p.cdf(p.ppf_numeric(X[:, s.start]))
        return X

    def decode_flat(self, x: np.ndarray) -> dict:
        """A point back to ``{path: plain value}`` for every parameter, constants included."""
        flat = {}
        for p, s in zip(self.params, self.slices):
            if p.is_categorical:
                flat[p.path] = p.to_value(float(np.argmax(x[s])))
            else:
                flat[p.path] = p.to_value(float(p.ppf_numeric(x[s.start])))
        for p in self.constants:
            flat[p.path] = p.to_value(0.0)
        return flat

    def decode(self, x: np.ndarray) -> dict:
        """A point back to a nested run config, parameters in W&B's order."""
        flat = self.decode_flat(x)
        return nest({path: flat[path] for path in self.order})

    def key(self, x: np.ndarray) -> tuple:
        """Identity of the configuration a point decodes to (for "never propose twice")."""
        flat = self.decode_flat(x)
        return tuple(value_key(flat[p.path]) for p in self.params)

    def key_of_config(self, config: dict) -> tuple:
        """Identity of a run's configuration, comparable with :meth:`key`."""
        return tuple(value_key(value_at(config, p.path)) for p in self.params)

    def size(self) -> int | None:
        """Number of distinct configurations when every parameter is finite and discrete."""
        total = 1
        for p in self.params:
            if p.is_categorical:
                total *= len(p.values)
            elif p.distribution == "int_uniform":
                total *= p.spec["max"] - p.spec["min"] + 1
            elif p.distribution in ("q_uniform", "q_log_uniform_values", "q_log_uniform", "q_beta"):
                total *= len(self._lattice(p))
            else:
                return None
        return total

    def _lattice(self, p: Param) -> np.ndarray:
        u = np.linspace(0.0, 1.0, 4097)
        return np.unique(p.ppf_numeric(u))

    def enumerate(self) -> np.ndarray:
        """Every configuration of a finite discrete space, encoded (call only if size() is small)."""
        columns = []
        for p, s in zip(self.params, self.slices):
            width = s.stop - s.start
            if p.is_categorical:
                columns.append([np.eye(width)[i] for i in range(width)])
            elif p.distribution == "int_uniform":
                n = p.spec["max"] - p.spec["min"] + 1
                columns.append([np.array([(i + 0.5) / n]) for i in range(n)])
            else:
                columns.append([np.array([float(p.cdf(v))]) for v in self._lattice(p)])
        return np.array([np.concatenate(c) for c in itertools.product(*columns)])
