"""sweepnb's JSON Schema for sweep configs, composed from ``schema.json`` and the registries.

``schema.json`` (package data, draft-07, modelled on W&B's) holds everything but the choices that
plugins add: the ``method`` enum comes from ``sweepnb.engine.search.METHODS`` and the
``early_terminate`` section from each rule's ``SCHEMA`` fragment in ``sweepnb.engine.stopping.RULES``.
The shipped file equals what the built-in registries generate (a test checks it), so editors that
validate a ``sweep.yaml`` with it see the same schema. After adding a method or rule, regenerate it::

    python -m sweepnb.engine.config_schema --write

Also here: the validators and the helpers that turn a validation error into a message that
starts with its key path.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Iterable
from copy import deepcopy
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema


@cache
def _jsonschema() -> ModuleType:
    """The ``jsonschema`` module, imported on first validation.

    Importing it costs ~0.1 s, and every agent worker and program run imports sweepnb (and so
    this module) without validating anything. Its optional ``rfc3987_syntax`` builds a grammar
    for ~3 s more; we check no formats, so it is hidden while jsonschema loads (jsonschema then
    skips that format).
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        import jsonschema
    finally:
        del sys.modules["rfc3987_syntax"]
    return jsonschema


__all__ = ["SCHEMA_PATH", "build_schema", "schema", "shipped_schema"]


SCHEMA_PATH = Path(__file__).with_name("schema.json")

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


# ----------------------------------------------------------------------------------------------
# The schema


def build_schema(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the method enum and the early_terminate section taken from the registries.

    Each rule's fragment becomes ``definitions.<rule>``; ``early_terminate`` must name a
    registered ``type`` and then satisfy that rule's fragment (draft-07 ``if``/``then``).
    """
    from sweepnb.engine import search, stopping

    out = deepcopy(base)
    out["properties"]["method"]["enum"] = list(search.METHODS)
    for name in stopping.RULES:
        out["definitions"][name] = stopping.describe(name).schema
    out["properties"]["early_terminate"] = {
        "type": "object",
        "description": "Early termination: one of the registered stopping rules.",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": list(stopping.RULES)}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": f"#/definitions/{name}"},
            }
            for name in stopping.RULES
        ],
    }
    return out


def shipped_schema() -> dict[str, Any]:
    """The schema as stored in ``schema.json`` (package data)."""
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def schema_text(data: dict[str, Any]) -> str:
    """How ``schema.json`` is written: 2-space JSON with a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _registry_key() -> tuple:
    from sweepnb.engine import search, stopping

    return tuple(search.METHODS.items()), tuple(stopping.RULES.items())


@lru_cache(maxsize=4)
def _composed(key: tuple) -> dict[str, Any]:
    # keyed on the registries' contents: a method or rule registered later (a plugin, a test's
    # monkeypatch) gets a schema that knows it
    return build_schema(shipped_schema())


def _schema() -> dict[str, Any]:
    return _composed(_registry_key())


def schema() -> dict[str, Any]:
    """A copy of sweepnb's JSON Schema for sweep configs (draft-07), from the registries.

    >>> schema()["properties"]["method"]["enum"]
    ['grid', 'random', 'bayes']
    """
    return deepcopy(_schema())


def _definition(name: str) -> dict[str, Any]:
    return _schema()["definitions"][name]


def _parameter_forms() -> list[str]:
    """Definition names of a parameter's forms, in W&B's anyOf order (the nested form last)."""
    refs = _schema()["definitions"]["parameter"]["anyOf"]
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in refs]


#: All distribution names, in the order W&B tries them when ``distribution`` is omitted.
DISTRIBUTIONS: tuple[str, ...] = tuple(f for f in _parameter_forms() if f != "nested")

#: The forms tried, in order, when ``distribution`` is omitted.
_INFERABLE = tuple(f for f in DISTRIBUTIONS if "distribution" not in _definition(f)["required"])

#: Every key a distribution form knows.
_PARAMETER_KEYS = list(
    dict.fromkeys(k for f in DISTRIBUTIONS for k in _definition(f)["properties"])
)

#: A parameter name (checked at every depth), the schema's ``propertyNames`` pattern.
_NAME_RE = re.compile(_definition("parameters")["propertyNames"]["pattern"])


@cache
def _format_checker() -> jsonschema.FormatChecker:
    checker = _jsonschema().FormatChecker(formats=())

    @checker.checks("integer")
    def _not_a_float(value: object) -> bool:
        # JSON Schema's "integer" type accepts 2.0; W&B infers int_uniform only from Python ints.
        return not isinstance(value, float)

    return checker


def _outline_validator() -> jsonschema.Draft7Validator:
    """The schema with ``parameters`` cut to its outline (a non-empty mapping): _Walk checks each
    parameter against the schema's own forms, and explains a failure in one message."""
    return _outline_validator_for(_registry_key())


@lru_cache(maxsize=4)
def _outline_validator_for(key: tuple) -> jsonschema.Draft7Validator:
    outline = deepcopy(_composed(key))
    outline["properties"]["parameters"] = {"type": "object", "minProperties": 1}
    return _jsonschema().Draft7Validator(outline, format_checker=_format_checker())


@cache
def _form_validator(form: str) -> jsonschema.Draft7Validator:
    definition = _schema()["definitions"][form]
    return _jsonschema().Draft7Validator(definition, format_checker=_format_checker())


def _defaults(definition: dict[str, Any]) -> dict[str, Any]:
    props = definition.get("properties", {})
    return {k: v["default"] for k, v in props.items() if "default" in v}


# ----------------------------------------------------------------------------------------------
# Messages


def _key_path(path: Iterable[Any]) -> str:
    """``("parameters", "lr", "values", 2)`` -> ``parameters.lr.values[2]``; ``()`` -> ``config``."""
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(("." if out else "") + (part or "''"))
    return "".join(out) or "config"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _close_match(word: Any, choices: Iterable[str]) -> str | None:
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    match = _close_match(word, choices)
    return f" (did you mean {match!r}?)" if match else ""


def _quoted(keys: Iterable[Any]) -> str:
    return ", ".join(repr(k) for k in keys)


def _number(x: float) -> str:
    """A schema limit as written: ints exactly, floats short (``1e+300``)."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def _value_problem(err: jsonschema.ValidationError) -> str:
    """What is wrong with one value (the error's instance), without its path."""
    value, rule, limit = err.instance, err.validator, err.validator_value
    if rule == "type":
        kinds = [limit] if isinstance(limit, str) else list(limit)
        return f"{_short(value)} is not " + " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
    if rule == "format":
        return f"{_short(value)} is not an integer"
    if rule == "enum":
        return f"{_short(value)} is not one of {limit!r}"
    if rule in ("minItems", "minProperties"):
        return "must not be empty"
    if rule in ("minimum", "maximum", "exclusiveMinimum") and value in (math.inf, -math.inf):
        return f"{value} is not a finite number"
    if rule == "exclusiveMinimum":
        return f"{_short(value)} must be greater than {limit}"
    if rule == "minimum":
        return f"{_short(value)} must be at least {_number(limit)}"
    if rule == "maximum":
        return f"{_short(value)} must be at most {_number(limit)}"
    return err.message


if __name__ == "__main__":  # python -m sweepnb.engine.config_schema --write
    text = schema_text(build_schema(shipped_schema()))
    if sys.argv[1:] == ["--write"]:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
