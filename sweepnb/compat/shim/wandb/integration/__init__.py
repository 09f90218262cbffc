"""`wandb.integration`: `keras`, `xgboost`, `lightgbm`, `sklearn` (each imported on first use)."""

import importlib

from sweepnb.compat.names import NotSupported

_MODULES = ("keras", "xgboost", "lightgbm", "sklearn")


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name.startswith("_"):
        raise AttributeError(name)
    raise NotSupported(
        f"wandb.integration.{name}: sweepnb does not support it (it has {', '.join(_MODULES)})"
    )
