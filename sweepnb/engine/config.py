"""Sweep configs: read them, validate them against ``schema.json``, fill in W&B's defaults.

>>> cfg = load_config("method: random\\nparameters: {lr: {min: 1e-4, max: 0.1}}")
>>> cfg["parameters"]["lr"]
{'distribution': 'uniform', 'min': 0.0001, 'max': 0.1}

Validation is the JSON Schema (``sweepnb/schema.json``, draft-07, modelled on W&B's) run with
``jsonschema``, then the checks a schema cannot say (min < max, probabilities, grid needs
discrete parameters, bayes needs a metric, ...). Every problem is reported at once in one
:class:`~sweepnb.errors.ConfigError`, each message starting with its key path.

Where sweepnb differs from W&B on purpose:

- A ``goal`` (or ``impute``) that is not one of the allowed words is an error. W&B's engine
  silently replaces it with the default, so ``goal: maximise`` would minimize.
- The deprecated ``log_uniform``, ``q_log_uniform`` and ``inv_log_uniform`` (bounds are base-e
  exponents) load with a :class:`~sweepnb.errors.SweepnbWarning` naming the parameter; W&B's
  strict check calls them violations, but its cloud runs them.
- A top-level ``seed`` (a non-negative int) is allowed: it makes suggestions reproducible.
- ``min``/``max`` mixing an int and a float without ``distribution`` is ``uniform`` (the W&B
  engine's inference); W&B's client refuses it as "ambiguous".
- W&B's 2026 additions ``method: custom``, ``scheduler`` and ``metrics`` (Launch schedulers,
  multi-objective) are rejected with a message saying so.
- Non-finite numbers (``.inf``, ``.nan``) as bounds or distribution settings are errors, and a
  hyperband ``max_iter``/``s``/``eta`` that gives no bracket is an error at load time (W&B fails
  later, at the first stopping decision). A non-integer ``s`` is an error (W&B crashes on it).
- A parameter that matches no form gets ONE message saying what is wrong with it, not W&B's
  "is not valid under any of the given schemas".
- Defaults are filled for every parameter at every depth and for ``metric`` (W&B's
  ``SweepConfig`` leaves nested parameters and the metric unfilled).
- YAML: ``1e-5``, ``1E5``, ``-2e-3`` are floats (PyYAML reads them as strings); dates stay
  strings; values that are not JSON (``!!binary``, ``!!set``, Python objects in a dict) are
  errors, because a config must be storable as JSON.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sweepnb.engine.config_yaml import is_file_source, parse_yaml, read_source, to_yaml
from sweepnb.errors import ConfigError, SweepnbWarning

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


__all__ = [
    "DEPRECATED_DISTRIBUTIONS",
    "DISTRIBUTIONS",
    "GRID_DISTRIBUTIONS",
    "SCHEMA_PATH",
    "load_config",
    "parse_yaml",
    "schema",
    "to_yaml",
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")

#: Distributions that a grid can enumerate.
GRID_DISTRIBUTIONS = frozenset({"categorical", "constant", "int_uniform", "q_uniform"})

#: Deprecated distribution -> the one to use instead (bounds as values, not exponents).
DEPRECATED_DISTRIBUTIONS = {
    "log_uniform": "log_uniform_values",
    "q_log_uniform": "q_log_uniform_values",
    "inv_log_uniform": "inv_log_uniform_values",
}

#: The most values one grid parameter may have (int_uniform / q_uniform ranges are listed).
MAX_GRID_VALUES = 100_000  # search/grid.py indexes every value at each suggestion (~1 s here)

_NUMERIC_SETTINGS = ("min", "max", "mu", "sigma", "a", "b", "q")
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


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def schema() -> dict[str, Any]:
    """A copy of sweepnb's JSON Schema for sweep configs (draft-07).

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


@lru_cache(maxsize=1)
def _outline_validator() -> jsonschema.Draft7Validator:
    """The schema with ``parameters`` cut to its outline (a non-empty mapping): _Walk checks each
    parameter against the schema's own forms, and explains a failure in one message."""
    outline = deepcopy(_schema())
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
    if rule == "exclusiveMinimum":
        return f"{_short(value)} must be greater than {limit}"
    if rule == "minimum":
        return f"{_short(value)} must be at least {limit}"
    return err.message


