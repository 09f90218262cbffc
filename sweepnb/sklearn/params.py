"""Turn what scikit-learn users pass as a search space into W&B ``parameters``, and back.

A space is a scikit-learn grid (``{"C": [1, 10]}`` or a list of such dicts), scipy.stats
distributions as ``RandomizedSearchCV`` takes them, W&B ``parameters`` (any distribution,
nesting), or a whole sweep config. :func:`to_parameters` returns the W&B ``parameters`` for the
sweep and a :class:`Decoder` that turns a run's config back into ``set_params`` keywords.

    >>> parameters, decoder = to_parameters({"svc__C": [1, 10], "svc__kernel": ["rbf"]})
    >>> parameters["svc__C"]
    {'values': [1, 10]}
    >>> decoder.decode({"svc__C": 10, "svc__kernel": "rbf"})
    {'svc__C': 10, 'svc__kernel': 'rbf'}

Mapping rules (documented in the README):

- a list of plain values (numbers, strings, bools, None) is a W&B ``values`` list; a list holding
  other objects (estimators, callables) becomes string labels (their repr) mapped back on decode;
- ``loguniform(a, b)`` -> ``log_uniform_values``, ``uniform(loc, scale)`` -> ``uniform``,
  ``randint(low, high)`` -> ``int_uniform`` (``max = high - 1``); any other frozen distribution is
  searched through its quantile: a ``uniform`` on [QUANTILE_LOW, QUANTILE_HIGH] that the decoder
  turns into ``dist.ppf(q)``;
- W&B nested ``parameters`` map to scikit-learn's ``outer__inner`` names (pipeline steps);
- a list of several grids becomes one categorical ``candidate`` whose values label each point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

QUANTILE_LOW, QUANTILE_HIGH = 1e-6, 1 - 1e-6  # ppf(0) and ppf(1) are often infinite
CANDIDATE = "candidate"  # the one parameter that encodes a list of several grids
SPEC_KEYS = {"values", "value", "distribution", "min", "max", "mu", "sigma", "q", "parameters"}
SPEC_KEYS |= {"probabilities", "a", "b"}
CONFIG_KEYS = {"method", "parameters", "metric", "early_terminate", "run_cap"}


def is_whole_config(params: Any) -> bool:
    """True for a whole sweep config (it has ``parameters`` or ``method`` at the top)."""
    return (
        isinstance(params, Mapping)
        and bool(CONFIG_KEYS & set(params))
        and ("parameters" in params and isinstance(params["parameters"], Mapping))
    )


def to_parameters(params: Any) -> tuple[dict, Decoder]:
    """W&B ``parameters`` and the decoder for ``params`` (see the module docstring).

    Raises ``ValueError`` or ``TypeError`` naming the entry at fault.

    >>> from scipy.stats import loguniform
    >>> to_parameters({"C": loguniform(1e-2, 1e2)})[0]
    {'C': {'distribution': 'log_uniform_values', 'min': 0.01, 'max': 100.0}}
    """
    if is_whole_config(params):
        return _wandb_parameters(params["parameters"], "params['parameters']")
    if isinstance(params, Mapping):
        return _grid(params, "params")
    if isinstance(params, Sequence) and not isinstance(params, str):
        grids = list(params)
        if not grids or not all(isinstance(g, Mapping) for g in grids):
            raise TypeError(f"params: expected a dict or a list of dicts, got {params!r}")
        if len(grids) == 1:
            return _grid(grids[0], "params[0]")
        return _several_grids(grids)
    raise TypeError(f"params: expected a dict or a list of dicts, got {type(params).__name__}")


class Decoder:
    """Turns a run's config (W&B names and values) into scikit-learn ``set_params`` keywords."""

    def __init__(self) -> None:
        self.labels: dict[str, dict[str, Any]] = {}  # name -> {label: object}
        self.quantiles: dict[str, Any] = {}  # name -> frozen scipy distribution
        self.nested: dict[str, Decoder] = {}  # name -> decoder of its nested parameters
        self.candidates: dict[str, dict] | None = None  # label -> point (several grids)

    def decode(self, config: Mapping) -> dict:
        """The scikit-learn parameters of one run's config."""
        out: dict[str, Any] = {}
        for name, value in config.items():
            if self.candidates is not None and name == CANDIDATE:
                out.update(self.candidates[value])
            elif name in self.nested and isinstance(value, Mapping):
                inner = self.nested[name].decode(value)
                out.update({f"{name}__{key}": val for key, val in inner.items()})
            elif name in self.labels:
                out[name] = self.labels[name][value]
            elif name in self.quantiles:
                out[name] = _ppf(self.quantiles[name], value)
            else:
                out[name] = value
        return out

    def names(self, parameters: Mapping) -> list[str]:
        """Every scikit-learn parameter name the space can set (for the check before fit)."""
        if self.candidates is not None:
            return sorted({key for point in self.candidates.values() for key in point})
        out = []
        for name, spec in parameters.items():
            if name in self.nested:
                inner = self.nested[name].names(spec["parameters"])
                out += [f"{name}__{key}" for key in inner]
            else:
                out.append(name)
        return out


