"""Hyperband early termination with W&B's arithmetic (reference §3).

An *iteration* is one logged value of the metric (rows without it, and NaN, do not count).
Bands come from ``min_iter`` (``int(min_iter * eta**k)``, k = 0..99) or from ``max_iter`` and
``s`` (divide ``max_iter`` by ``eta`` up to ``s`` times, keep ``int`` of each value >= 1).
At band ``b`` the threshold is the value at the ``1/eta`` quantile of every run's ``b``-th
value (runs in any state). A running run is judged at its closest band (the largest band it
has reached): strict compares its ``b``-th value, non-strict its best value so far; it is
stopped only when strictly worse than the threshold.

>>> settings = {"type": "hyperband", "max_iter": 81, "s": 3, "eta": 3}
>>> bands(settings)
[3, 9, 27]
"""

from __future__ import annotations

import math
from numbers import Real

from sweepnb.engine.stopping.rule import Field, Metric, is_running, schema_defaults
from sweepnb.errors import ConfigError

NAME = "hyperband"
#: The largest min_iter and max_iter (logged values of the metric), eta and s: bands and bracket
#: counts stay small and every computation on them finite.
MAX_ITER = 10**9
MAX_ETA = 1000
MAX_S = 100
SCHEMA = {
    "type": "object",
    "description": "Hyperband early termination: give min_iter, or max_iter and s.",
    "required": ["type"],
    "anyOf": [{"required": ["min_iter"]}, {"required": ["max_iter", "s"]}],
    "properties": {
        "type": {"type": "string", "enum": [NAME]},
        "max_iter": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ITER,
            "description": "Last bracket; brackets are max_iter / eta^k, k = 1..s.",
        },
        "min_iter": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ITER,
            "description": "First bracket; brackets are min_iter * eta^k.",
        },
        "s": {
            "type": "number",
            "maximum": MAX_S,
            "description": "Number of brackets below max_iter.",
        },
        "eta": {"type": "number", "exclusiveMinimum": 1, "maximum": MAX_ETA, "default": 3},
        "strict": {
            "type": "boolean",
            "default": True,
            "description": "Compare a run's value at the bracket (true) or its best so far (false).",
        },
    },
    "additionalProperties": False,
}
DEFAULTS = schema_defaults(SCHEMA)
FIELDS = (
    Field("min_iter", "int", 3, "first band, in logged values of the metric"),
    Field("eta", "number", 3, "bands grow by this factor; the worst 1 - 1/eta stop at each"),
)
X_AXIS = "iteration"  # bands count logged values of the metric
MIN_ITER_BANDS = 100  # W&B computes this many bands in the min_iter form
EMPTY_BANDS = (
    "early_terminate: Bands must be an array of length at least 1. "
    "Try increasing s, decreasing eta, or increasing min_iter."
)


def decide(settings: dict, metric: Metric, runs: list[dict]) -> dict[str, dict]:
    """The running runs to stop, each with its reason (see ``sweepnb.engine.stopping.rule``).

    >>> runs = [{"id": "a", "state": "finished", "history": [{"loss": 1}, {"loss": 1}]},
    ...         {"id": "b", "state": "running", "history": [{"loss": 9}, {"loss": 9}]}]
    >>> decide({"type": "hyperband", "min_iter": 2}, Metric("loss"), runs)["b"]["message"]
    'Band 2: value 9 > threshold 1'
    """
    settings = filled(settings)
    eta, strict = settings["eta"], settings["strict"]
    histories = {i: metric.history(run) for i, run in enumerate(runs)}
    longest = max((len(h) for h in histories.values()), default=0)
    reachable = [b for b in bands(settings) if b <= longest]
    thresholds = band_thresholds(reachable, list(histories.values()), eta)

    decisions: dict[str, dict] = {}
    for i, run in enumerate(runs):
        if not is_running(run):
            continue
        history = histories[i]
        at = closest_band(reachable, len(history))
        if at is None:
            continue
        band, threshold = reachable[at], thresholds[at]
        value = history[band - 1] if strict else min(history)
        if value > threshold:
            decisions[run["id"]] = _reason(metric, band, threshold, value)
    return decisions


def checkpoints(settings: dict) -> list[int]:
    """The bands: a run is judged as soon as it logs its band-th value."""
    return bands(settings)


def chart_lines(settings: dict) -> list[int]:
    """The learning curves mark the bands."""
    return bands(settings)