# ----------------------------------------------------------------------------------------------
# Plain JSON data


def _plain(value: Any, path: tuple, errors: list[str]) -> Any:
    """A new plain-JSON copy of ``value``; problems (non-string keys, non-JSON values) go to errors."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                out[str(key)] = _plain(item, (*path, key), errors)
            else:
                errors.append(f"{_key_path(path)}: key {_short(key)} is not a string")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, (*path, i), errors) for i, item in enumerate(value)]
    if type(value).__module__.partition(".")[0] == "numpy" and hasattr(value, "tolist"):
        # a numpy array or scalar (checked by name: numpy is not imported for this)
        return _plain(value.tolist(), path, errors)
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if value is None:
        return None
    errors.append(
        f"{_key_path(path)}: {_short(value)} ({type(value).__name__}) is not a JSON value"
    )
    return None


# ----------------------------------------------------------------------------------------------
# Top-level schema errors (everything outside `parameters`, which is explained per parameter)

_UNSUPPORTED = {
    "metrics": "metrics: multi-objective sweeps (W&B's method custom) are not supported by sweepnb;"
    " use one `metric`",
    "scheduler": "scheduler: W&B Launch schedulers are not supported by sweepnb",
}


def _top_level_errors(cfg: dict[str, Any]) -> list[str]:
    messages = [_UNSUPPORTED[key] for key in _UNSUPPORTED if key in cfg]
    for err in _outline_validator().iter_errors(cfg):
        path = tuple(err.absolute_path)
        if path and path[0] in _UNSUPPORTED:
            continue
        if path[:1] == ("parameters",) and not _about_the_mapping(err, path):
            continue  # _Walk explains each parameter (and its name) in one message
        messages.extend(_explain(err, path))
    return messages


def _about_the_mapping(err: jsonschema.ValidationError, path: tuple) -> bool:
    return len(path) == 1 and err.validator in ("type", "minProperties")


def _explain(err: jsonschema.ValidationError, path: tuple) -> list[str]:
    rule = err.validator
    if rule == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        return [f"{_key_path((*path, k))}: is required" for k in missing]
    if rule == "additionalProperties":
        known = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in known]
        free = [k for k in known if k not in err.instance]
        return [f"{_key_path((*path, k))}: unknown key{_did_you_mean(k, free)}" for k in extra]
    where = _key_path(path)
    if rule == "anyOf" and path == ("early_terminate",):
        return [f"{where}: hyperband needs min_iter, or max_iter and s"]
    if rule == "type" and path == ("early_terminate",):
        return [f"{where}: must be a mapping with a type, e.g. {{type: hyperband, min_iter: 3}}"]
    if rule == "enum" and path == ("method",) and err.instance == "custom":
        return [
            f"{where}: 'custom' (W&B Launch schedulers) is not supported; use grid, random or bayes"
        ]
    return [f"{where}: {_value_problem(err)}"]


# ----------------------------------------------------------------------------------------------
# Parameters: match each to its form (= infer its distribution), fill defaults, explain failures


@dataclass
class _Walk:
    """Collects what walking the parameters finds."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    leaves: list[tuple[tuple, str]] = field(default_factory=list)

    def parameters(self, params: dict[str, Any], path: tuple) -> dict[str, Any]:
        filled = {}
        for name, spec in params.items():
            where = (*path, name)
            if not _NAME_RE.fullmatch(name):
                self.errors.append(
                    f"{_key_path(where)}: invalid parameter name {name!r} (start with a letter or _,"
                    " then letters, digits, _ . -)"
                )
            filled[name] = self.parameter(spec, where)
        return filled

    def parameter(self, spec: Any, path: tuple) -> Any:
        where = _key_path(path)
        if not isinstance(spec, dict):
            self.errors.append(
                f"{where}: {_short(spec)} is not a mapping such as {{values: [1, 2]}}, "
                "{value: 1} or {min: 0, max: 1}"
            )
            return spec
        if "parameters" in spec:
            return self.nested(spec, path)
        form = _match_form(spec)
        if form is None:
            self.errors.append(f"{where}: {_diagnose(spec)}")
            return spec
        self.leaves.append((path, form))
        self.errors.extend(f"{where}: {p}" for p in _leaf_problems(spec, form))
        if form in DEPRECATED_DISTRIBUTIONS:
            self.warnings.append(f"{where}: {_deprecation(spec, form)}")
        return _fill_leaf(spec, form)

    def nested(self, spec: dict[str, Any], path: tuple) -> dict[str, Any]:
        where = _key_path(path)
        extra = [k for k in spec if k != "parameters"]
        if extra:
            self.errors.append(
                f"{where}: unknown key{'s' if len(extra) > 1 else ''} {_quoted(extra)} next to "
                "nested parameters (a group holds only `parameters`)"
            )
        children = spec["parameters"]
        if not isinstance(children, dict):
            self.errors.append(f"{where}.parameters: {_short(children)} is not a mapping")
            return {"parameters": children}
        if not children:
            self.errors.append(f"{where}.parameters: must not be empty")
        return {"parameters": self.parameters(children, (*path, "parameters"))}


