"""Which parameters matter: W&B's parameter-importance panel computed from the runs DataFrame.

Importance: a random forest predicts the metric from the swept parameters (categoricals one-hot
encoded, the one-hot importances summed back per parameter), its impurity importances normalised to
sum 1. Correlation: Pearson's r between each parameter (log10 of it for log distributions) and the
metric; for a categorical, the value whose indicator correlates most strongly ("optimizer=sgd").

    >>> imp = importance_data(sweepnb.runs(sweep_id), cfg)
    >>> imp.to_frame()          # parameter, importance, correlation, correlation_of
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sweepnb.analysis.labels import value_label as _label
from sweepnb.engine.metric import Metric
from sweepnb.engine.params import CATEGORICAL_DISTRIBUTIONS as CATEGORICAL


@dataclass(frozen=True)
class SweptParam:
    """A swept (non-constant) parameter present in the runs frame, as the charts see it."""

    name: str  # dotted column name
    kind: str  # "linear" | "log" | "categorical"
    values: tuple  # the config's categorical values, in order (empty otherwise)


def metric_of(cfg: dict, metric: str | None = None) -> tuple[str, str]:
    """The metric name and goal to chart: ``metric`` if given, else the config's ``metric.name``."""
    if not isinstance(cfg, dict):
        raise TypeError(f"cfg: expected the loaded sweep config (a dict), got {type(cfg).__name__}")
    declared = Metric.of(cfg)
    name = metric or (declared.name if declared else None)
    if not name:
        raise ValueError("metric: the sweep config has no metric.name; pass metric='...'")
    goal = declared.goal if declared and name == declared.name else "minimize"
    if goal not in ("minimize", "maximize"):
        raise ValueError(f"metric.goal: expected 'minimize' or 'maximize', got {goal!r}")
    return str(name), goal


def _is_numeric(column: pd.Series) -> bool:
    present = column.dropna()
    return len(present) > 0 and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
        for v in present
    )


def swept_params(df: pd.DataFrame, cfg: dict) -> list[SweptParam]:
    """The config's non-constant parameters that have a column in ``df``, in the config's order.

    A numeric distribution whose column holds non-numbers is treated as categorical.
    """
    from sweepnb.engine.params import flatten

    out = []
    for param in flatten(cfg):
        if param.is_constant or param.name not in df.columns:
            continue
        spec = getattr(param, "spec", None) or {}
        declared = tuple(spec.get("values") or ())
        if param.distribution in CATEGORICAL or not _is_numeric(df[param.name]):
            out.append(SweptParam(param.name, "categorical", declared))
        else:
            out.append(SweptParam(param.name, "log" if param.is_log else "linear", ()))
    return out


@dataclass
class ImportanceData:
    """Importance and correlation per swept parameter, most important first."""

    metric: str
    goal: str
    names: list[str]
    importance: np.ndarray  # sums to 1; all NaN with fewer than min_runs runs
    correlation: np.ndarray  # Pearson r in [-1, 1]; NaN where undefined (a constant column)
    correlation_labels: list[str]  # what each correlation is of: "lr" or "optimizer=sgd"
    n_runs: int
    min_runs: int

    def to_frame(self) -> pd.DataFrame:
        """The panel as a table: parameter, importance, correlation, correlation_of."""
        return pd.DataFrame(
            {
                "parameter": self.names,
                "importance": self.importance,
                "correlation": self.correlation,
                "correlation_of": self.correlation_labels,
            }
        )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))


def _numeric_feature(param: SweptParam, column: pd.Series) -> np.ndarray:
    v = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    if param.kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
    return v


def _encode(params: list[SweptParam], runs: pd.DataFrame):
    """Feature matrix, the parameter index of each feature column, and each feature's label."""
    columns, owner, labels = [], [], []
    for i, param in enumerate(params):
        if param.kind == "categorical":
            seen = runs[param.name].map(lambda v: None if _missing(v) else _label(v))
            for value in sorted(seen.dropna().unique()):
                columns.append((seen == value).to_numpy(dtype=float))
                owner.append(i)
                labels.append(f"{param.name}={value}")
        else:
            v = _numeric_feature(param, runs[param.name])
            fill = np.nanmedian(v) if np.isfinite(v).any() else 0.0
            columns.append(np.where(np.isfinite(v), v, fill))
            owner.append(i)
            labels.append(param.name)
    features = np.column_stack(columns) if columns else np.empty((len(runs), 0))
    return features, np.array(owner, dtype=int), labels


def _correlations(n: int, features, owner, labels, y) -> tuple[np.ndarray, list[str]]:
    corr, corr_labels = np.full(n, np.nan), [""] * n
    for j in range(features.shape[1]):
        r, i = _pearson(features[:, j], y), owner[j]
        if not corr_labels[i] or (math.isfinite(r) and not abs(r) <= abs(np.nan_to_num(corr[i]))):
            corr[i], corr_labels[i] = r, labels[j]
    return corr, corr_labels


