"""Sweep configs: read them, validate them against ``schema.json``, fill in W&B's defaults.

>>> cfg = load_config("method: random\\nparameters: {lr: {min: 1e-4, max: 0.1}}")
>>> cfg["parameters"]["lr"]
{'distribution': 'uniform', 'min': 0.0001, 'max': 0.1}

Validation is the JSON Schema (``config_schema.py``: ``schema.json`` plus the registered search
methods and stopping rules) run with ``jsonschema``, then the checks a schema cannot say (min < max, probabilities, grid needs
discrete parameters, bayes needs a metric, ...: each method's and rule's ``problems``). Every problem is reported at once in one
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
- ``early_terminate: {type: median, min_iter: 3, min_runs: 3}`` (median stopping) is accepted
  besides W&B's hyperband.
- A parameter that matches no form gets ONE message saying what is wrong with it, not W&B's
  "is not valid under any of the given schemas".
- Defaults are filled for every parameter at every depth and for ``metric`` (W&B's
  ``SweepConfig`` leaves nested parameters and the metric unfilled).
- YAML: ``1e-5``, ``1E5``, ``-2e-3`` are floats (PyYAML reads them as strings); dates stay
  strings; values that are not JSON (``!!binary``, ``!!set``, Python objects in a dict) are
  errors, because a config must be storable as JSON. A duplicate key is an error naming both
  lines (PyYAML keeps the last), and aliases may add at most 10,000 values ("billion laughs").
- Every number is bounded so that a config that loads can be run: integers must fit a float;
  a parameter's values stay within ±1e300 (``e^max`` of ``log_uniform``, ``e^(mu + 7·sigma)``
  of ``log_normal`` and ``value / q`` included); int_uniform bounds within ±2**53; hyperband
  ``min_iter``/``max_iter`` at most 1e9, ``eta`` at most 1000, ``s`` at most 100; median counts
  whole numbers up to 1e9; ``run_cap`` at most 1e9; ``seed`` below 2**64; a finite
  ``metric.target``; ``command`` items are strings, numbers or booleans.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sweepnb.engine import search, stopping
from sweepnb.engine.config_params import DEPRECATED_DISTRIBUTIONS, _Walk, infer_distribution
from sweepnb.engine.config_schema import (
    DISTRIBUTIONS,
    SCHEMA_PATH,
    _defaults,
    _definition,
    _did_you_mean,
    _key_path,
    _outline_validator,
    _short,
    _value_problem,
    schema,
)
from sweepnb.engine.config_yaml import is_file_source, parse_yaml, read_source, to_yaml
from sweepnb.errors import ConfigError, SweepnbWarning

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "DEPRECATED_DISTRIBUTIONS",
    "DISTRIBUTIONS",
    "SCHEMA_PATH",
    "infer_distribution",
    "load_config",
    "parse_yaml",
    "schema",
    "to_yaml",
]


# ----------------------------------------------------------------------------------------------
# Plain JSON data

_FLOAT_MAX = sys.float_info.max


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
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
        # repr of an int past 4300 digits raises, so say how long it is
        digits = int(value.bit_length() * math.log10(2)) + 1
        errors.append(
            f"{_key_path(path)}: an integer of about {digits} digits is too large "
            f"(a number must fit a float: within ±{_FLOAT_MAX:.3g})"
        )
        return None
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
        needs = ", or ".join(" and ".join(alt["required"]) for alt in err.validator_value)
        return [f"{where}: {err.instance.get('type')} needs {needs}"]
    if rule == "type" and path == ("early_terminate",):
        return [f"{where}: must be a mapping with a type, e.g. {{type: hyperband, min_iter: 3}}"]
    if rule == "enum" and path == ("method",) and err.instance == "custom":
        return [
            f"{where}: 'custom' (W&B Launch schedulers) is not supported; use grid, random or bayes"
        ]
    return [f"{where}: {_value_problem(err)}"]


# ----------------------------------------------------------------------------------------------
# Checks across sections: each registered method and rule checks what it needs


def _method_problems(cfg: dict[str, Any], walk: _Walk) -> list[str]:
    if not isinstance(cfg.get("method"), str) or cfg["method"] not in search.METHODS:
        return []  # the schema's enum already said so
    return search.describe(cfg["method"]).problems(cfg, walk.leaves)


def _metric_problems(cfg: dict[str, Any]) -> list[str]:
    metric = cfg.get("metric")
    target = metric.get("target") if isinstance(metric, dict) else None
    if isinstance(target, float) and not math.isfinite(target):
        return [f"metric.target: {target} is not a finite number"]
    return []


def _early_terminate_problems(cfg: dict[str, Any]) -> list[str]:
    settings = cfg.get("early_terminate")
    if settings is None:
        return []
    problems = []
    if "metric" not in cfg:
        problems.append("early_terminate: needs a metric (its logged history is what is compared)")
    rule = stopping.configured(cfg)
    if rule is not None:
        problems += rule.problems(settings, cfg)
    return problems


# ----------------------------------------------------------------------------------------------
# Filling defaults outside parameters


def _fill_sections(cfg: dict[str, Any]) -> None:
    if isinstance(cfg.get("metric"), dict):
        for key, value in _defaults(_definition("metric")).items():
            cfg["metric"].setdefault(key, value)
    rule = stopping.configured(cfg)
    if rule is not None:  # only the named rule's own defaults
        for key, value in rule.defaults.items():
            cfg["early_terminate"].setdefault(key, value)


# ----------------------------------------------------------------------------------------------
# Entry point


def load_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """Read, validate and complete a sweep config; returns a new plain dict.

    ``source`` is a dict, YAML text, or a path (``str`` or ``Path``) to a ``.yaml``/``.yml``/
    ``.json`` file. Every parameter (at every depth) gets its ``distribution`` and that
    distribution's defaults; ``metric`` gets goal/impute/impute_while_running; ``early_terminate`` gets its
    rule's defaults (hyperband: ``eta: 3`` and ``strict: true``). Raises :class:`ConfigError`
    listing every problem, and nothing else on any input.

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
    problems += _method_problems(cfg, walk) + _metric_problems(cfg)
    problems += _early_terminate_problems(cfg)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    _fill_sections(cfg)
    return cfg, walk.warnings