def check_names(estimator: Any, names: list[str], swept: set[str] | None = None) -> None:
    """Raise ``ValueError`` naming the first parameter ``estimator`` does not have.

    A name under a swept parameter (``clf__C`` while ``clf`` itself is searched) is not checked:
    it belongs to an estimator that only exists once the run sets it.

    >>> from sklearn.svm import SVC
    >>> check_names(SVC(), ["gamma", "Cx"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: params: invalid parameter 'Cx' for estimator SVC(). Valid parameters are: [...].
    """
    valid = set(estimator.get_params(deep=True))
    swept = set(names) if swept is None else swept
    for name in names:
        if name in valid:
            continue
        parts = name.split("__")
        if any("__".join(parts[:i]) in swept for i in range(1, len(parts))):
            continue
        raise ValueError(
            f"params: invalid parameter {name!r} for estimator {estimator!r}. "
            f"Valid parameters are: {_short_list(valid)}."
        )


def _short_list(valid: set[str]) -> str:
    names = sorted(valid)
    if len(names) > 40:  # a deep pipeline lists hundreds; the first ones show the shape
        return repr(names[:40])[:-1] + ", ...]"
    return repr(names)


# ---------------------------------------------------------------------------------------------
# One grid or distributions dict
# ---------------------------------------------------------------------------------------------


def _grid(grid: Mapping, where: str) -> tuple[dict, Decoder]:
    decoder = Decoder()
    parameters: dict[str, dict] = {}
    for name, value in grid.items():
        if not isinstance(name, str):
            raise TypeError(f"{where}: parameter names must be strings, got {name!r}")
        at = f"{where}[{name!r}]"
        if isinstance(value, Mapping):
            parameters[name] = _wandb_spec(name, value, at, decoder)
        elif _is_distribution(value):
            parameters[name] = _distribution(name, value, decoder)
        elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            parameters[name] = _values(name, list(value), at, decoder)
        else:
            raise TypeError(
                f"{at}: expected a list of values, a scipy.stats distribution or a W&B "
                f"parameter spec (a dict), got {value!r}"
            )
    if not parameters:
        raise ValueError(f"{where}: the search space is empty")
    return parameters, decoder


def _values(name: str, values: list, at: str, decoder: Decoder) -> dict:
    if not values:
        raise ValueError(f"{at}: the list of values is empty")
    plain = [_plain(v) for v in values]
    if all(p is not _NOT_PLAIN for p in plain):
        return {"values": plain}
    labels = _labels(values)
    decoder.labels[name] = dict(zip(labels, values, strict=True))
    return {"values": labels}


