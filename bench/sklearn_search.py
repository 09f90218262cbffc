"""SweepSearchCV against scikit-learn's searches (and scikit-optimize, Optuna when installed).

Three bundled tasks, each searched by every method with the same CV splits (3-fold stratified,
shuffled by the seed) and the same search space (scipy.stats distributions; GridSearchCV gets a
grid of ``n_iter`` points over the same ranges):

- ``digits_svc``: ``load_digits`` with an RBF ``SVC`` (C, gamma);
- ``cancer_gb``: ``load_breast_cancer`` with ``GradientBoostingClassifier`` (learning_rate,
  max_depth, subsample, min_samples_leaf; 20 trees);
- ``sgd_pipeline``: ``make_classification`` (2000 x 20) with ``StandardScaler`` + ``SGDClassifier``
  (loss, alpha, penalty, l1_ratio).

For each method the table gives, as medians over the seeds: the best mean CV score found
(``best_score_``), the wall time of ``fit`` and the number of fold fits (one estimator fit on
one training fold; HalvingRandomSearchCV's fits on sample subsets count one each). The goals of
issue 15 are checked at the end: bayes at ``n_iter`` 30 reaches RandomizedSearchCV's score at 60,
and bayes + hyperband reaches it with fewer fold fits than HalvingRandomSearchCV.

    python bench/sklearn_search.py                 # 3 tasks x 3 seeds, ~10 min on 2 cores
    python bench/sklearn_search.py --quick         # small data, 1 seed, a few candidates (a test)

    # the figures in bench/RESULTS.md: 25 seeds, one process per task, then one report
    for t in digits_svc cancer_gb sgd_pipeline; do
      python bench/sklearn_search.py --tasks $t --seeds $(seq 0 24) --skip skopt --save $t.json &
    done; wait
    for t in digits_svc cancer_gb sgd_pipeline; do  # scikit-optimize: ~1 min a search
      python bench/sklearn_search.py --tasks $t --seeds $(seq 0 24) --only skopt \
        --save skopt_$t.json &
    done; wait
    python bench/sklearn_search.py --load digits_svc.json cancer_gb.json sgd_pipeline.json \
      skopt_digits_svc.json skopt_cancer_gb.json skopt_sgd_pipeline.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's sweepnb

from scipy.stats import loguniform, randint, uniform
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
)

from sweepnb.sklearn import SweepSearchCV

N_ITER, N_ITER_RANDOM_LONG, SEEDS, N_SPLITS = 30, 60, (0, 1, 2), 3
SWEEP_ROWS = ("SweepSearchCV bayes", "SweepSearchCV bayes + hyperband")  # the goals' rows
# Scores closer than this tie (the tables' precision). A mean of fold accuracies moves by less when
# one correct prediction changes fold: 1/3 * (1/189 - 1/190) = 0.0000093 on breast cancer, where
# two searches with the same 550 of 569 right scored 0.96662 and 0.96661.
TIE = 1e-4


@dataclass
class Task:
    name: str
    data: Callable[[bool], tuple]
    estimator: Callable[[], object]
    space: dict  # scipy.stats distributions or lists, as RandomizedSearchCV takes them
    grid: Callable[[int], dict]  # a grid of about n points over the same ranges


def _digits(quick: bool) -> tuple:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:300], y[:300]) if quick else (X, y)


def _cancer(quick: bool) -> tuple:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return (X[:200], y[:200]) if quick else (X, y)


def _classification(quick: bool) -> tuple:
    from sklearn.datasets import make_classification

    n = 300 if quick else 2000
    return make_classification(n_samples=n, n_features=20, n_informative=8, random_state=7)


def _svc():
    from sklearn.svm import SVC

    return SVC()


def _gb():
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=20, random_state=0)


def _sgd():
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("sgd", SGDClassifier(random_state=0))])


def _log_grid(low: float, high: float, n: int) -> list[float]:
    return [float(v) for v in np.geomspace(low, high, n)]


TASKS = {
    "digits_svc": Task(
        "digits_svc",
        _digits,
        _svc,
        {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)},
        lambda n: {"C": _log_grid(1e-2, 1e3, 6), "gamma": _log_grid(1e-5, 1e-1, max(1, n // 6))},
    ),
    "cancer_gb": Task(
        "cancer_gb",
        _cancer,
        _gb,
        {
            "learning_rate": loguniform(1e-2, 1.0),
            "max_depth": randint(1, 6),
            "subsample": uniform(0.5, 0.5),
            "min_samples_leaf": randint(1, 30),
        },
        lambda n: {
            "learning_rate": _log_grid(1e-2, 1.0, 5),
            "max_depth": [1, 3, 5],
            "subsample": [0.75, 1.0][: max(1, n // 15)],
            "min_samples_leaf": [10],
        },
    ),
    "sgd_pipeline": Task(
        "sgd_pipeline",
        _classification,
        _sgd,
        {
            "sgd__loss": ["hinge", "log_loss", "modified_huber"],
            "sgd__alpha": loguniform(1e-6, 1e-1),
            "sgd__penalty": ["l2", "l1", "elasticnet"],
            "sgd__l1_ratio": uniform(0.0, 1.0),
        },
        lambda n: {
            "sgd__loss": ["hinge", "log_loss", "modified_huber"],
            "sgd__alpha": _log_grid(1e-6, 1e-1, max(1, n // 6)),
            "sgd__penalty": ["l2", "elasticnet"],
            "sgd__l1_ratio": [0.5],
        },
    ),
}


# -- methods -------------------------------------------------------------------------------------


def _sweep(method: str, early: str | None = None) -> Callable:
    def make(task: Task, cv, n_iter: int, seed: int):
        return SweepSearchCV(task.estimator(), task.space, method=method, n_iter=n_iter, cv=cv,
                             random_state=seed, early_terminate=early, dashboard=False)  # fmt: skip

    return make


def _folds_of_sweep(search, n_splits: int) -> int:
    return int(np.sum(search.cv_results_["n_resources"]))


def _folds_of_cv(search, n_splits: int) -> int:
    return len(search.cv_results_["params"]) * n_splits


def _optional_methods() -> dict:
    found = {}
    try:
        from skopt import BayesSearchCV  # scikit-optimize, not a dependency of sweepnb

        def skopt(task: Task, cv, n_iter: int, seed: int):
            return BayesSearchCV(task.estimator(), _skopt_space(task.space), n_iter=n_iter,
                                 cv=cv, random_state=seed)  # fmt: skip

        found["BayesSearchCV (skopt)"] = (skopt, N_ITER, _folds_of_cv)
    except ImportError:
        pass
    try:
        import optuna
        from optuna_integration import OptunaSearchCV

        def tpe(task: Task, cv, n_iter: int, seed: int):
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            return OptunaSearchCV(task.estimator(), _optuna_space(task.space), n_trials=n_iter,
                                  cv=cv, random_state=seed, verbose=0)  # fmt: skip

        found["OptunaSearchCV (TPE)"] = (tpe, N_ITER, lambda s, k: len(s.trials_) * k)
    except ImportError:
        pass
    return found


def _skopt_space(space: dict) -> dict:
    from skopt.space import Categorical, Integer, Real

    out = {}
    for name, dist in space.items():
        if isinstance(dist, list):
            out[name] = Categorical(dist)
            continue
        low, high = dist.support()
        family = dist.dist.name
        if family == "randint":
            out[name] = Integer(int(low), int(high))
        else:
            out[name] = Real(
                low, high, prior="log-uniform" if family == "loguniform" else "uniform"
            )
    return out


def _optuna_space(space: dict) -> dict:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for name, dist in space.items():
        if isinstance(dist, list):
            out[name] = CategoricalDistribution(dist)
            continue
        low, high = dist.support()
        if dist.dist.name == "randint":
            out[name] = IntDistribution(int(low), int(high))
        else:
            out[name] = FloatDistribution(low, high, log=dist.dist.name == "loguniform")
    return out


def methods(n_iter: int, n_iter_long: int) -> dict:
    """name -> (make(task, cv, n, seed), n, count fold fits)."""

    def grid(task, cv, n, seed):
        return GridSearchCV(task.estimator(), task.grid(n), cv=cv)

    def rand(task, cv, n, seed):
        return RandomizedSearchCV(task.estimator(), task.space, n_iter=n, cv=cv, random_state=seed)

    def halving(task, cv, n, seed):
        return HalvingRandomSearchCV(task.estimator(), task.space, n_candidates=n, factor=3,
                                     cv=cv, random_state=seed)  # fmt: skip

    return {
        "GridSearchCV": (grid, n_iter, _folds_of_cv),
        f"RandomizedSearchCV ({n_iter_long})": (rand, n_iter_long, _folds_of_cv),
        f"RandomizedSearchCV ({n_iter})": (rand, n_iter, _folds_of_cv),
        f"HalvingRandomSearchCV ({n_iter_long} candidates)": (halving, n_iter_long, _folds_of_cv),
        "SweepSearchCV random": (_sweep("random"), n_iter, _folds_of_sweep),
        "SweepSearchCV bayes": (_sweep("bayes"), n_iter, _folds_of_sweep),
        "SweepSearchCV bayes + hyperband": (_sweep("bayes", "hyperband"), n_iter, _folds_of_sweep),
        **{name: (make, n_iter, count) for name, (make, _, count) in _optional_methods().items()},
    }


# -- running -------------------------------------------------------------------------------------


def run_one(task: Task, make: Callable, n: int, count: Callable, seed: int, quick: bool) -> tuple:
    """(best mean CV score, wall seconds, fold fits) of one method on one task and seed."""
    X, y = task.data(quick)
    cv = StratifiedKFold(N_SPLITS, shuffle=True, random_state=seed)
    search = make(task, cv, n, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of bad candidates
        search.fit(X, y)
    wall = time.perf_counter() - start
    return float(search.best_score_), wall, count(search, N_SPLITS)


def run(tasks: list[str], seeds: tuple, n_iter: int, n_long: int, quick: bool,
        skip: tuple = (), only: tuple = ()) -> dict:  # fmt: skip
    """{task: {method: [(score, wall, folds) per seed]}}; methods whose name contains a word of
    ``skip`` (case-insensitive) are left out, and with ``only`` those without one of its words."""
    table: dict = {}
    for name in tasks:
        task = TASKS[name]
        table[name] = {}
        for method, (make, n, count) in methods(n_iter, n_long).items():
            if any(word.lower() in method.lower() for word in skip) or (
                only and not any(word.lower() in method.lower() for word in only)
            ):
                continue
            table[name][method] = [run_one(task, make, n, count, s, quick) for s in seeds]
            print(f"  {name} / {method}: done", file=sys.stderr, flush=True)
    return table


def versions(table: dict) -> dict[str, str]:
    """The versions of scikit-learn and of the optional searchers that have rows in ``table``."""
    from importlib.metadata import PackageNotFoundError, version

    ran = " ".join(method for rows in table.values() for method in rows)
    found = {}
    for name, row in (("scikit-learn", ""), ("scikit-optimize", "skopt"), ("optuna", "Optuna"),
                      ("optuna-integration", "Optuna")):  # fmt: skip
        if row not in ran:
            continue
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def medians(rows: list[tuple]) -> tuple[float, float, float]:
    return tuple(statistics.median(col) for col in zip(*rows, strict=True))


def report(table: dict, seeds: tuple, n_iter: int, n_long: int, found: dict) -> str:
    """Markdown: one table per task, then the goals."""
    lines = ["Versions: " + ", ".join(f"{name} {v}" for name, v in found.items()), ""]
    for task, rows in table.items():
        lines += [
            f"### {task} (medians over seeds {', '.join(map(str, seeds))})",
            "",
            "| method | best mean CV score | wall s | fold fits |",
            "| --- | ---: | ---: | ---: |",
        ]
        for method, results in rows.items():
            score, wall, folds = medians(results)
            lines.append(f"| {method} | {score:.4f} | {wall:.1f} | {folds:.0f} |")
        lines.append("")
    lines += ["### Goals", ""]
    for task, rows in table.items():
        halving = f"HalvingRandomSearchCV ({n_long} candidates)"
        needed = (f"RandomizedSearchCV ({n_long})", halving, *SWEEP_ROWS)
        if not all(name in rows for name in needed):
            lines.append(f"- {task}: not every method of the goals ran (see --skip/--only)")
            continue
        random_long = rows[f"RandomizedSearchCV ({n_long})"]
        target = medians(random_long)[0]
        bayes = medians(rows["SweepSearchCV bayes"])[0]
        hb_score, _, hb_folds = medians(rows["SweepSearchCV bayes + hyperband"])
        halving_folds = medians(rows[halving])[2]
        lines.append(
            f"- {task}: bayes ({n_iter}) {bayes:.4f} vs random ({n_long}) {target:.4f}: "
            f"{'met' if bayes >= target - TIE else 'NOT met'}; bayes + hyperband {hb_score:.4f} in "
            f"{hb_folds:.0f} fold fits vs HalvingRandomSearchCV's {halving_folds:.0f}: "
            f"{'met' if hb_score >= target - TIE and hb_folds < halving_folds else 'NOT met'}"
        )
        for method in SWEEP_ROWS:
            lines.append(
                f"  - {method} vs RandomizedSearchCV ({n_long}), seed by seed: "
                + paired(rows[method], random_long)
            )
    return "\n".join(lines)


def paired(rows: list[tuple], baseline: list[tuple]) -> str:
    """Seed by seed against ``baseline`` (the same splits): how often at least as good (a tie
    within ``TIE`` counts), and the mean difference of the best scores with its standard error."""
    diffs = [a[0] - b[0] for a, b in zip(rows, baseline, strict=True)]
    mean = statistics.fmean(diffs)
    error = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    at_least = sum(d >= -TIE for d in diffs)
    return (
        f"at least as good (or tied) on {at_least} of {len(diffs)} seeds, mean difference of the best "
        f"scores {mean:+.4f} (standard error {error:.4f})"
    )


def _saved(parser: argparse.ArgumentParser, path: str) -> dict:
    """One ``--save`` file, or a one-line error naming it."""
    try:
        saved = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        parser.error(f"--load: cannot read {path}: {err}")
    if not isinstance(saved, dict) or not {"seeds", "n_iter", "n_long", "table"} <= set(saved):
        parser.error(f"--load: {path} is not a file written by --save")
    return saved


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, 1 seed, n_iter 4/8")
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--skip", nargs="+", default=[], metavar="WORD",
                        help="leave out methods whose name contains WORD (e.g. skopt)")  # fmt: skip
    parser.add_argument("--only", nargs="+", default=[], metavar="WORD",
                        help="run only the methods whose name contains WORD")  # fmt: skip
    parser.add_argument("--save", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--load", nargs="+", metavar="FILE",
                        help="report the results of earlier --save runs (no search)")  # fmt: skip
    args = parser.parse_args(argv)
    seeds = (0,) if args.quick else tuple(args.seeds)
    n_iter, n_long = (4, 8) if args.quick else (N_ITER, N_ITER_RANDOM_LONG)
    if args.load:
        saved = [_saved(parser, path) for path in args.load]
        seeds, n_iter, n_long = tuple(saved[0]["seeds"]), saved[0]["n_iter"], saved[0]["n_long"]
        if any((tuple(s["seeds"]), s["n_iter"], s["n_long"]) != (seeds, n_iter, n_long)
               for s in saved):  # fmt: skip
            parser.error("--load: the files were run with different seeds or n_iter")
        table: dict = {}
        for path, part in zip(args.load, saved, strict=True):
            for task, rows in part["table"].items():  # files of one task add their rows
                twice = set(rows) & set(table.get(task, {}))
                if twice:
                    parser.error(f"--load: {path} repeats {task} / {min(twice)}")
                table.setdefault(task, {}).update(rows)
        found = {name: v for part in saved for name, v in part.get("versions", {}).items()}
    else:
        table = run(
            args.tasks, seeds, n_iter, n_long, args.quick, tuple(args.skip), tuple(args.only)
        )
        if args.save:
            saved = {"seeds": seeds, "n_iter": n_iter, "n_long": n_long, "table": table,
                     "versions": versions(table)}  # fmt: skip
            Path(args.save).write_text(json.dumps(saved))
        found = versions(table)
    text = report(table, seeds, n_iter, n_long, found)
    print(text)
    return text


if __name__ == "__main__":
    main()
