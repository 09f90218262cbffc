"""The arguments of ``engine.suggest`` and ``Suggester``: the config loaded once per process,
the count ``n``, the random generator of one suggestion (the engine's ``__init__`` and
``suggester.py`` both use them, so they live below both)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sweepnb.engine.config import load_config

if TYPE_CHECKING:
    import numpy as np

_LOADED: dict[str, dict] = {}


def _load(cfg: dict | str) -> dict:
    # Agents call suggest once per run with the same config: validate it once per process
    # (and warn about deprecated distributions once), not on every call.
    if not isinstance(cfg, dict):
        return load_config(cfg)
    try:
        key = json.dumps(cfg, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return load_config(cfg)
    if key not in _LOADED:
        if len(_LOADED) >= 64:
            _LOADED.clear()
        _LOADED[key] = load_config(cfg)
    return _LOADED[key]


def _rng(cfg: dict, count: int, seed: int | None) -> np.random.Generator:
    """The random generator of one suggestion after ``count`` runs."""
    import numpy as np  # imported on first use: `import sweepnb.engine.config` stays light

    if seed is not None:
        return np.random.default_rng(int(seed) % 2**64)
    if cfg.get("seed") is not None:  # same sweep seed, different draws for each new run
        return np.random.default_rng([int(cfg["seed"]) % 2**64, count])
    return np.random.default_rng()


def _check_n(n: Any) -> int:
    import numpy as np

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: expected a non-negative integer, got {n!r}")
    return int(n)