def _match_form(spec: dict[str, Any]) -> str | None:
    """The first distribution form (W&B's order) that ``spec`` satisfies, or None.

    Each form's ``distribution`` allows only its own name, so a named distribution can only
    match its own form, and an unnamed one only the forms that do not require the name.
    """
    if "distribution" in spec:
        named = spec["distribution"]
        candidates: Iterable[str] = [named] if named in DISTRIBUTIONS else []
    else:
        candidates = _INFERABLE
    for form in candidates:
        if _form_validator(form).is_valid(spec):
            return form
    return None


def _fill_leaf(spec: dict[str, Any], form: str) -> dict[str, Any]:
    filled = {"distribution": form}
    filled.update((k, v) for k, v in spec.items() if k != "distribution")
    for key, value in _defaults(_definition(form)).items():
        filled.setdefault(key, value)
    return filled


def _guess_form(spec: dict[str, Any]) -> str | None:
    """The distribution a user probably meant when ``distribution`` is absent."""
    if "values" in spec or "probabilities" in spec:
        return "categorical_w_probabilities" if "probabilities" in spec else "categorical"
    if "value" in spec:
        return "constant"
    bounds = [spec[k] for k in ("min", "max") if k in spec]
    if bounds:
        ints = all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
        return "int_uniform" if ints else "uniform"
    return None


def _diagnose(spec: dict[str, Any]) -> str:
    """One message saying why a parameter matches none of the forms."""
    explicit = "distribution" in spec
    if explicit:
        form = spec["distribution"]
        if not isinstance(form, str) or form not in DISTRIBUTIONS:
            hint = _did_you_mean(form, DISTRIBUTIONS) or f" (one of {', '.join(DISTRIBUTIONS)})"
            return f"distribution {_short(form)} is not a known distribution{hint}"
        if form == "categorical" and "probabilities" in spec:
            return (
                "probabilities cannot go with distribution 'categorical' "
                "(leave distribution out, or write categorical_w_probabilities)"
            )
    else:
        form = _guess_form(spec)
        if form is None:
            return _unrecognised(spec)
    parts = _form_problems(spec, form, explicit)
    return "; ".join(parts) or f"does not fit distribution {form!r}"


def _unrecognised(spec: dict[str, Any]) -> str:
    settings = [k for k in spec if k in ("mu", "sigma", "a", "b", "q")]
    if settings:
        verb = "need" if len(settings) > 1 else "needs"
        return f"{_quoted(settings)} {verb} a distribution (e.g. normal, beta, q_normal)"
    known = ("values", "value", "min", "max", "distribution", "parameters", "probabilities")
    unknown = [f"{k!r}{_did_you_mean(k, known)}" for k in spec]
    found = (
        f" (unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)})" if unknown else ""
    )
    return (
        "cannot tell the distribution: give values, value, min and max, a distribution, "
        f"or nested parameters{found}"
    )


