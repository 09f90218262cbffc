"""What a run may log and keep in its summary: values the store writes as JSON and reads back.

============================  ==========================================================
accepted                      stored as
============================  ==========================================================
``None``, ``bool``, ``str``   themselves
``float``                     itself; NaN and +/-inf as the JSON tokens ``NaN``/``Infinity``
                              (read back as floats; metric readings skip them, like W&B)
``int`` that fits a float     itself (``abs(x) < 2**1024``)
numpy scalars, 0-d arrays     the Python value (then the rules above)
arrays, lists, tuples, dicts  lists and dicts of accepted values, any depth
media (``Image``, ``Table``)  a reference to the files written (``sweepnb.compat.media``)
============================  ==========================================================

Anything else is refused when it is logged, with a ``ValueError`` (a number out of range) or a
``TypeError`` (an object) naming the key, so a value that could not be read back never
reaches the store. The run is not failed by the refusal unless the caller lets it propagate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _digits(value: int) -> int:
    # str() of a huge int can itself fail (Python's int max str digits); estimate from bits
    return int(value.bit_length() * 0.30103) + 1


def check_value(key: str, value: Any, what: str = "log()") -> None:
    """Raise ``ValueError`` naming ``key`` if ``value`` (a plain value, after numpy/media
    conversion) holds an int too large for a float, at any depth."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 1023 and abs(value) >= 2**1024:
            raise ValueError(
                f"{what}: {key!r} is an integer of about {_digits(value)} digits, too large "
                "for a float (the store keeps numbers as floats); log float(x), or str(x) to "
                "keep every digit"
            )
    elif isinstance(value, Mapping):
        for k, v in value.items():
            check_value(f"{key}/{k}", v, what)
    elif isinstance(value, (list, tuple)):
        for n, v in enumerate(value):
            check_value(f"{key}/{n}", v, what)


def check_row(row: Mapping[str, Any], what: str = "log()") -> None:
    """``check_value`` for every key of a history row or summary update."""
    for key, value in row.items():
        if not isinstance(value, (str, float, bool)) and value is not None:
            check_value(str(key), value, what)


class Summary(dict):
    """A run's summary: a dict that refuses values the store could not read back.

    ``run.summary["accuracy"] = 0.9`` and ``run.summary.update(...)`` check the value like
    ``log()`` does (W&B code sets summary keys by hand).
    """

    def __setitem__(self, key: str, value: Any) -> None:
        value = plain(value)
        check_value(str(key), value, "summary")
        super().__setitem__(key, value)

    def update(self, *args: Any, **kw: Any) -> None:
        items = dict(*args, **kw)
        items = {k: plain(v) for k, v in items.items()}
        check_row(items, "summary")
        super().update(items)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]


def plain(value: Any) -> Any:
    """numpy scalars/arrays and other number-likes to plain Python (the store takes JSON)."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)