def _forest_importance(
    n: int, features, owner, y, n_estimators: int, seed: int, max_samples: int | None
) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    if features.shape[1] == 0 or np.ptp(y) == 0:
        return np.full(n, np.nan) if np.ptp(y) == 0 else np.zeros(n)
    forest = RandomForestRegressor(
        n_estimators=n_estimators,
        random_state=seed,
        n_jobs=1,
        max_samples=None if max_samples is None or max_samples >= len(y) else max_samples,
    )
    forest.fit(features, y)
    summed = np.bincount(owner, weights=forest.feature_importances_, minlength=n)
    total = summed.sum()
    return summed / total if total > 0 else summed


def importance_data(
    df: pd.DataFrame,
    cfg: dict,
    *,
    metric: str | None = None,
    min_runs: int = 5,
    n_estimators: int = 50,
    seed: int = 0,
    max_samples: int | None = None,
) -> ImportanceData:
    """Importance (random forest) and correlation (Pearson) of each swept parameter for the metric.

    Runs without a metric value are left out. Below ``min_runs`` such runs the importances are NaN
    (a forest on a handful of points ranks noise); correlations need two runs. ``max_samples``:
    each tree is fitted on a bootstrap sample of at most that many runs (None: as many as there
    are runs), which bounds the forest's time on large sweeps.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"df: expected the runs DataFrame (sweepnb.runs(id)), got {type(df).__name__}"
        )
    if min_runs < 2:
        raise ValueError(f"min_runs: must be at least 2, got {min_runs}")
    if max_samples is not None and (
        not isinstance(max_samples, int) or isinstance(max_samples, bool) or max_samples < 2
    ):
        raise ValueError(f"max_samples: must be an int of at least 2 or None, got {max_samples!r}")
    metric, goal = metric_of(cfg, metric)
    y_all = (
        pd.to_numeric(df[metric], errors="coerce").to_numpy(dtype=float)
        if metric in df.columns
        else np.full(len(df), np.nan)
    )
    runs, y = df[np.isfinite(y_all)], y_all[np.isfinite(y_all)]
    params = swept_params(df, cfg)
    n = len(params)
    features, owner, labels = _encode(params, runs)
    corr, corr_labels = _correlations(n, features, owner, labels, y)
    corr_labels = [lab or p.name for lab, p in zip(corr_labels, params)]
    imp = (
        _forest_importance(n, features, owner, y, n_estimators, seed, max_samples)
        if len(y) >= min_runs
        else np.full(n, np.nan)
    )
    order = sorted(
        range(n), key=lambda i: (-np.nan_to_num(imp[i], nan=-1.0), -abs(np.nan_to_num(corr[i])))
    )
    return ImportanceData(
        metric=metric,
        goal=goal,
        names=[params[i].name for i in order],
        importance=imp[order] if n else imp,
        correlation=corr[order] if n else corr,
        correlation_labels=[corr_labels[i] for i in order],
        n_runs=len(y),
        min_runs=min_runs,
    )


def _trend(label: str, r: float, metric: str, goal: str) -> str:
    """How the metric moved with ``label``, in words (``label`` is "lr" or "optimizer=sgd")."""
    if "=" in label:
        subject, change = f"Runs with {label}", "than the others"
    else:
        subject, change = f"Runs with a higher {label}", ""
    direction = "higher" if r > 0 else "lower"
    good = (r > 0) == (goal == "maximize")
    verdict = "better" if good else "worse"
    return (
        f"{subject} had a {direction} {metric}{' ' + change if change else ''} "
        f"(correlation {r:+.2f}); {'higher' if goal == 'maximize' else 'lower'} is better here, "
        f"so that was {verdict}."
    )


def explain(data: ImportanceData) -> list[str]:
    """One sentence per bar of the importance panel, in the order of ``data.names``, for a
    reader who has not met random forests or correlations.

    >>> explain(importance_data(df, cfg))[0]             # doctest: +SKIP
    'lr carries 62% of what the forest learned about loss. Runs with a higher lr had a lower ...'
    """
    out = []
    for name, imp, r, label in zip(
        data.names, data.importance, data.correlation, data.correlation_labels
    ):
        if np.isnan(imp):
            first = (
                f"Too few runs with a {data.metric} yet ({data.n_runs} of the {data.min_runs} "
                f"needed) to say how much {name} matters."
            )
        else:
            first = (
                f"{name} carries {imp:.0%} of what a random forest learned about how "
                f"{data.metric} depends on the parameters."
            )
        if data.n_runs < 2:
            second = ""
        elif np.isnan(r):
            second = f"{name} did not vary among these runs, so there is no trend to read."
        elif abs(r) < 0.1:
            second = (
                f"{data.metric} shows no straight-line trend with {label} (correlation "
                f"{r:+.2f}): it may matter in a curved way or only together with another "
                f"parameter."
            )
        else:
            second = _trend(label, float(r), data.metric, data.goal)
        out.append(f"{first} {second}".strip())
    return out
