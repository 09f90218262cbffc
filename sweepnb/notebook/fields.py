"""The text fields of the sweep-config form, read into config values (and back), without widgets.

Every function here is pure, so the form's parsing is tested without a front end::

    >>> param_spec("values", text="0.1, 0.01, adam", key="parameters.lr")
    {'values': [0.1, 0.01, 'adam']}
    >>> row_from_spec({"min": 1, "max": 8})
    RowValues(kind='int', text='', low='1', high='8')
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from sweepnb.errors import SweepnbError

KINDS = (
    ("list of values", "values"),
    ("int range", "int"),
    ("float range", "float"),
    ("log range", "log"),
    ("constant", "constant"),
    ("YAML spec", "yaml"),
)
_RANGE_DISTRIBUTIONS = {"int": "int_uniform", "float": "uniform", "log": "log_uniform_values"}
_KIND_OF_DISTRIBUTION = {v: k for k, v in _RANGE_DISTRIBUTIONS.items()}
PLACEHOLDER = {
    "values": "0.1, 0.01, adam",
    "constant": "a value",
    "yaml": "{distribution: normal, mu: 0, sigma: 1}",
}


class FieldError(SweepnbError, ValueError):
    """A form field cannot be read; the message starts with the config key it feeds."""


def parse_scalar(text: str) -> Any:
    """Read one value typed in a field: int, float, bool, null, or else a string.

    >>> [parse_scalar(t) for t in ["3", "1e-5", "true", "null", "adam", "'3'"]]
    [3, 1e-05, True, None, 'adam', '3']
    """
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for convert in (int, float):
        try:
            value = convert(text)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            break
        return value
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~"):
        return None
    return text


def format_scalar(value: Any) -> str:
    """Write a value so that `parse_scalar` reads it back unchanged (strings quoted if needed)."""
    if isinstance(value, str):
        needs_quotes = "," in value or parse_scalar(value) != value or value != value.strip()
        return json.dumps(value) if needs_quotes or not value else value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def parse_values(text: str, key: str) -> list:
    """A comma-separated list of values (`"0.1, 0.01"` -> `[0.1, 0.01]`); empty items are errors."""
    items = _split_commas(text)
    if not text.strip():
        raise FieldError(f"{key}: give at least one value, separated by commas")
    if any(not item.strip() for item in items):
        raise FieldError(f"{key}: empty value in {text.strip()!r}")
    return [parse_scalar(item) for item in items]


def _split_commas(text: str) -> list[str]:
    """Split on the commas that are not inside quotes."""
    items, current, quote = [], [], None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    return [*items, "".join(current)]


def parse_number(text: str, key: str, *, integer: bool = False) -> int | float:
    """A bound typed in a field. Integer kinds refuse `1.5`; every kind refuses text."""
    value = parse_scalar(text) if text.strip() else None
    if value is None:
        raise FieldError(f"{key}: missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(f"{key}: {text.strip()!r} is not a number")
    if integer and not isinstance(value, int):
        raise FieldError(f"{key}: {text.strip()!r} is not an integer")
    return value if integer else float(value)


def param_spec(kind: str, *, text: str = "", low: str = "", high: str = "", key: str = "") -> dict:
    """The config of one parameter from its row's kind and fields.

    >>> param_spec("log", low="1e-4", high="0.1", key="parameters.lr")
    {'distribution': 'log_uniform_values', 'min': 0.0001, 'max': 0.1}
    """
    if kind == "values":
        return {"values": parse_values(text, f"{key}.values")}
    if kind == "constant":
        return {"value": parse_scalar(text)}
    if kind == "yaml":
        return _parse_yaml_spec(text, key)
    if kind in _RANGE_DISTRIBUTIONS:
        integer = kind == "int"
        return {
            "distribution": _RANGE_DISTRIBUTIONS[kind],
            "min": parse_number(low, f"{key}.min", integer=integer),
            "max": parse_number(high, f"{key}.max", integer=integer),
        }
    raise FieldError(f"{key}: unknown kind {kind!r}")


def _parse_yaml_spec(text: str, key: str) -> dict:
    from sweepnb.engine.config_yaml import parse_yaml  # sweepnb's loader: aliases capped (issue 14)
    from sweepnb.errors import ConfigError

    try:
        spec = parse_yaml(text) if text.strip() else None
    except ConfigError as exc:
        raise FieldError(f"{key}: not valid YAML ({'; '.join(exc.errors)})") from None
    if not isinstance(spec, dict):
        raise FieldError(f"{key}: a YAML spec must be a mapping like {PLACEHOLDER['yaml']}")
    return spec


@dataclass
class RowValues:
    """The text a parameter row shows for one parameter spec (the inverse of `param_spec`)."""

    kind: str
    text: str = ""
    low: str = ""
    high: str = ""


def row_from_spec(spec: dict) -> RowValues:
    """Pick the simplest row kind that represents `spec` exactly; anything else is a YAML spec.

    >>> row_from_spec({"min": 1, "max": 8})
    RowValues(kind='int', text='', low='1', high='8')
    """
    keys = set(spec) - {"distribution"}
    dist = spec.get("distribution")
    if keys == {"values"} and dist in (None, "categorical") and _all_scalars(spec["values"]):
        return RowValues("values", text=", ".join(format_scalar(v) for v in spec["values"]))
    if keys == {"value"} and dist in (None, "constant") and _all_scalars([spec["value"]]):
        return RowValues("constant", text=format_scalar(spec["value"]))
    if keys == {"min", "max"} and _all_numbers(spec["min"], spec["max"]):
        if dist is None:
            both_int = all(isinstance(spec[k], int) for k in ("min", "max"))
            dist = "int_uniform" if both_int else "uniform"
        kind = _KIND_OF_DISTRIBUTION.get(dist)
        if kind is not None:
            return RowValues(kind, low=format_scalar(spec["min"]), high=format_scalar(spec["max"]))
    flow = yaml.safe_dump(spec, default_flow_style=True, sort_keys=False, width=10_000)
    return RowValues("yaml", text=flow.strip())


def _all_scalars(values: list) -> bool:
    return all(v is None or isinstance(v, (str, int, float, bool)) for v in values)


def _all_numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def error_field(message: str, param_names: list[str]) -> str:
    """Which field a ConfigError message belongs to: `param:<name>`, a top-level key, or `general`.

    >>> error_field("parameters.lr.min: 5 is not less than max 3", ["lr"])
    'param:lr'
    """
    for name in sorted(param_names, key=len, reverse=True):
        prefix = f"parameters.{name}"
        if message.startswith(prefix) and message[len(prefix) : len(prefix) + 1] in (
            "",
            ".",
            ":",
            " ",
        ):
            return f"param:{name}"
    match = re.match(r"([A-Za-z_]+)", message)
    top = match.group(1) if match else ""
    return top if top in ("method", "metric", "run_cap", "early_terminate") else "general"
