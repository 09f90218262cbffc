"""`wandb.apis`: only `wandb.apis.public` (the offline `Api`) is there."""

import importlib

from sweepnb.compat.names import NotSupported


def __getattr__(name):
    if name == "public":
        return importlib.import_module(f"{__name__}.public")
    if name.startswith("_"):
        raise AttributeError(name)
    raise NotSupported(f"wandb.apis.{name}: sweepnb does not support it (only wandb.apis.public)")
