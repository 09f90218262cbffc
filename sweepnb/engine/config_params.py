"""Parameter checks of a sweep config: match each parameter to its distribution form, fill its
defaults, and explain in one message why a parameter fits no form."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sweepnb.engine.config_schema import (
    _INFERABLE,
    _NAME_RE,
    _PARAMETER_KEYS,
    DISTRIBUTIONS,
    _close_match,
    _defaults,
    _definition,
    _did_you_mean,
    _form_validator,
    _key_path,
    _quoted,
    _short,
    _value_problem,
)

#: Deprecated distribution -> the one to use instead (bounds as values, not exponents).
DEPRECATED_DISTRIBUTIONS = {
    "log_uniform": "log_uniform_values",
    "q_log_uniform": "q_log_uniform_values",
    "inv_log_uniform": "inv_log_uniform_values",
}

_NUMERIC_SETTINGS = ("min", "max", "mu", "sigma", "a", "b", "q")

#: The largest magnitude a parameter's values may reach (the schema bounds each setting by it
#: too): sampling, ``value / q``, the bayes encoding and a program's argv then stay finite.
MAX_VALUE = 1e300
_LOG_MAX_VALUE = math.log(MAX_VALUE)  # 690.8: e^x for larger x passes MAX_VALUE
#: int_uniform bounds: every integer up to 2**53 is a float exactly (sampling goes through floats)
MAX_INT = 2**53
#: |ndtri(u)| where params.py clips the quantiles of normal families (u in [1e-12, 1 - 1e-12])
NORMAL_TAIL = 7.0345


@dataclass
class _Walk:
    """Collects what walking the parameters finds."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    leaves: list[tuple[tuple, str | None]] = field(default_factory=list)

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
            self.leaves.append((path, None))  # a method's checks must not judge it
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


def infer_distribution(spec: dict[str, Any]) -> str | None:
    """The distribution a parameter without ``distribution`` means (W&B's inference), or None.

    >>> infer_distribution({"min": 1, "max": 5}), infer_distribution({"min": 1, "max": 5.0})
    ('int_uniform', 'uniform')
    """
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
        form = infer_distribution(spec)
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
    return problems or _reach_problems(spec, form)


def _reach_problems(spec: dict[str, Any], form: str) -> list[str]:
    """Settings whose values (or value / q) would pass ``MAX_VALUE``: e^max, e^(mu + 7 sigma)."""
    if form == "int_uniform":
        return [
            f"{k} {spec[k]} is beyond ±2**53 (the integers sampling can reach exactly)"
            for k in ("min", "max")
            if abs(spec[k]) > MAX_INT
        ]
    base = form.removeprefix("q_")
    mu, sigma = spec.get("mu", 0.0), spec.get("sigma", 1.0)
    if base == "log_uniform" and spec["max"] > _LOG_MAX_VALUE:
        return [f"max {spec['max']} is too large: e^max overflows (keep max <= 690)"]
    if base == "inv_log_uniform" and -spec["min"] > _LOG_MAX_VALUE:
        return [f"min {spec['min']} is too small: e^-min overflows (keep min >= -690)"]
    if base == "log_normal" and mu + NORMAL_TAIL * sigma > _LOG_MAX_VALUE:
        too_large = f"mu {mu} with sigma {sigma} is too large: e^(mu + 7·sigma) overflows"
        return [f"{too_large} (keep mu + 7·sigma <= 690)"]
    if base == "normal" and abs(mu) + NORMAL_TAIL * sigma > MAX_VALUE:
        return [
            f"mu {mu} with sigma {sigma} reaches beyond ±{MAX_VALUE:g} (keep |mu| + 7·sigma below)"
        ]
    reach = _reach(spec, base, mu, sigma)
    q = spec.get("q", 1.0)
    if form.startswith("q_") and reach / q > MAX_VALUE:
        return [f"q {q} is too small for values up to {reach:.3g}: value / q overflows"]
    return []


def _reach(spec: dict[str, Any], base: str, mu: float, sigma: float) -> float:
    """The largest magnitude a (checked) distribution's values can take."""
    if base in ("beta", "categorical", "categorical_w_probabilities", "constant"):
        return 1.0
    if base == "log_uniform":
        return math.exp(spec["max"])
    if base == "inv_log_uniform":
        return math.exp(-spec["min"])
    if base == "normal":
        return abs(mu) + NORMAL_TAIL * sigma
    if base == "log_normal":
        return math.exp(mu + NORMAL_TAIL * sigma)
    return max(abs(spec["min"]), abs(spec["max"]))  # uniform and the *_values families


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _probability_problems(values: list, probabilities: list) -> list[str]:
    if len(values) != len(probabilities):
        return [f"{len(values)} values but {len(probabilities)} probabilities (need one each)"]
    if any(_non_finite(p) for p in probabilities):
        return [f"probabilities {_short(probabilities)} are not all finite numbers"]
    try:
        total = math.fsum(probabilities)
    except OverflowError:  # e.g. [1e308, 1e308]
        return [f"probabilities {_short(probabilities)} sum to more than any float, not 1"]
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
