"""What the interactive dashboard keeps: its axes, the brush on them, and which runs are inside.

The browser applies the same rule to draw (``static/dashboard.js``); Python applies it here for
``Dashboard.selected`` and ``Dashboard.select(...)``, so the table a user sees and the DataFrame
the kernel hands back are the same runs:

- a numeric axis (linear or log) keeps runs whose value is in ``[lo, hi]`` (both included);
- a categorical axis keeps runs whose value's label is one of the listed labels;
- a run without a value on a brushed axis is left out; several brushed axes combine (and);
- with no brush every run is kept; with one, the pinned runs are kept even outside it.

>>> axes = brush_axes(df, cfg)
>>> brush = check_brush({"lr": (1e-4, 1e-2), "optimizer": "adam"}, axes)
>>> df[inside(df, brush, axes)]              # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sweepnb.analysis.importance import metric_of, swept_params
from sweepnb.analysis.labels import value_label
from sweepnb.errors import SweepnbError


@dataclass
class BrushAxis:
    """One axis of the parallel coordinates, in raw values (the browser maps them to pixels)."""

    name: str
    kind: str  # "linear" | "log" | "categorical"
    lo: float | None = None  # numeric: the smallest and largest value seen (None: no value yet)
    hi: float | None = None
    categories: list[str] = field(default_factory=list)  # categorical: labels, config's order
    metric: bool = False  # the last axis: the sweep's metric

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "lo": self.lo,
            "hi": self.hi,
            "categories": self.categories,
            "metric": self.metric,
        }


def _categories(column: pd.Series, declared: tuple) -> list[str]:
    labels = list(dict.fromkeys(value_label(v) for v in declared))
    seen = {value_label(v) for v in column if not _missing(v)}
    return labels + sorted(seen - set(labels))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _numeric_axis(name: str, kind: str, column: pd.Series, metric: bool = False) -> BrushAxis:
    v = _numbers(column)
    v = v[np.isfinite(v) & (v > 0)] if kind == "log" else v[np.isfinite(v)]
    if not len(v):
        return BrushAxis(name, kind, metric=metric)
    return BrushAxis(name, kind, float(v.min()), float(v.max()), metric=metric)


def brush_axes(df: pd.DataFrame, cfg: dict) -> list[BrushAxis]:
    """One axis per swept parameter (the config's order), then the metric (when there is one)."""
    axes = []
    for param in swept_params(df, cfg):
        if param.kind == "categorical":
            labels = _categories(df[param.name], param.values)
            axes.append(BrushAxis(param.name, "categorical", categories=labels))
        else:
            axes.append(_numeric_axis(param.name, param.kind, df[param.name]))
    try:
        metric, _ = metric_of(cfg)
    except ValueError:
        return axes
    column = df[metric] if metric in df.columns else pd.Series(np.nan, index=df.index)
    axes.append(_numeric_axis(metric, "linear", column, metric=True))
    return axes


def check_brush(brush: dict, axes: list[BrushAxis]) -> dict[str, list]:
    """``brush`` (axis name -> a (lo, hi) range, a category or a list of categories, None to
    clear) checked against ``axes`` and put in the form the widget syncs: ``{name: [lo, hi]}``
    for a numeric axis, ``{name: [label, ...]}`` for a categorical one.

    Raises SweepnbError naming the axis: an unknown name (the real ones listed), a range on a
    categorical axis or an unknown category (the allowed values listed), a bad range.
    """
    by_name = {axis.name: axis for axis in axes}
    out: dict[str, list] = {}
    for name, value in brush.items():
        axis = by_name.get(name)
        if axis is None:
            known = ", ".join(by_name) or "(none yet: no run has a value)"
            raise SweepnbError(f"select: no axis {name!r}; the dashboard's axes are: {known}")
        if value is None:
            continue
        out[name] = _categorical(axis, value) if axis.kind == "categorical" else _range(axis, value)
    return out


def _categorical(axis: BrushAxis, value: Any) -> list[str]:
    allowed = ", ".join(axis.categories)
    values = list(value) if isinstance(value, (list, set, frozenset)) else [value]
    if isinstance(value, tuple):
        raise SweepnbError(
            f"select: {axis.name} is categorical, a range {value!r} does not apply; give one "
            f"value or a list of values out of: {allowed}"
        )
    labels = [value_label(v) for v in values]
    unknown = [lab for lab in labels if lab not in axis.categories]
    if unknown:
        raise SweepnbError(
            f"select: {axis.name} has no value {unknown[0]!r}; its values are: {allowed}"
        )
    if not labels:
        raise SweepnbError(
            f"select: {axis.name}: an empty list keeps no run; give values of: {allowed}"
        )
    return list(dict.fromkeys(labels))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _range(axis: BrushAxis, value: Any) -> list[float]:
    if _is_number(value):
        value = (value, value)
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise SweepnbError(
            f"select: {axis.name} is numeric: give a (low, high) range or one number, got {value!r}"
        )
    lo, hi = value
    if not (_is_number(lo) and _is_number(hi)) or not (math.isfinite(lo) and math.isfinite(hi)):
        raise SweepnbError(f"select: {axis.name}: the range's ends must be numbers, got {value!r}")
    if lo > hi:
        raise SweepnbError(f"select: {axis.name}: low {lo!r} is above high {hi!r}")
    if axis.kind == "log" and hi <= 0:
        raise SweepnbError(f"select: {axis.name} is on a log axis: the range must reach above 0")
    return [float(lo), float(hi)]


def inside(df: pd.DataFrame, brush: dict[str, list], axes: list[BrushAxis]) -> np.ndarray:
    """A boolean mask of the runs of ``df`` that the (checked) ``brush`` keeps."""
    keep = np.ones(len(df), dtype=bool)
    kinds = {axis.name: axis.kind for axis in axes}
    for name, rule in brush.items():
        if name not in df.columns:
            keep &= False
            continue
        column = df[name]
        if kinds.get(name) == "categorical":
            wanted = set(rule)
            keep &= np.array([not _missing(v) and value_label(v) in wanted for v in column])
        else:
            v = _numbers(column)
            with np.errstate(invalid="ignore"):
                keep &= np.isfinite(v) & (v >= rule[0]) & (v <= rule[1])
    return keep


def kept(
    df: pd.DataFrame, brush: dict[str, list], axes: list[BrushAxis], pinned: list
) -> pd.DataFrame:
    """The rows of ``df`` the dashboard keeps: every row with no brush, else those inside the
    brush plus the pinned runs."""
    if not brush:
        return df
    mask = inside(df, brush, axes) | df["id"].isin(list(pinned)).to_numpy()
    return df[mask]
