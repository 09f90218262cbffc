"""Random search: every parameter drawn independently from its distribution, ``ppf(U)``."""

from __future__ import annotations

import numpy as np

from sweepnb.engine.params import flatten, nest

NEEDS_HISTORY = False  # W&B's random search never looks at past runs
DESCRIPTION = "each parameter drawn independently from its distribution"


def _sample(params: list, rng: np.random.Generator) -> dict:
    return nest({p.path: p.sample(rng) for p in params})


def suggest(cfg: dict, runs: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` independent random configs; past runs are not consulted (W&B's behaviour)."""
    return Index(cfg).suggest(n, rng)


class Index:
    """Random search's state across suggestions (``engine.Suggester``): its parameters, read
    once; runs change nothing, so a suggestion costs the same at any sweep size."""

    def __init__(self, cfg: dict):
        self.params = flatten(cfg)

    def add(self, key: object, run: dict) -> None:
        """Runs are not consulted."""

    def discard(self, key: object) -> None:
        """Runs are not consulted."""

    def suggest(self, n: int, rng: np.random.Generator) -> list[dict]:
        return [_sample(self.params, rng) for _ in range(n)]
