"""Test problems shared by the benchmarks (`bench/engine.py`, `bench/compare.py`).

Every problem is minimised and described by a W&B `parameters` section, so the same definition
drives sweepnb, W&B's engine, Optuna and Hyperopt. The objective takes a flat config dict
(parameter name -> value) and returns a float.

    >>> from problems import PROBLEMS
    >>> p = PROBLEMS["branin"]
    >>> round(p.objective({"x1": 3.14159265, "x2": 2.275}), 4)
    0.3979

Import from a sibling script with `from problems import PROBLEMS` (the script's folder is on
`sys.path` when it is run as `python bench/NAME.py`).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Problem:
    """A minimisation problem: W&B parameters, objective, known optimum (None if unknown)."""

    name: str
    parameters: dict
    objective: Callable[[dict], float]
    optimum: float | None
    description: str


def _uniform(lo: float, hi: float) -> dict:
    return {"distribution": "uniform", "min": lo, "max": hi}


def _log_uniform(lo: float, hi: float) -> dict:
    return {"distribution": "log_uniform_values", "min": lo, "max": hi}


# --- Branin (2-d), optimum 0.397887 at three points -------------------------------------------


def branin(config: dict) -> float:
    """Branin-Hoo function on x1 in [-5, 10], x2 in [0, 15]."""
    x1, x2 = config["x1"], config["x2"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


# --- Hartmann6 (6-d), optimum -3.32237 --------------------------------------------------------

_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(config: dict) -> float:
    """Hartmann 6-d function on [0, 1]^6 (parameters x1..x6)."""
    x = np.array([config[f"x{i}"] for i in range(1, 7)])
    inner = np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


# --- Rosenbrock (4-d), optimum 0 at (1, 1, 1, 1) ----------------------------------------------


def rosenbrock4(config: dict) -> float:
    """Rosenbrock function in 4 dimensions on [-2, 2]^4 (parameters x1..x4)."""
    x = [config[f"x{i}"] for i in range(1, 5)]
    return float(sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3)))


# --- Mixed space: a float, a log-uniform learning rate, a categorical that moves the optimum ---

#: optimizer -> (best x, best lr, value at that optimizer's best point)
MIXED_CENTRES = {
    "adam": (0.2, 1e-3, 0.0),
    "sgd": (0.7, 1e-1, 0.3),
    "rmsprop": (0.5, 1e-4, 0.15),
}


def mixed(config: dict) -> float:
    """Mixed space: x in [0, 1], lr log-uniform in [1e-5, 1], optimizer in 3 categories.

    Each optimizer has its own best (x, lr) and floor; lr distances count in decades / 5, so
    both numeric axes weigh the same. Optimum 0 at optimizer="adam", x=0.2, lr=1e-3.
    """
    cx, clr, floor = MIXED_CENTRES[config["optimizer"]]
    u = math.log10(config["lr"] / clr) / 5
    return (config["x"] - cx) ** 2 + u**2 + floor


# --- Real task: SVC on load_breast_cancer, 3-fold cross-validated error ------------------------


@lru_cache(maxsize=1)
def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def _svc_error(key: str) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
    from sklearn.svm import SVC

    config = json.loads(key)
    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
    model = make_pipeline(
        scalers[config["scaler"]](),
        SVC(
            C=config["C"],
            gamma=config["gamma"],
            kernel=config["kernel"],
            degree=int(config["degree"]),
        ),
    )
    X, y = _breast_cancer()
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        accuracy = cross_val_score(model, X, y, cv=folds).mean()
    return float(1.0 - accuracy)


_SVC_CACHE: dict[str, float] = {}


def svc_breast_cancer(config: dict) -> float:
    """1 - mean 3-fold CV accuracy of a scaled SVC on load_breast_cancer (cached by config)."""
    names = ("C", "gamma", "kernel", "degree", "scaler")
    key = json.dumps({name: config[name] for name in names}, sort_keys=True)
    if key not in _SVC_CACHE:
        _SVC_CACHE[key] = _svc_error(key)
    return _SVC_CACHE[key]


PROBLEMS: dict[str, Problem] = {
    "branin": Problem(
        "branin",
        {"x1": _uniform(-5.0, 10.0), "x2": _uniform(0.0, 15.0)},
        branin,
        0.397887,
        "Branin, 2-d",
    ),
    "hartmann6": Problem(
        "hartmann6",
        {f"x{i}": _uniform(0.0, 1.0) for i in range(1, 7)},
        hartmann6,
        -3.32237,
        "Hartmann, 6-d",
    ),
    "rosenbrock4": Problem(
        "rosenbrock4",
        {f"x{i}": _uniform(-2.0, 2.0) for i in range(1, 5)},
        rosenbrock4,
        0.0,
        "Rosenbrock, 4-d on [-2, 2]",
    ),
    "mixed": Problem(
        "mixed",
        {
            "x": _uniform(0.0, 1.0),
            "lr": _log_uniform(1e-5, 1.0),
            "optimizer": {"distribution": "categorical", "values": list(MIXED_CENTRES)},
        },
        mixed,
        0.0,
        "float + log-uniform lr + 3-way categorical",
    ),
    "svc": Problem(
        "svc",
        {
            "C": _log_uniform(1e-3, 1e3),
            "gamma": _log_uniform(1e-5, 10.0),
            "kernel": {"distribution": "categorical", "values": ["rbf", "poly", "sigmoid"]},
            "degree": {"distribution": "int_uniform", "min": 2, "max": 5},
            "scaler": {"distribution": "categorical", "values": ["standard", "minmax", "robust"]},
        },
        svc_breast_cancer,
        None,
        "SVC on load_breast_cancer, 3-fold CV error, 5 mixed parameters",
    ),
}
