"""Random search: every parameter drawn independently from its distribution, ``ppf(U)``."""

from __future__ import annotations

import numpy as np

from sweepnb.engine.params import flatten, nest

NEEDS_HISTORY = False  # W&B's random search never looks at past runs
DESCRIPTION = "each parameter drawn independently from its distribution"


def sample_config(cfg: dict, rng: np.random.Generator) -> dict:
    """One random run config (nested, plain Python values, constants included)."""
    return nest({p.path: p.sample(rng) for p in flatten(cfg)})


def suggest(cfg: dict, runs: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` independent random configs; past runs are not consulted (W&B's behaviour)."""
    return [sample_config(cfg, rng) for _ in range(n)]
