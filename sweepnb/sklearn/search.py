"""``SweepSearchCV``: scikit-learn's ``GridSearchCV`` interface over a sweepnb sweep.

Every candidate is a run of a sweep in a sweepnb store (its per-fold or per-epoch scores are the
run's history), so bayes search, early termination, parallel agents, ``sweepnb show`` and the
live dashboard all work on it; the results come back as scikit-learn's ``cv_results_``.

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from scipy.stats import loguniform
    >>> X, y = load_iris(return_X_y=True)
    >>> search = SweepSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=8, cv=3,
    ...                        random_state=0, dashboard=False).fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
"""

from __future__ import annotations

import atexit
import numbers
import os
import shutil
import tempfile
import time
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import indexable
from sklearn.utils.validation import _check_method_params

from sweepnb.sklearn import params as space
from sweepnb.sklearn import resources

EXTRA_RESULT_KEYS = ("run_id", "state", "n_resources")  # cv_results_ keys GridSearchCV lacks
MAX_N_ITER = 10**9  # a sweep's largest run_cap


class SweepSearchCV(BaseSearchCV):
    """Search ``params`` for ``estimator`` with a sweepnb sweep; a drop-in for ``GridSearchCV``.

    Parameters (besides ``GridSearchCV``'s ``estimator``, ``scoring``, ``cv``, ``n_jobs``,
    ``refit``, ``verbose``, ``error_score``, ``return_train_score``, which mean the same):

    - ``params``: a scikit-learn grid (``{"svc__C": [1, 10]}`` or a list of such dicts),
      scipy.stats distributions (``loguniform(1e-3, 1e3)``), W&B ``parameters`` (dicts with
      ``values``/``distribution``/``min``/``max``..., nested ``parameters`` meaning
      ``outer__inner`` names) or a whole W&B sweep config (its ``method`` and
      ``early_terminate`` are used; its ``metric`` is replaced by the CV score).
    - ``method``: ``"bayes"`` (default), ``"random"`` or ``"grid"`` (every grid point; ``n_iter``
      is then ignored, as ``GridSearchCV`` has none).
    - ``n_iter``: the number of candidates (runs) for random and bayes.
    - ``n_jobs``: that many sweepnb agents in parallel (loky processes; -1: one per CPU). Each
      agent gets the estimator once; numpy ``X``/``y`` over 1 MB are shared as one memory-mapped
      file (joblib's way), smaller data is pickled along.
    - ``random_state``: an int seeds the sweep's suggestions (the config's ``seed``).
    - ``early_terminate``: None, ``"hyperband"``, ``"median"`` or a dict of the rule's settings
      (``{"type": "hyperband", "min_iter": 1, "eta": 3}``) to stop hopeless candidates early.
    - ``resource``: what a candidate spends step by step and early termination judges:
      ``"folds"`` (default: the running mean over the folds so far), ``"epochs"`` (one
      ``partial_fit`` pass per step, up to ``max_resource`` epochs, default 10) or the name of an
      integer ``warm_start`` parameter (``"n_estimators"``), grown in up to 10 steps to
      ``max_resource`` (default: the estimator's value).
    - ``store``: a path or URL of a sweepnb store to keep the runs in. None: a temporary SQLite
      store, deleted when Python exits (``store_`` says where).
    - ``dashboard``: show sweepnb's live dashboard during ``fit`` (None: in a notebook only).

    Attributes after ``fit``: scikit-learn's ``cv_results_`` (GridSearchCV's keys and dtypes,
    plus ``run_id``, ``state`` and ``n_resources``), ``best_index_``, ``best_params_``,
    ``best_score_``, ``best_estimator_``, ``n_splits_``, ``refit_time_``, ``multimetric_``,
    ``scorer_``, and sweepnb's ``sweep_id_`` and ``store_``.

        >>> search = SweepSearchCV(pipe, {"svc__C": [1, 10]}, method="grid")  # doctest: +SKIP
        >>> search.fit(X, y).best_params_                                       # doctest: +SKIP
    """

    _parameter_constraints: ClassVar[dict] = {}  # checked in fit, with errors naming the argument

    def __init__(
        self,
        estimator,
        params,
        *,
        method="bayes",
        n_iter=20,
        scoring=None,
        cv=5,
        n_jobs=1,
        refit=True,
        random_state=None,
        early_terminate=None,
        resource="folds",
        max_resource=None,
        store=None,
        dashboard=None,
        verbose=0,
        error_score=np.nan,
        return_train_score=False,
    ):
        # BaseSearchCV.__init__ is not called: it sets pre_dispatch, which is no parameter here
        # (scikit-learn's contract: __init__ sets exactly its parameters).
        self.estimator = estimator
        self.params = params
        self.method = method
        self.n_iter = n_iter
        self.scoring = scoring
        self.cv = cv
        self.n_jobs = n_jobs
        self.refit = refit
        self.random_state = random_state
        self.early_terminate = early_terminate
        self.resource = resource
        self.max_resource = max_resource
        self.store = store
        self.dashboard = dashboard
        self.verbose = verbose
        self.error_score = error_score
        self.return_train_score = return_train_score

    # -- fit -------------------------------------------------------------------------------------

    def fit(self, X, y=None, **fit_params):
        """Run the sweep (one run per candidate), then refit the best candidate on all of X.

        ``fit_params`` go to the estimator's ``fit`` (sample-aligned arrays are split with the
        folds); ``groups`` goes to the CV splitter, as with ``GridSearchCV``. With
        ``resource="epochs"`` on a pipeline, ``step__param`` fit params are routed as
        ``Pipeline.fit`` routes them: the last step's to its ``partial_fit`` every epoch.
        """
        import sweepnb

        self._check_arguments()
        scorers, refit_metric = self._get_scorers()
        multimetric = not callable(self.scoring) and isinstance(self.scoring, (list, tuple, dict))
        X, y = indexable(X, y)
        fit_params = _check_method_params(X, params=fit_params)
        groups = fit_params.pop("groups", None)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        self.n_splits_ = cv.get_n_splits(X, y, groups)
        splits = list(cv.split(X, y, groups))

        metric = f"mean_test_{refit_metric if multimetric else 'score'}"
        config, decoder, stopping = self._sweep_config(metric)
        steps = resources.resource_steps(self.estimator, self.resource, self.max_resource)
        if self.resource == "epochs":  # a misnamed fit param is named before any fit
            resources.split_step_params(self.estimator, fit_params)
        if self.resource not in resources.RESOURCES and self.resource in set(
            decoder.names(config["parameters"])
        ):
            raise ValueError(f"resource: {self.resource!r} is also searched in params")

        self.store_ = _store_location(self.store)
        try:
            self.sweep_id_ = sweepnb.sweep(config, store=self.store_)
        except sweepnb.ConfigError as err:
            raise ValueError(f"params: {err}") from None
        trainer = resources.Trainer(
            estimator=self.estimator, X=X, y=y, splits=splits, fit_params=fit_params,
            score_params=self._score_params(fit_params),
            scorer=scorers, metric=metric, decoder=decoder, resource=self.resource,
            steps=steps, stopping=stopping, error_score=self.error_score,
            return_train_score=self.return_train_score, store_url=self.store_,
        )  # fmt: skip
        if self.n_jobs not in (None, 1) and _large_arrays(X, y):
            trainer.share_data(_temp_folder())
        count = None if config["method"] == "grid" else self.n_iter
        if self.verbose > 0:
            print(
                f"Fitting {len(splits)} folds for each of "
                f"{'the grid points' if count is None else count} candidates "
                f"(sweep {self.sweep_id_} in {self.store_})"
            )
        self._run_agents(trainer, count)

        runs = sweepnb.Store(self.store_).get_runs(self.sweep_id_)
        results = self._results(runs, decoder, len(splits), multimetric, refit_metric)
        self.multimetric_ = multimetric
        self._select_best(results, refit_metric if multimetric else "score")
        if self.refit:
            self._refit(X, y, fit_params, steps)
        scorer_dict = getattr(scorers, "_scorers", None)
        self.scorer_ = scorer_dict if multimetric and scorer_dict is not None else scorers
        self.cv_results_ = results
        return self

    def _score_params(self, fit_params: dict) -> dict:
        # scikit-learn >= 1.4 weighs the CV scores too when the scorer takes sample_weight
        weights = fit_params.get("sample_weight")
        if weights is None or not hasattr(self, "_check_scorers_accept_sample_weight"):
            return {}
        return {"sample_weight": weights} if self._check_scorers_accept_sample_weight() else {}

    def _check_arguments(self) -> None:
        from sweepnb.engine.search import METHODS  # the registry: a plugin method works too

        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {list(METHODS)}, got {self.method!r}")
        if (
            isinstance(self.n_iter, bool)
            or not isinstance(self.n_iter, numbers.Integral)
            or self.n_iter < 1
        ):
            raise ValueError(f"n_iter: expected an integer >= 1, got {self.n_iter!r}")
        if self.n_iter > MAX_N_ITER:
            raise ValueError(f"n_iter: at most {MAX_N_ITER:,} candidates, got {self.n_iter:,}")
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
            raise ValueError(f"n_jobs: expected an integer >= 1 or -1, got {self.n_jobs!r}")
        if not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator: expected a scikit-learn estimator, got {self.estimator!r}")
        if self.dashboard not in (None, True, False):
            raise ValueError(f"dashboard: expected None, True or False, got {self.dashboard!r}")
        if not (self.error_score == "raise" or isinstance(self.error_score, numbers.Real)):
            raise ValueError(f"error_score: expected 'raise' or a number, got {self.error_score!r}")

    def _sweep_config(self, metric: str) -> tuple[dict, space.Decoder, dict | None]:
        """The sweep config, the decoder of its runs' configs and the stopping settings."""
        parameters, decoder = space.to_parameters(self.params)
        names = decoder.names(parameters)
        space.check_names(self.estimator, names)
        whole = dict(self.params) if space.is_whole_config(self.params) else {}
        early = self.early_terminate
        if early is None and whole.get("early_terminate"):
            early = whole["early_terminate"]
        stopping = resources.stopping_settings(early)
        config = {k: v for k, v in whole.items() if k not in ("early_terminate", "metric")}
        config["method"] = whole.get("method", self.method)
        config["parameters"] = parameters
        config["metric"] = {"name": metric, "goal": "maximize"}
        if config["method"] != "grid":  # the sweep is done after its runs (ls, dashboard)
            cap = config.get("run_cap")  # a whole config's own cap: at most n_iter runs either way
            if cap is None or (isinstance(cap, int) and not isinstance(cap, bool)):
                config["run_cap"] = self.n_iter if cap is None else min(cap, self.n_iter)
        config.setdefault("name", f"SweepSearchCV({type(self.estimator).__name__})")
        where = "folds" if self.resource == "folds" else f"resource {self.resource!r}"
        config["description"] = f"scikit-learn SweepSearchCV of {type(self.estimator).__name__}" + (
            f"; early termination {stopping} over {where}" if stopping else ""
        )
        seed = _seed(self.random_state)
        if seed is not None:
            config["seed"] = seed
        return config, decoder, stopping

    def _run_agents(self, trainer: resources.Trainer, count: int | None) -> None:
        import sweepnb

        dash = None
        if _show_dashboard(self.dashboard):
            dash = sweepnb.dashboard(self.sweep_id_, store=self.store_, count=count)
        try:
            sweepnb.agent(
                self.sweep_id_,
                trainer,
                count=count,
                n_jobs=1 if self.n_jobs is None else int(self.n_jobs),
                store=self.store_,
                quiet=self.verbose < 2,
                progress=bool(self.verbose) and dash is None,
            )
        finally:
            if dash is not None:
                dash.stop()  # stop refreshing; draws the final state once
        if trainer.raised is not None:  # error_score="raise" in this process
            raise trainer.raised

    # -- results ---------------------------------------------------------------------------------

    def _results(self, runs, decoder, n_splits, multimetric, refit_metric) -> dict:
        runs = [r for r in runs if r["state"] != "running"]
        if not runs:
            raise ValueError("No fits were performed: the sweep proposed no candidate.")
        names = list(self.scoring) if multimetric else ["score"]
        candidates, out, extra, failures = [], [], {k: [] for k in EXTRA_RESULT_KEYS}, []
        for run in runs:
            last = _last_row(run)
            if run["state"] in ("failed", "crashed") and self.error_score == "raise":
                # in an agent process (n_jobs > 1): the error comes back as the run's traceback
                raise ValueError(f"candidate {run['config']} failed:\n{run.get('error')}")
            if run["state"] in ("failed", "crashed") and not last:
                text = str(run.get("error") or run["state"]).strip().splitlines()[-1]
                failures += [text] * n_splits
            candidates.append(decoder.decode(run["config"]))
            whole = run["state"] == "finished" or self.resource == "folds"
            for k in range(n_splits):
                out.append(self._split_out(last, k, names, multimetric, whole, run["state"]))
                error = last.get(f"split{k}_fit_error")
                if error:
                    failures.append(error)
                if last.get(f"split{k}_score_error"):
                    _warn_scoring_failed(last[f"split{k}_score_error"], self.error_score)
            extra["run_id"].append(run["id"])
            extra["state"].append(run["state"])
            extra["n_resources"].append(int(last.get("n_resources", 0)))
        total = len(out)
        if failures:
            _warn_failures(failures, total, self.error_score)
        with warnings.catch_warnings():
            if "stopped" in extra["state"]:  # NaN means of stopped candidates are expected
                warnings.filterwarnings("ignore", message="One or more of the test scores")
            return self._format_results(candidates, n_splits, out, extra)

    def _split_out(self, row, k, names, multimetric, whole, state) -> dict:
        nan = float("nan")
        error = self.error_score if self.error_score != "raise" else nan

        def scores(part: str) -> Any:
            got = {}
            for name in names:
                value = row.get(f"split{k}_{part}_{name}", None) if whole else None
                if value is None:
                    value = error if state in ("failed", "crashed") else nan
                got[name] = float(value)
            return got if multimetric else got["score"]

        out = {
            "fit_time": float(row.get(f"split{k}_fit_time", 0.0)),
            "score_time": float(row.get(f"split{k}_score_time", 0.0)),
            "test_scores": scores("test"),
        }
        if self.return_train_score:
            out["train_scores"] = scores("train")
        return out

    def _select_best(self, results: dict, refit_metric: str) -> None:
        if self.refit or not self.multimetric_:
            self.best_index_ = int(self._select_best_index(self.refit, refit_metric, results))
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]

    def _refit(self, X, y, fit_params, steps) -> None:
        model = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
        start = time.time()
        self.best_estimator_ = resources.refit(model, self.resource, steps, X, y, fit_params)
        self.refit_time_ = time.time() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_


