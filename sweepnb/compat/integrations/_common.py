"""What the integrations share: the active run (a clear error without one) and plain numbers."""

from __future__ import annotations

from typing import Any

from sweepnb.errors import SweepnbError


def active_run(who: str) -> Any:
    """The active run, or an error naming ``who`` (the callback) when there is none."""
    from sweepnb.runtime.run import current

    run = current()
    if run is None:
        raise SweepnbError(f"{who}: no active run; call wandb.init() before training")
    return run


def number(value: Any) -> float | int | None:
    """``value`` as a plain int/float (numpy scalars, 0-d tensors), or None if it is not one.

    >>> import numpy as np; number(np.float32(0.5)), number("x")
    (0.5, None)
    """
    if hasattr(value, "numpy") and callable(value.numpy):  # TensorFlow / Keras tensors
        value = value.numpy()
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def numbers(values: dict, prefix: str = "") -> dict[str, Any]:
    """The number-valued entries of ``values`` with ``prefix`` before each key."""
    out = {}
    for key, value in (values or {}).items():
        plain = number(value)
        if plain is not None:
            out[f"{prefix}{key}"] = plain
    return out
