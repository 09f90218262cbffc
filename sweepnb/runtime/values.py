"""What a run may log and keep in its summary: values the store writes as JSON and reads back.

============================  ==========================================================
accepted                      stored as
============================  ==========================================================
``None``, ``bool``, ``str``   themselves
``float``                     itself; NaN and +/-inf as the JSON tokens ``NaN``/``Infinity``
                              (read back as floats; metric readings skip them, like W&B)
``int`` that fits a float     itself (``abs(x) < 2**1024``)
numpy scalars, 0-d arrays     the Python value (then the rules above); a numpy float wider
                              than a float (``float128``) as the nearest float, if finite
arrays, lists, tuples        lists of accepted values, any depth (to ``MAX_DEPTH``)
dicts                         dicts with ``str(key)`` keys and accepted values
media (``Image``, ``Table``)  a reference to the files written (``sweepnb.compat.media``)
============================  ==========================================================

Anything else (``10**400``, ``complex``, ``bytes``, a ``set``, ``Decimal``, ``datetime``, a
``Path`` or any object without a JSON form) is refused when it is logged, with a ``ValueError`` (a number out of range,
nesting too deep) or a ``TypeError`` (an object) naming the key, so a value that could not be read back never
reaches the store. The run is not failed by the refusal unless the caller lets it propagate.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import os
import types
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 100  # nesting levels a logged value may have (deeper is refused, never a crash)
_PLAIN = (str, bool, float, type(None))


def _digits(value: int) -> int:
    # str() of a huge int can itself fail (Python's int max str digits); estimate from bits
    return int(value.bit_length() * 0.30103) + 1


def storable(key: str, value: Any, what: str = "log()", depth: int = 0) -> Any:
    """``value`` as the plain JSON-able value the store keeps, or a ``ValueError``/``TypeError``
    naming ``key`` (``"batch/loss"`` inside a dict) for a value it could not read back.

    >>> storable("acc", __import__("numpy").float32(0.5))
    0.5
    """
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**1024:
            raise ValueError(
                f"{what}: {key!r} is an integer of about {_digits(value)} digits, too large "
                "for a float (the store keeps numbers as floats); log float(x), or str(x) to "
                "keep every digit"
            )
        return int(value)  # an int subclass (IntEnum...) as a plain int
    if depth >= MAX_DEPTH:
        top = key.split("/", 1)[0]
        raise ValueError(f"{what}: {top!r} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        return {str(k): storable(f"{key}/{k}", v, what, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(f"{key}/{n}", v, what, depth + 1) for n, v in enumerate(value)]
    return _array_like(key, value, what, depth)


def _array_like(key: str, value: Any, what: str, depth: int) -> Any:
    """numpy (torch, jax...) scalars and arrays through ``item()``/``tolist()``."""
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind == "f" and getattr(value, "ndim", 1) == 0:
        number = float(value)  # float128 keeps its own type through item(): narrow it
        if math.isfinite(number) or math.isnan(number) or value in (math.inf, -math.inf):
            return number  # fits, or was NaN/inf in its own precision too
        raise ValueError(f"{what}: {key!r} is {value!r}, too large for a float")
    converted = value
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        converted = value.item()
    elif hasattr(value, "tolist"):
        converted = value.tolist()
    if converted is value or type(converted) is type(value) or kind == "c":
        raise TypeError(
            f"{what}: {key!r} is of type {type(value).__name__}, which the store cannot keep; log a "
            "number, a string, a list or dict of them, or a media object"
        )
    return storable(key, converted, what, depth + 1)


def storable_row(row: Mapping[Any, Any], what: str = "log()") -> dict[str, Any]:
    """:func:`storable` for every key of a history row or summary update."""
    return {str(key): storable(str(key), value, what) for key, value in row.items()}


class Summary(dict):
    """A run's summary: a dict that refuses values the store could not read back.

    ``run.summary["accuracy"] = 0.9`` and ``run.summary.update(...)`` check the value like
    ``log()`` does (W&B code sets summary keys by hand).
    """

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, storable(str(key), value, "summary"))

    def update(self, *args: Any, **kw: Any) -> None:
        super().update(storable_row(dict(*args, **kw), "summary"))

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]


# ---------------------------------------------------------------------------------------------
# Config values
# ---------------------------------------------------------------------------------------------


def config_value(key: str, value: Any, depth: int = 0) -> Any:
    """``value`` as a run's config keeps it, checked when it is set (``run.config.lr = ...``,
    ``config.update``, ``init(config=...)``), not when the run is next written.

    W&B's conversions first (its ``json_friendly_val``): a ``Path`` its text, an enum member its
    name, a date or time its ISO text, ``bytes`` their UTF-8 text, a set or tuple a list, a
    dataclass its fields, a slice ``{"slice_start", "slice_step", "slice_stop"}``, a function or
    class ``"module.qualname"``, numpy values plain ones. Then what :func:`storable` refuses for
    ``log()`` is refused here too, and so is any other object, which W&B would keep as its
    ``str()``: a ``TypeError``/``ValueError`` naming ``config.KEY``.

    >>> from pathlib import Path
    >>> config_value("data", {"root": Path("/data"), "splits": ("train", "test")})
    {'root': '/data', 'splits': ['train', 'test']}
    """
    value = _wandb_form(key, value)
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            raise ValueError(f"config.{key}: nested more than {MAX_DEPTH} levels deep")
        return {str(k): config_value(f"{key}.{k}", v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [config_value(f"{key}[{i}]", v, depth + 1) for i, v in enumerate(value)]
    try:
        return storable(key, value, "config")
    except TypeError:
        raise TypeError(
            f"config.{key}: a value of type {type(value).__name__} cannot be stored; set a number, "
            "a string, a bool, None, or a list or dict of them (Paths, enums, dates and numpy "
            "values are converted as W&B does)"
        ) from None


def _wandb_form(key: str, value: Any) -> Any:
    """W&B's JSON form of a config value it converts; other values as they are."""
    if isinstance(value, _PLAIN) or type(value) is int:
        return value
    if isinstance(value, enum.Enum):  # before int: W&B keeps an IntEnum's name too
        return value.name
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        return path.decode("utf-8", "replace") if isinstance(path, bytes) else path
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"config.{key}: bytes that are not UTF-8 text") from None
    if isinstance(value, (set, frozenset)):
        items = list(value)
        try:
            return sorted(items)  # one order, so the stored config does not change by itself
        except TypeError:
            return items
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, slice):
        return {"slice_start": value.start, "slice_step": value.step, "slice_stop": value.stop}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)):
        return f"{value.__module__}.{value.__qualname__}"
    return value