# -------------------------------------------------------------------------------------------------


def _last_row(run: dict) -> dict:
    rows = [row for row in run.get("history") or () if any(k.startswith("split") for k in row)]
    return rows[-1] if rows else {}


def _warn_failures(failures: list[str], total: int, error_score: Any) -> None:
    if len(failures) >= total:
        raise ValueError(
            f"All the {total} fits failed. It is very likely that your model is misconfigured. "
            f"The first error: {failures[0]}"
        )
    counts: dict[str, int] = {}
    for text in failures:
        counts[text] = counts.get(text, 0) + 1
    detail = "\n".join(f"{n} fits failed with the error: {text}" for text, n in counts.items())
    warnings.warn(
        f"\n{len(failures)} fits failed out of a total of {total}.\n"
        f"The score on these train-test partitions for these parameters will be set to "
        f"{error_score}.\n{detail}",
        FitFailedWarning,
        stacklevel=3,
    )


def _warn_scoring_failed(details: str, error_score: Any) -> None:
    # scikit-learn's words (model_selection._validation._score), once per failed partition
    warnings.warn(
        f"Scoring failed. The score on this train-test partition for these parameters will be "
        f"set to {error_score}. Details: \n{details}",
        UserWarning,
        stacklevel=4,
    )


def _seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(
        f"random_state: expected None, an int or a numpy RandomState, got {random_state!r}"
    )