def _form_problems(spec: dict[str, Any], form: str, explicit: bool) -> list[str]:
    """What keeps ``spec`` from fitting ``form``: unknown keys, missing keys, bad values."""
    definition = _definition(form)
    known = list(definition["properties"])
    unknown = [k for k in spec if k not in known]
    # a guessed form may be the wrong guess: suggest any parameter key then
    vocabulary = known if explicit else _PARAMETER_KEYS
    free = [k for k in vocabulary if k not in spec]
    meant = {k: _close_match(k, free) for k in unknown}
    parts = []
    if unknown:
        keys = ", ".join(
            f"{k!r}" + (f" (did you mean {meant[k]!r}?)" if meant[k] else "") for k in unknown
        )
        suffix = f" for distribution {form!r}" if explicit else ""
        parts.append(f"unknown key{'s' if len(unknown) > 1 else ''} {keys}{suffix}")
    needed = [k for k in definition["required"] if k != "distribution"]
    absent = [k for k in needed if k not in spec]
    if any(k not in meant.values() for k in absent):  # a typo'd key already says what is missing
        parts.append(f"distribution {form!r} needs {' and '.join(needed)}")
    for err in _form_validator(form).iter_errors(spec):
        if err.validator not in ("additionalProperties", "required"):
            parts.append(f"{_key_path(err.relative_path)} {_value_problem(err)}")
    return list(dict.fromkeys(parts))  # 1.5 fails both `type: integer` and our integer format


def _leaf_problems(spec: dict[str, Any], form: str) -> list[str]:
    """Checks the schema cannot express, for a parameter that matched ``form``."""
    bad = [k for k in _NUMERIC_SETTINGS if _non_finite(spec.get(k))]
    if bad:
        return [f"{k} {spec[k]} is not a finite number" for k in bad]
    problems = []
    if "min" in spec and "max" in spec and not spec["min"] < spec["max"]:
        problems.append(f"min {spec['min']} is not less than max {spec['max']}")
    if form == "categorical_w_probabilities":
        problems += _probability_problems(spec["values"], spec["probabilities"])
    return problems


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _probability_problems(values: list, probabilities: list) -> list[str]:
    if len(values) != len(probabilities):
        return [f"{len(values)} values but {len(probabilities)} probabilities (need one each)"]
    if any(_non_finite(p) for p in probabilities):
        return [f"probabilities {_short(probabilities)} are not all finite numbers"]
    total = math.fsum(probabilities)
    if abs(total - 1.0) > 1e-8 + 1e-5:  # numpy.isclose(total, 1), as W&B checks
        return [f"probabilities sum to {total:g}, not 1"]
    return []


def _deprecation(spec: dict[str, Any], form: str) -> str:
    low, high = spec["min"], spec["max"]
    if form == "inv_log_uniform":
        span = f"[e^-{high:g}, e^-{low:g}] = [{_exp(-high):.3g}, {_exp(-low):.3g}]"
    else:
        span = f"[e^{low:g}, e^{high:g}] = [{_exp(low):.3g}, {_exp(high):.3g}]"
    return (
        f"{form} is deprecated: min and max are base-e exponents, so values lie in {span}; "
        f"use {DEPRECATED_DISTRIBUTIONS[form]} to give the limits themselves"
    )


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


# ----------------------------------------------------------------------------------------------
# Checks across sections


def _method_problems(cfg: dict[str, Any], walk: _Walk) -> list[str]:
    method = cfg.get("method")
    problems = []
    if method == "grid":
        for path, form in walk.leaves:
            if form == "categorical_w_probabilities":
                problems.append(
                    f"{_key_path(path)}: probabilities cannot be used with method grid "
                    "(a grid tries every value once)"
                )
            elif form not in GRID_DISTRIBUTIONS:
                problems.append(
                    f"{_key_path(path)}: distribution {form!r} cannot be used with method grid "
                    "(a grid needs values, value, int_uniform or q_uniform)"
                )
            elif (count := _grid_count(_spec_at(cfg, path), form)) > MAX_GRID_VALUES:
                problems.append(
                    f"{_key_path(path)}: {count:.3g} grid values are more than a grid can "
                    f"enumerate ({MAX_GRID_VALUES:,}); raise q or narrow min and max"
                )
    if method == "bayes":
        if "metric" not in cfg:
            problems.append(
                "metric: method bayes needs a metric to optimize, e.g. {name: loss, goal: minimize}"
            )
        if walk.leaves and not walk.errors and all(f == "constant" for _, f in walk.leaves):
            problems.append(
                "parameters: method bayes needs at least one parameter that is not constant"
            )
    return problems