def _wandb_parameters(parameters: Mapping, where: str) -> tuple[dict, Decoder]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError(f"{where}: expected a non-empty dict of W&B parameters")
    decoder = Decoder()
    out = {}
    for name, spec in parameters.items():
        at = f"{where}[{name!r}]"
        if not isinstance(spec, Mapping):
            raise TypeError(f"{at}: a W&B parameter is a dict (values, min/max...), got {spec!r}")
        out[name] = _wandb_spec(name, spec, at, decoder)
    return out, decoder


def _wandb_spec(name: str, spec: Mapping, at: str, decoder: Decoder) -> dict:
    if not set(spec) & SPEC_KEYS:
        raise ValueError(
            f"{at}: not a W&B parameter spec (expected keys among {sorted(SPEC_KEYS)}), "
            f"got keys {sorted(spec)}"
        )
    if "parameters" in spec:
        inner, sub = _wandb_parameters(spec["parameters"], f"{at}['parameters']")
        decoder.nested[name] = sub
        return {**spec, "parameters": inner}
    return dict(spec)


# ---------------------------------------------------------------------------------------------
# scipy.stats distributions
# ---------------------------------------------------------------------------------------------


def _is_distribution(value: Any) -> bool:
    return hasattr(value, "rvs") and hasattr(value, "ppf") and hasattr(value, "dist")


def _distribution(name: str, dist: Any, decoder: Decoder) -> dict:
    family = getattr(dist.dist, "name", "")
    low, high = (float(v) for v in dist.support())
    kwds = getattr(dist, "kwds", {}) or {}
    plain_scale = float(kwds.get("loc", 0)) == 0 and float(kwds.get("scale", 1)) == 1
    if family in ("loguniform", "reciprocal") and plain_scale:
        return {"distribution": "log_uniform_values", "min": low, "max": high}
    if family == "uniform":
        return {"distribution": "uniform", "min": low, "max": high}
    if family == "randint":
        return {"distribution": "int_uniform", "min": int(low), "max": int(high)}
    decoder.quantiles[name] = dist
    return {"distribution": "uniform", "min": QUANTILE_LOW, "max": QUANTILE_HIGH}


def _ppf(dist: Any, q: float) -> Any:
    value = dist.ppf(min(max(float(q), QUANTILE_LOW), QUANTILE_HIGH))
    if hasattr(dist.dist, "pmf"):  # a discrete distribution gives whole numbers
        return int(value)
    return float(value)


# ---------------------------------------------------------------------------------------------
# Several grids: one categorical whose values label each grid point
# ---------------------------------------------------------------------------------------------


def _several_grids(grids: list[Mapping]) -> tuple[dict, Decoder]:
    from sklearn.model_selection import ParameterGrid

    for i, grid in enumerate(grids):
        for name, value in grid.items():
            if _is_distribution(value) or isinstance(value, Mapping):
                raise ValueError(
                    f"params[{i}][{name!r}]: a list of several dicts must hold lists of values "
                    "(grids); distributions need a single dict or W&B parameters"
                )
            if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray)):
                raise TypeError(f"params[{i}][{name!r}]: expected a list of values, got {value!r}")
    points = list(ParameterGrid(list(grids)))
    labels = _labels(points, describe=_describe_point)
    decoder = Decoder()
    decoder.candidates = dict(zip(labels, points, strict=True))
    return {CANDIDATE: {"values": labels}}, decoder


def _describe_point(point: Mapping) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in sorted(point.items()))


_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """The JSON-plain form of a value, or ``_NOT_PLAIN`` (estimators, callables...)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _NOT_PLAIN


def _labels(values: list, describe: Any = repr) -> list[str]:
    """A distinct string label for each value (its description, numbered when repeated)."""
    labels: list[str] = []
    for value in values:
        label = describe(value)
        if label in labels:
            label = f"{label} #{len(labels)}"
        labels.append(label)
    return labels
