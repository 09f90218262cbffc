"""One candidate of a ``SweepSearchCV``: the sweep's train function, evaluated over a resource.

:class:`Trainer` is what each agent calls for a run (in this process or, with ``n_jobs > 1``, in
a loky worker: cloudpickle sends it once per agent, estimator and data included). It fits the
candidate fold after fold, or epoch after epoch (``partial_fit``), or estimators after
estimators (``warm_start``), logs every step as a history row of the run and asks the stopping
rule after each step whether the candidate is hopeless.

A history row holds the step (``fold``, ``epoch`` or the resource parameter), the running
estimate ``test_score_so_far`` (mean over the folds so far, or over all folds at this epoch) that
early termination judges, and the ``split{k}_*`` scores and times so far. The sweep's metric
``mean_test_<refit>`` is logged once per run, so its best value over the history is that one
value: in the last row of a run that used the whole resource, or, for a stopped run, in one more
row with its estimate at the stop (bayes counts a stopped run at that value, as sweepnb and W&B
count any stopped run; ``cv_results_`` leaves its mean NaN, so it never becomes ``best_``).

Why the stopping rule is asked here and not by the agent's monitor: the judged value
(``test_score_so_far``) is not the sweep's metric, steps take milliseconds (the monitor's
time-driven checks run once a second), and the median rule is a sweepnb extension the config
schema does not name. The rule is the engine's own pure function, on the store's runs.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

JUDGED = "test_score_so_far"
RESOURCES = ("folds", "epochs")  # or the name of a warm_start parameter such as n_estimators
MAX_GROW_STEPS = 10  # a warm_start resource grows in at most this many steps
DEFAULT_EPOCHS = 10
FIRST_CHECK = 1  # min_iter when the user gives none: a search has few folds/epochs to judge


def stopping_settings(early_terminate: Any) -> dict | None:
    """``early_terminate`` (None, a registered rule's name or a dict with its ``type``) as rule
    settings, with the rule's defaults (``min_iter`` 1 here) filled in.

    >>> stopping_settings("hyperband")
    {'type': 'hyperband', 'eta': 3, 'strict': True, 'min_iter': 1}
    """
    if early_terminate is None or early_terminate is False:
        return None
    if isinstance(early_terminate, str):
        early_terminate = {"type": early_terminate}
    from sweepnb.engine import stopping

    rules = list(stopping.RULES)
    if not isinstance(early_terminate, Mapping) or early_terminate.get("type") not in rules:
        raise ValueError(
            f"early_terminate: expected None, one of {rules} or a dict with a type among them, "
            f"got {early_terminate!r}"
        )
    rule = stopping.describe(early_terminate["type"])
    defaults = rule.defaults
    if "min_iter" in rule.schema.get("properties", {}) and "max_iter" not in early_terminate:
        defaults["min_iter"] = FIRST_CHECK  # (hyperband's other form: max_iter and s)
    settings = {**defaults, **early_terminate}
    settings = {"type": settings.pop("type"), **settings}
    _check_rule(settings)
    return settings


def _check_rule(settings: dict) -> None:
    from sweepnb.engine.stopping import stop_decisions
    from sweepnb.errors import ConfigError

    cfg = {"metric": {"name": JUDGED, "goal": "maximize"}, "early_terminate": settings}
    try:
        stop_decisions(cfg, [])
        problems = _rule(settings).problems(settings, cfg)
        if problems:
            raise ConfigError(problems)
        _checkpoints(settings)
    except ConfigError as err:
        raise ValueError(f"early_terminate: {err}") from None


def _rule(settings: dict) -> Any:
    from sweepnb.engine import stopping

    return stopping.describe(settings["type"])


def _checkpoints(settings: dict) -> set[int]:
    """The step counts at which the rule judges a run at once (hyperband: its bands)."""
    return set(_rule(settings).checkpoints(settings))


def resource_steps(estimator: Any, resource: str, max_resource: int | None) -> list[int]:
    """The resource value at each step: fold counts are decided by cv, so ``[]`` for folds.

    ``"epochs"`` needs ``partial_fit`` (on the estimator or a pipeline's last step); another
    string names an integer parameter grown with ``warm_start`` (``n_estimators``).
    """
    if resource == "folds":
        return []
    if max_resource is not None and (
        isinstance(max_resource, bool) or not isinstance(max_resource, (int, np.integer))
    ):
        raise TypeError(f"max_resource: expected an integer, got {max_resource!r}")
    if max_resource is not None and max_resource < 1:
        raise ValueError(f"max_resource: must be >= 1, got {max_resource}")
    if resource == "epochs":
        if not hasattr(_final_step(estimator), "partial_fit"):
            raise ValueError(
                f"resource='epochs': {type(_final_step(estimator)).__name__} has no partial_fit "
                "(use resource='folds', or a warm_start parameter such as 'n_estimators')"
            )
        return list(range(1, (max_resource or DEFAULT_EPOCHS) + 1))
    if not isinstance(resource, str):
        raise TypeError(
            f"resource: expected 'folds', 'epochs' or a parameter name, got {resource!r}"
        )
    valid = estimator.get_params(deep=True)
    warm = resource.rsplit("__", 1)[0] + "__warm_start" if "__" in resource else "warm_start"
    if resource not in valid or warm not in valid:
        raise ValueError(
            f"resource: {resource!r} must be 'folds', 'epochs' or an integer parameter of an "
            f"estimator with warm_start (such as 'n_estimators'); {type(estimator).__name__} "
            f"has {'no ' + repr(resource) if resource not in valid else 'no warm_start'}"
        )
    top = max_resource or valid[resource]
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"max_resource: give the largest {resource}, got {top!r}")
    n = min(MAX_GROW_STEPS, int(top))
    return sorted({max(1, round(top * i / n)) for i in range(1, n + 1)})


def _final_step(estimator: Any) -> Any:
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


class Trainer:
    """The sweep's train function for one ``SweepSearchCV.fit`` (see the module docstring)."""

    def __init__(
        self,
        *,
        estimator,
        X,
        y,
        splits,
        fit_params,
        score_params,
        scorer,
        metric,
        decoder,
        resource,
        steps,
        stopping,
        error_score,
        return_train_score,
        store_url,
    ):
        self.estimator = estimator
        self.X, self.y = X, y
        self.splits = splits
        self.fit_params = fit_params
        self.score_params = score_params  # sample_weight, when the scorer takes it (as sklearn)
        self.scorer = scorer
        self.metric = metric  # the sweep metric, mean_test_<refit>
        self.decoder = decoder
        self.resource = resource
        self.steps = steps
        self.stopping = stopping
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.store_url = store_url
        self.refit_name = metric[len("mean_test_") :]
        self.raised: BaseException | None = None  # the fit error when error_score="raise"
        self._store: Any = None
        self._judged: list[dict] = []

    def share_data(self, folder: str) -> None:
        """Send X and y to agent processes as one read-only memory-mapped file in ``folder``.

        Without it each agent unpickles its own copy of the data (cloudpickle sends the
        trainer whole); with it they all map the same file, as joblib does for large arrays.
        """
        import joblib

        self.data_path = os.path.join(folder, "data.joblib")
        joblib.dump((self.X, self.y), self.data_path)

    def __getstate__(self) -> dict:
        state = {**self.__dict__, "_store": None, "raised": None}
        if state.get("data_path"):
            state["X"] = state["y"] = None  # loaded from data_path in the agent's process
        return state

    def __call__(self) -> None:
        import sweepnb

        if self.X is None and getattr(self, "data_path", None):
            import joblib

            self.X, self.y = joblib.load(self.data_path, mmap_mode="r")
        self._judged: list[dict] = []
        with sweepnb.init() as run:
            params = self.decoder.decode(run.config.as_dict())
            candidate = clone(self.estimator).set_params(**clone(params, safe=False))
            if self.resource == "folds":
                self._over_folds(run, candidate)
            else:
                self._over_steps(run, candidate)

    # -- resource: folds -------------------------------------------------------------------------

    def _over_folds(self, run: Any, candidate: Any) -> None:
        record = _Record(len(self.splits))
        for k, (train, test) in enumerate(self.splits):
            model = clone(candidate)
            start = time.perf_counter()
            try:  # the split is inside: a pairwise estimator refuses a non-square X there
                X_train, y_train = _safe_split(model, self.X, self.y, train)
                X_test, y_test = _safe_split(model, self.X, self.y, test, train)
                params = _check_method_params(self.X, params=self.fit_params, indices=train)
                model.fit(X_train, **({} if y_train is None else {"y": y_train}), **params)
            except Exception as err:  # noqa: BLE001 (error_score decides, as in sklearn)
                self._failed(run, record, k, err)
            else:
                record.fit_time[k] = time.perf_counter() - start
                self._score(
                    run, record, k, model, (X_train, y_train, train), (X_test, y_test, test)
                )
            self._log(run, record, k + 1, "fold", k, last=k == len(self.splits) - 1)

    # -- resource: epochs (partial_fit) or a warm_start parameter --------------------------------

    def _over_steps(self, run: Any, candidate: Any) -> None:
        record = _Record(len(self.splits))
        folds = []
        for train, test in self.splits:
            model = clone(candidate)
            X_train, y_train = _safe_split(model, self.X, self.y, train)
            folds.append(
                {
                    "model": model,
                    "train": (X_train, y_train, train),
                    "test": (*_safe_split(model, self.X, self.y, test, train), test),
                    "params": _check_method_params(self.X, params=self.fit_params, indices=train),
                    "failed": False,
                }
            )
        for i, amount in enumerate(self.steps):
            for k, fold in enumerate(folds):
                if fold["failed"]:
                    continue
                start = time.perf_counter()
                try:
                    if i == 0 and self.resource == "epochs":
                        fold["fit_X"] = fit_head(fold["model"], *fold["train"][:2],
                                                 fold["params"])  # fmt: skip
                    X_fit = fold.get("fit_X", fold["train"][0])  # after the pipeline's head
                    grow(fold["model"], self.resource, amount, X_fit, fold["train"][1],
                         fold["params"], first=i == 0)  # fmt: skip
                except Exception as err:  # noqa: BLE001 (error_score decides)
                    fold["failed"] = True
                    self._failed(run, record, k, err)
                    continue
                finally:
                    record.fit_time[k] += time.perf_counter() - start
                self._score(run, record, k, fold["model"], fold["train"], fold["test"])
            self._log(run, record, len(self.splits), self._step_key(), amount,
                      last=i == len(self.steps) - 1, step=i)  # fmt: skip

    def _step_key(self) -> str:
        return "epoch" if self.resource == "epochs" else self.resource.rsplit("__", 1)[-1]

    # -- shared ----------------------------------------------------------------------------------

    def _score(self, run: Any, record: _Record, k: int, model: Any, train: tuple, test: tuple):
        """Score fold ``k``; ``train``/``test`` are (X, y, indices) for the score params."""
        start = time.perf_counter()
        record.test[k] = self._scores(run, record, k, model, *test)
        record.score_time[k] = time.perf_counter() - start
        if self.return_train_score:
            record.train[k] = self._scores(run, record, k, model, *train)

    def _scores(self, run: Any, record: _Record, k: int, model: Any, X: Any, y: Any,
                indices: Any) -> Any:  # fmt: skip
        """The score(s) of ``model``; a failing scorer counts as ``error_score`` (its traceback
        kept for the warning ``fit`` gives) or, with ``error_score="raise"``, ends the search
        with the scorer's own exception, as scikit-learn's ``_score`` does."""
        params = _check_method_params(self.X, params=self.score_params, indices=indices)
        try:
            result = (
                self.scorer(model, X, **params) if y is None else self.scorer(model, X, y, **params)
            )
        except Exception as err:  # noqa: BLE001 (error_score decides, as in sklearn)
            if self.error_score == "raise":
                self._raise(run, err)
            record.score_errors[k] = traceback.format_exc().strip()
            return float(self.error_score)
        if isinstance(result, Mapping):
            # scikit-learn's multimetric scorer returns a failing scorer's error as a string
            failed = {name: v for name, v in result.items() if isinstance(v, str)}
            if failed:
                record.score_errors[k] = "\n".join(failed.values()).strip()
            return {
                name: float(self.error_score) if name in failed else float(value)
                for name, value in result.items()
            }
        return float(result)

    def _raise(self, run: Any, err: Exception) -> None:
        import sweepnb

        self.raised = err
        # no more candidates: scikit-learn's searches stop at the first failed fit too
        try:
            sweepnb.stop(run.sweep_id, store=self.store_url)
        except sweepnb.SweepnbError:
            pass  # another agent ended the sweep meanwhile (its search had no more runs)
        raise err

    def _failed(self, run: Any, record: _Record, k: int, err: Exception) -> None:
        if self.error_score == "raise":
            self._raise(run, err)
        record.errors[k] = "".join(traceback.format_exception_only(type(err), err)).strip()
        record.test[k] = record.train[k] = float(self.error_score)

    def _log(self, run: Any, record: _Record, done: int, key: str, value: int, *, last: bool,
             step: int | None = None) -> None:  # fmt: skip
        row = {key: int(value), "n_resources": int(value) if key != "fold" else done}
        row.update(record.row(done, self.refit_name))
        row[JUDGED] = record.mean(done, self.refit_name)
        if last:
            row[self.metric] = row[JUDGED]
        self._last_step = done - 1 if step is None else step
        run.log(row, step=self._last_step)
        self._judged.append({JUDGED: row[JUDGED]})
        if not last and self.stopping is not None:
            self._judge(run, len(self._judged))

    def _judge(self, run: Any, n_values: int) -> None:
        """Raise ``RunStopped`` when the rule says this candidate is hopeless after this step."""
        import sweepnb
        from sweepnb.engine.stopping import stop_decisions

        bands = _checkpoints(self.stopping)
        if bands and n_values not in bands:
            return  # a rule with checkpoints (hyperband's bands) judges only there, as the monitor
        if self._store is None:
            self._store = sweepnb.Store(self.store_url)
        runs = self._store.get_runs(run.sweep_id)
        # this run's rows may still be in its write buffer: judge it on what it logged here
        mine = {"id": run.id, "state": "running", "config": {}, "history": self._judged}
        runs = [mine if r["id"] == run.id else r for r in runs]
        cfg = {"metric": {"name": JUDGED, "goal": "maximize"}, "early_terminate": self.stopping}
        reason = stop_decisions(cfg, runs).get(run.id)
        if reason is not None:
            run.log({self.metric: self._judged[-1][JUDGED]}, step=self._last_step)
            raise sweepnb.RunStopped(f"{reason['rule']}: {reason['message']}")


class _Record:
    """Per-split scores and times of one candidate so far."""

    def __init__(self, n_splits: int):
        nan = float("nan")
        self.test: list[Any] = [nan] * n_splits
        self.train: list[Any] = [nan] * n_splits
        self.fit_time = [0.0] * n_splits
        self.score_time = [0.0] * n_splits
        self.errors: list[str | None] = [None] * n_splits
        self.score_errors: list[str | None] = [None] * n_splits  # a failing scorer's traceback

    def row(self, done: int, refit_name: str) -> dict:
        out: dict[str, Any] = {}
        for k in range(len(self.test)):
            for part, scores in (("test", self.test), ("train", self.train)):
                for name, value in _named(scores[k], refit_name).items():
                    out[f"split{k}_{part}_{name}"] = value
            out[f"split{k}_fit_time"] = self.fit_time[k]
            out[f"split{k}_score_time"] = self.score_time[k]
            if self.errors[k]:
                out[f"split{k}_fit_error"] = self.errors[k]
            if self.score_errors[k]:
                out[f"split{k}_score_error"] = self.score_errors[k]
        return out

    def mean(self, done: int, refit_name: str) -> float:
        values = [_named(score, refit_name).get(refit_name) for score in self.test[:done]]
        values = [float(v) for v in values if v is not None]
        return float(np.mean(values)) if values else float("nan")


def _named(score: Any, refit_name: str) -> dict:
    return dict(score) if isinstance(score, Mapping) else {refit_name: score}


def fit_head(model: Any, X: Any, y: Any, params: dict) -> Any:
    """Fit a pipeline's steps before the last (once per fold) with their ``step__param`` fit
    params and return what the last step sees."""
    if isinstance(model, Pipeline):
        head, _ = split_step_params(model, params)
        return model[:-1].fit_transform(X, y, **head)  # model[:-1] shares its steps with model
    return X


def split_step_params(model: Any, params: dict) -> tuple[dict, dict]:
    """A pipeline's fit params as (the head's ``step__param``, the last step's own params), as
    ``Pipeline.fit`` routes them; a name without a step is refused, naming it.

    >>> from sklearn.linear_model import SGDClassifier
    >>> from sklearn.preprocessing import StandardScaler
    >>> pipe = Pipeline([("scale", StandardScaler()), ("sgd", SGDClassifier())])
    >>> split_step_params(pipe, {"scale__sample_weight": 1, "sgd__sample_weight": 2})
    ({'scale__sample_weight': 1}, {'sample_weight': 2})
    """
    if not isinstance(model, Pipeline):
        return {}, dict(params)
    last = model.steps[-1][0]
    names = {name for name, _ in model.steps}
    head, final = {}, {}
    for key, value in params.items():
        step, sep, param = key.partition("__")
        if not sep or step not in names:
            raise ValueError(
                f"fit params: {key!r} names no step of the pipeline; give it as "
                f"'step__param' with step one of {[name for name, _ in model.steps]} "
                f"(e.g. '{last}__{key}')"
            )
        if step == last:
            final[param] = value
        else:
            head[key] = value
    return head, final


def grow(model: Any, resource: str, amount: int, X: Any, y: Any, params: dict, *, first: bool):
    """Train ``model`` up to ``amount`` of the resource: one more ``partial_fit`` epoch of its
    last step (on ``X`` already through the pipeline's head), or ``warm_start`` with the
    resource parameter set to ``amount``.
    """
    if resource == "epochs":
        final = _final_step(model)
        extra = {"classes": np.unique(y)} if is_classifier(final) and first else {}
        final.partial_fit(X, y, **extra, **split_step_params(model, params)[1])
        return
    warm = resource.rsplit("__", 1)[0] + "__warm_start" if "__" in resource else "warm_start"
    model.set_params(**{warm: True, resource: int(amount)})
    model.fit(X, y, **params)


def refit(model: Any, resource: str, steps: list[int], X: Any, y: Any, params: dict) -> Any:
    """Fit ``model`` on all of X with the whole resource (the last step's amount); return it."""
    if resource == "folds":
        return model.fit(X, **({} if y is None else {"y": y}), **params)
    if resource == "epochs":
        X_fit = fit_head(model, X, y, params)
        for i, amount in enumerate(steps):
            grow(model, resource, amount, X_fit, y, params, first=i == 0)
        return model
    # the whole amount at once: the same model as growing to it, without keeping warm_start on
    return model.set_params(**{resource: int(steps[-1])}).fit(X, y, **params)
