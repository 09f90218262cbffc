"""sweepnb's offline implementation of the wandb API that training code calls."""

# This module *is* the W&B surface: `wandb.X` (through the shim package in compat/shim/, or
# `import sweepnb as wandb`) resolves X here, from the table in compat/names.py. Names are
# imported on first use, so `import wandb` stays light and a part of sweepnb that is missing
# gives NotSupported for its names instead of breaking the import.

from __future__ import annotations

from typing import Any

from sweepnb._meta import __version__
from sweepnb.compat.names import NAMES, NotSupported, notice_once, resolve


def __getattr__(name: str) -> Any:
    value = resolve(name)
    if name != "run":  # `wandb.run` changes with the active run: never cached
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | {n for n, e in NAMES.items() if e.kind != "refused"})


__all__ = ["NAMES", "NotSupported", "__version__", "notice_once", "resolve"]