def _spec_at(cfg: dict[str, Any], path: tuple) -> dict[str, Any]:
    spec: Any = cfg
    for key in path:
        spec = spec[key]
    return spec


def _grid_count(spec: dict[str, Any], form: str) -> float:
    """How many values a grid takes from a parameter (int_uniform inclusive, q_uniform arange)."""
    try:
        if form == "int_uniform":
            return float(spec["max"] - spec["min"] + 1)
        if form == "q_uniform":
            return (spec["max"] - spec["min"]) / spec.get("q", 1.0)
    except OverflowError:  # ints beyond float range
        return math.inf
    return 0.0


def _early_terminate_problems(cfg: dict[str, Any]) -> list[str]:
    rule = cfg.get("early_terminate")
    if rule is None:
        return []
    problems = []
    if "metric" not in cfg:
        problems.append("early_terminate: needs a metric (its logged history is what is compared)")
    if not isinstance(rule, dict):
        return problems
    for key in ("s", "eta"):
        if _non_finite(rule.get(key)):
            problems.append(f"early_terminate.{key}: {rule[key]} is not a finite number")
    if problems or not all(_is_number(rule.get(k)) for k in ("max_iter", "s")):
        return problems
    s, max_iter, eta = rule["s"], rule["max_iter"], rule.get("eta", 3)
    if s != int(s):
        problems.append(f"early_terminate.s: {s} is not a whole number")
    elif _is_number(eta) and eta > 1 and not (s >= 1 and max_iter / eta >= 1):
        problems.append(
            f"early_terminate: max_iter {max_iter} with s {s} and eta {eta:g} gives no bracket "
            "(need s >= 1 and max_iter / eta >= 1)"
        )
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------------------------
# Filling defaults outside parameters


def _fill_sections(cfg: dict[str, Any]) -> None:
    if isinstance(cfg.get("metric"), dict):
        for key, value in _defaults(_definition("metric")).items():
            cfg["metric"].setdefault(key, value)
    if isinstance(cfg.get("early_terminate"), dict):
        for key, value in _defaults(_definition("hyperband")).items():
            cfg["early_terminate"].setdefault(key, value)


# ----------------------------------------------------------------------------------------------
# Entry point


def load_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """Read, validate and complete a sweep config; returns a new plain dict.

    ``source`` is a dict, YAML text, or a path (``str`` or ``Path``) to a ``.yaml``/``.yml``/
    ``.json`` file. Every parameter (at every depth) gets its ``distribution`` and that
    distribution's defaults; ``metric`` gets goal/impute/impute_while_running; hyperband gets
    ``eta: 3`` and ``strict: true``. Raises :class:`ConfigError` listing every problem, and
    nothing else on any input.

    >>> cfg = load_config({"method": "grid", "parameters": {"batch": {"values": [16, 32]}}})
    >>> cfg["parameters"]["batch"]["distribution"]
    'categorical'
    >>> load_config({"method": "ax", "parameters": {"x": {"value": 1}}})
    Traceback (most recent call last):
    ...
    sweepnb.errors.ConfigError: invalid sweep config: method: 'ax' is not one of ['grid', 'random', 'bayes']
    """
    try:
        cfg, notes = _load(source)
    except RecursionError:
        raise ConfigError("config: nested too deeply") from None
    for note in notes:
        warnings.warn(note, SweepnbWarning, stacklevel=2)
    return cfg


def _load(source: Any) -> tuple[dict[str, Any], list[str]]:
    data = read_source(source)
    if not isinstance(data, Mapping):
        where = (
            f" in {source}"
            if isinstance(source, (str, os.PathLike)) and is_file_source(source)
            else ""
        )
        raise ConfigError(
            "config: a sweep config must be a mapping (method, parameters, ...), "
            f"got {type(data).__name__} {_short(data)}{where}"
        )
    problems: list[str] = []
    cfg = _plain(data, (), problems)
    if problems:
        raise ConfigError(problems)
    walk = _Walk()
    if isinstance(cfg.get("parameters"), dict):
        cfg["parameters"] = walk.parameters(cfg["parameters"], ("parameters",))
    problems = _top_level_errors(cfg) + walk.errors
    problems += _method_problems(cfg, walk) + _early_terminate_problems(cfg)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    _fill_sections(cfg)
    return cfg, walk.warnings
