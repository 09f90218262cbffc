"""Search methods. Each is a module with ``suggest(cfg, runs, n, rng) -> list[dict]``.

A new method is one file in this package and one line in ``METHODS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SuggestFn = Callable[[dict, list, int, "np.random.Generator"], list]

METHODS: dict[str, str] = {
    "grid": "sweepnb.engine.search.grid",
    "random": "sweepnb.engine.search.random",
    "bayes": "sweepnb.engine.search.bayes",
}


def get(method: str) -> SuggestFn:
    """The ``suggest`` function of a search method (``"grid"``, ``"random"``, ``"bayes"``)."""
    from sweepnb.errors import ConfigError

    if method not in METHODS:
        raise ConfigError(f"method: {method!r} is not one of {sorted(METHODS)}")
    return importlib.import_module(METHODS[method]).suggest