_TEMP_DIRS: list[str] = []


def _store_location(store: Any) -> str:
    """Where this fit's runs go: ``store`` as given, else a temporary SQLite file."""
    if store is not None:
        if not isinstance(store, (str, os.PathLike)):
            raise TypeError(f"store: expected a path or a store URL, got {store!r}")
        return os.fspath(store)
    return os.path.join(_temp_folder(), "sweeps.db")


def _temp_folder() -> str:
    """A new folder removed when Python exits."""
    if not _TEMP_DIRS:
        atexit.register(_remove_temp_dirs)
    folder = tempfile.mkdtemp(prefix="sweepnb-sklearn-")
    _TEMP_DIRS.append(folder)
    return folder


SHARE_NBYTES = 1_000_000  # joblib's default max_nbytes: larger arrays are memory-mapped


def _large_arrays(X: Any, y: Any) -> bool:
    arrays = [a for a in (X, y) if isinstance(a, np.ndarray)]
    return len(arrays) == sum(a is not None for a in (X, y)) and (
        sum(a.nbytes for a in arrays) > SHARE_NBYTES
    )


def _remove_temp_dirs() -> None:
    for folder in _TEMP_DIRS:
        shutil.rmtree(folder, ignore_errors=True)


def _show_dashboard(dashboard: bool | None) -> bool:
    if dashboard is False:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if dashboard is None:  # a notebook (a kernel), not a terminal IPython
        return shell is not None and getattr(shell, "kernel", None) is not None
    return shell is not None
