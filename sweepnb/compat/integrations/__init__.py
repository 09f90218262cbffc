"""W&B's framework integrations, offline: ``keras``, ``xgboost``, ``lightgbm`` (and ``sklearn``,
which is ``sweepnb.sklearn``). Each logs into the active run; the framework is imported only when
a callback is made.

    >>> from sweepnb.compat import integrations
    >>> integrations.xgboost.__name__
    'sweepnb.compat.integrations.xgboost'
"""

from __future__ import annotations

import importlib
from typing import Any

from sweepnb.compat.names import NotSupported

MODULES = {
    "keras": "sweepnb.compat.integrations.keras",
    "xgboost": "sweepnb.compat.integrations.xgboost",
    "lightgbm": "sweepnb.compat.integrations.lightgbm",
    "sklearn": "sweepnb.sklearn",
}


def __getattr__(name: str) -> Any:
    if name in MODULES:
        return importlib.import_module(MODULES[name])
    if name.startswith("_"):
        raise AttributeError(name)
    raise NotSupported(
        f"wandb.integration.{name}: sweepnb does not support it (it has {', '.join(MODULES)})"
    )