def problems(settings: dict, cfg: dict) -> list[str]:
    """Settings a schema cannot check: finite s/eta, whole s, a max_iter/s/eta with a bracket."""
    out = [
        f"early_terminate.{key}: {settings[key]} is not a finite number"
        for key in ("s", "eta")
        if isinstance(settings.get(key), float) and not math.isfinite(settings[key])
    ]
    if out or not all(_is_number(settings.get(k)) for k in ("max_iter", "s")):
        return out
    s, max_iter, eta = settings["s"], settings["max_iter"], settings.get("eta", 3)
    if s != int(s):
        out.append(f"early_terminate.s: {s} is not a whole number")
    elif _is_number(eta) and eta > 1 and not (s >= 1 and max_iter / eta >= 1):
        out.append(
            f"early_terminate: max_iter {max_iter} with s {s} and eta {eta:g} gives no bracket "
            "(need s >= 1 and max_iter / eta >= 1)"
        )
    return out


def filled(settings: dict) -> dict:
    """``settings`` with eta 3 / strict true filled in, checked; raises ConfigError naming the key."""
    out = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    errors = []
    eta = out["eta"]
    if not _is_number(eta) or not eta > 1 or not math.isfinite(eta):
        errors.append(f"early_terminate.eta: must be a number greater than 1, got {eta!r}")
    if not isinstance(out["strict"], bool):
        errors.append(f"early_terminate.strict: must be true or false, got {out['strict']!r}")
    if _uses_max_iter(out):
        errors += _int_errors(out, "max_iter", low=1) + _int_errors(out, "s", low=0)
    elif "min_iter" in out:
        errors += _int_errors(out, "min_iter", low=1)
    else:
        errors.append("early_terminate: hyperband needs either min_iter, or max_iter and s")
    if errors:
        raise ConfigError(errors)
    return out


def bands(settings: dict) -> list[int]:
    """The bands (iteration counts at which runs are judged), ascending, as W&B computes them.

    >>> bands({"min_iter": 1, "eta": 1.5})[:6]
    [1, 1, 2, 3, 5, 7]
    """
    settings = filled(settings)
    if _uses_max_iter(settings):
        found = _max_iter_bands(int(settings["max_iter"]), int(settings["s"]), settings["eta"])
    else:
        found = _min_iter_bands(int(settings["min_iter"]), settings["eta"])
    if not found:
        raise ConfigError(EMPTY_BANDS)
    return found


def band_thresholds(bands_: list[int], histories: list[list[float]], eta: float) -> list[float]:
    """For each band b: the sorted b-th values of the histories long enough, at index int(n/eta).

    Histories are lower-is-better; a band no history reached gets +inf.

    >>> band_thresholds([1, 2], [[5.0, 4.0], [3.0, 6.0], [7.0]], eta=2)
    [5.0, 6.0]
    """
    r = 1.0 / eta
    out = []
    for band in bands_:
        values = sorted(h[band - 1] for h in histories if len(h) >= band)
        out.append(values[int(r * len(values))] if values else math.inf)
    return out


def closest_band(bands_: list[int], iterations: int) -> int | None:
    """Index of the largest band <= ``iterations`` in the ascending ``bands_``, or None."""
    at = None
    for i, band in enumerate(bands_):
        if band > iterations:
            break
        at = i
    return at


def _reason(metric: Metric, band: int, threshold: float, value: float) -> dict:
    value, threshold = metric.oriented(value), metric.oriented(threshold)
    return {
        "rule": NAME,
        "band": band,
        "threshold": threshold,
        "value": value,
        "message": f"Band {band}: value {value:.6g} {metric.worse()} threshold {threshold:.6g}",
    }


def _max_iter_bands(max_iter: int, s: int, eta: float) -> list[int]:
    found = []
    band: float = max_iter
    for _ in range(s):
        band /= eta
        if band < 1:
            break
        found.append(int(band))
    return sorted(found)


def _min_iter_bands(min_iter: int, eta: float) -> list[int]:
    found = []
    band: float = min_iter
    for _ in range(MIN_ITER_BANDS):
        if not band < math.inf:  # a huge float eta overflows long before 100 bands (an int
            break  # band never does: math.isfinite would raise on it past the float range)
        found.append(int(band))
        band *= eta
    return found


def _uses_max_iter(settings: dict) -> bool:
    # W&B: max_iter wins when both forms are given
    return "max_iter" in settings and ("s" in settings or "min_iter" not in settings)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _int_errors(settings: dict, key: str, *, low: int) -> list[str]:
    value = settings.get(key)
    if value is None:
        return [f"early_terminate.{key}: required with max_iter"]
    if not _is_number(value) or not math.isfinite(value) or value != int(value) or value < low:
        return [f"early_terminate.{key}: must be an integer >= {low}, got {value!r}"]
    return []
