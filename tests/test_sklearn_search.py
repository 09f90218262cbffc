"""SweepSearchCV (issue 15): scikit-learn's search-estimator contract over real sweeps.

Every test fits for real on small data (iris, a small make_classification) with cv=3 and a few
candidates, on a SQLite store in tmp_path unless the temporary default store is the point.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import checkout_pythonpath
from scipy.stats import expon, loguniform, randint, uniform
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import sweepnb
from sweepnb.sklearn import SweepSearchCV

ROOT = Path(__file__).resolve().parent.parent
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_SMALL, Y_SMALL = make_classification(n_samples=150, n_features=6, random_state=0)
GRID = {"C": [0.1, 1.0, 10.0], "gamma": [0.01, 0.1]}


def svc_search(tmp_path: Path, params=GRID, estimator=None, **kw) -> SweepSearchCV:
    kw = {"method": "grid", "cv": 3, "dashboard": False, "store": tmp_path / "s.db", **kw}
    return SweepSearchCV(SVC() if estimator is None else estimator, params, **kw)


# -- the estimator contract ----------------------------------------------------------------------


def test_clone_keeps_every_parameter_and_no_fitted_state(tmp_path):
    search = svc_search(tmp_path, n_iter=7, early_terminate="median", random_state=3)
    copy, original = clone(search).get_params(deep=False), search.get_params(deep=False)
    assert copy.pop("estimator") is not original.pop("estimator")  # cloned, not shared
    assert np.isnan(copy.pop("error_score")) and np.isnan(original.pop("error_score"))
    assert copy == original
    search.fit(X_IRIS, Y_IRIS)
    assert not hasattr(clone(search), "cv_results_")


def test_set_params_reaches_the_estimator_inside(tmp_path):
    search = svc_search(tmp_path).set_params(estimator__kernel="linear", n_iter=4)
    assert search.estimator.kernel == "linear" and search.n_iter == 4


def test_pickle_round_trip_predicts_the_same(tmp_path):
    search = svc_search(tmp_path).fit(X_IRIS, Y_IRIS)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict(X_IRIS), search.predict(X_IRIS))
    assert again.best_params_ == search.best_params_


def test_cv_results_match_grid_search_cv_keys_dtypes_and_scores(tmp_path):
    ours = svc_search(tmp_path, return_train_score=True).fit(X_IRIS, Y_IRIS)
    theirs = GridSearchCV(SVC(), GRID, cv=3, return_train_score=True).fit(X_IRIS, Y_IRIS)
    assert set(ours.cv_results_) - set(theirs.cv_results_) == {"run_id", "state", "n_resources"}
    order = [ours.cv_results_["params"].index(p) for p in theirs.cv_results_["params"]]
    for key, expected in theirs.cv_results_.items():
        got = ours.cv_results_[key]
        assert type(got) is type(expected), key
        if isinstance(expected, np.ndarray):
            assert got.dtype == expected.dtype, key
        if "score" in key and "time" not in key:
            np.testing.assert_allclose(np.asarray(got)[order], expected, err_msg=key)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_)


def test_cv_results_make_a_dataframe(tmp_path):
    search = svc_search(tmp_path).fit(X_IRIS, Y_IRIS)
    frame = pd.DataFrame(search.cv_results_)
    assert len(frame) == 6 and {"param_C", "mean_test_score", "run_id"} <= set(frame.columns)
    assert (frame["state"] == "finished").all()


def test_best_attributes_and_delegation_to_best_estimator(tmp_path):
    search = svc_search(tmp_path, params={"C": [0.1, 10.0]}).fit(X_IRIS, Y_IRIS)
    best = search.best_estimator_
    assert search.best_params_ == {"C": 10.0} and best.C == 10.0
    assert search.best_index_ == int(np.argmin(search.cv_results_["rank_test_score"]))
    assert search.best_score_ == search.cv_results_["mean_test_score"][search.best_index_]
    np.testing.assert_array_equal(search.predict(X_IRIS), best.predict(X_IRIS))
    assert search.score(X_IRIS, Y_IRIS) == best.score(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    assert search.n_splits_ == 3 and search.refit_time_ >= 0 and search.multimetric_ is False
    assert not hasattr(SVC(), "predict_proba") or not hasattr(search, "predict_proba")


def test_transform_is_delegated(tmp_path):
    search = SweepSearchCV(
        StandardScaler(), {"with_mean": [True, False]}, method="grid", cv=3,
        scoring=lambda est, X, y=None: -float(np.abs(est.transform(X)).mean()),
        store=tmp_path / "s.db", dashboard=False,
    ).fit(X_IRIS)  # fmt: skip
    np.testing.assert_allclose(search.transform(X_IRIS), search.best_estimator_.transform(X_IRIS))


def test_multimetric_with_refit_by_name(tmp_path):
    search = svc_search(tmp_path, scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1")
    search.fit(X_IRIS, Y_IRIS)
    assert search.multimetric_ is True
    assert {"mean_test_acc", "mean_test_f1", "rank_test_f1"} <= set(search.cv_results_)
    assert search.best_score_ == search.cv_results_["mean_test_f1"].max()
    assert set(search.scorer_) == {"acc", "f1"}
    runs = sweepnb.runs(search.sweep_id_, store=search.store_)
    assert "mean_test_f1" in runs.columns


def test_multimetric_without_a_refit_name_is_refused_before_any_run(tmp_path):
    search = svc_search(tmp_path, scoring=["accuracy", "f1_macro"])
    with pytest.raises(ValueError, match="refit"):
        search.fit(X_IRIS, Y_IRIS)
    assert not (tmp_path / "s.db").exists()


def test_groups_go_to_the_splitter(tmp_path):
    groups = np.arange(len(Y_IRIS)) % 3
    search = svc_search(tmp_path, params={"C": [1.0]}, cv=GroupKFold(n_splits=3))
    search.fit(X_IRIS, Y_IRIS, groups=groups)
    theirs = GridSearchCV(SVC(), {"C": [1.0]}, cv=GroupKFold(n_splits=3))
    theirs.fit(X_IRIS, Y_IRIS, groups=groups)
    for k in range(3):
        key = f"split{k}_test_score"
        assert search.cv_results_[key][0] == pytest.approx(theirs.cv_results_[key][0])


def test_fit_params_are_split_with_the_folds(tmp_path):
    weights = np.where(Y_IRIS == 0, 5.0, 1.0)
    ours = svc_search(tmp_path, params={"C": [0.1]}).fit(X_IRIS, Y_IRIS, sample_weight=weights)
    theirs = GridSearchCV(SVC(), {"C": [0.1]}, cv=3).fit(X_IRIS, Y_IRIS, sample_weight=weights)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )


def test_pipeline_step_names(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())])
    search = SweepSearchCV(
        pipe, {"svc__C": [0.1, 10.0], "scale__with_mean": [True]}, method="grid", cv=3,
        store=tmp_path / "s.db", dashboard=False,
    ).fit(X_IRIS, Y_IRIS)  # fmt: skip
    assert search.best_params_["svc__C"] == 10.0
    assert search.best_estimator_.named_steps["svc"].C == 10.0


def test_estimators_as_grid_values_are_labelled_in_the_store(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    grid = {"clf": [SVC(), LogisticRegression(max_iter=500)], "clf__C": [1.0]}
    search = SweepSearchCV(pipe, grid, method="grid", cv=3, store=tmp_path / "s.db",
                           dashboard=False).fit(X_IRIS, Y_IRIS)  # fmt: skip
    assert {type(p["clf"]).__name__ for p in search.cv_results_["params"]} == {
        "SVC",
        "LogisticRegression",
    }
    assert set(sweepnb.runs(search.sweep_id_, store=search.store_)["clf"]) == {
        "SVC()",
        "LogisticRegression(max_iter=500)",
    }


def test_a_list_of_grids_runs_each_point_once(tmp_path):
    grids = [{"kernel": ["linear"], "C": [1.0, 10.0]}, {"kernel": ["rbf"], "gamma": [0.1]}]
    search = svc_search(tmp_path, params=grids).fit(X_IRIS, Y_IRIS)
    theirs = GridSearchCV(SVC(), grids, cv=3).fit(X_IRIS, Y_IRIS)
    assert sorted(map(str, search.cv_results_["params"])) == sorted(
        map(str, theirs.cv_results_["params"])
    )


# -- search spaces -------------------------------------------------------------------------------


def test_scipy_stats_distributions_are_sampled_in_their_ranges(tmp_path):
    params = {"C": loguniform(1e-2, 1e2), "tol": uniform(1e-4, 1e-3),
              "max_iter": randint(50, 60), "gamma": expon(scale=0.1)}  # fmt: skip
    search = svc_search(tmp_path, params=params, method="random", n_iter=6, random_state=0)
    search.fit(X_IRIS, Y_IRIS)
    for p in search.cv_results_["params"]:
        assert 1e-2 <= p["C"] <= 1e2 and 1e-4 <= p["tol"] <= 1.1e-3
        assert isinstance(p["max_iter"], int) and 50 <= p["max_iter"] <= 59
        assert p["gamma"] > 0  # expon through its quantile
    spec = sweepnb.Store(search.store_).get_sweep(search.sweep_id_)["config"]["parameters"]
    assert spec["C"]["distribution"] == "log_uniform_values"
    assert spec["max_iter"] == {"distribution": "int_uniform", "min": 50, "max": 59}


def test_wandb_parameters_with_nesting_as_step_names(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())])
    log_c = {"distribution": "log_uniform_values", "min": 0.1, "max": 10}
    params = {"svc": {"parameters": {"C": log_c}}}
    search = SweepSearchCV(pipe, params, method="random", n_iter=3, cv=3, random_state=1,
                           store=tmp_path / "s.db", dashboard=False)  # fmt: skip
    search.fit(X_IRIS, Y_IRIS)
    assert all(0.1 <= p["svc__C"] <= 10 for p in search.cv_results_["params"])


def test_a_whole_sweep_config_brings_its_method(tmp_path):
    config = {"method": "grid", "metric": {"name": "ignored"},
              "parameters": {"C": {"values": [0.5, 2.0]}}}  # fmt: skip
    search = SweepSearchCV(SVC(), config, cv=3, store=tmp_path / "s.db", dashboard=False)
    search.fit(X_IRIS, Y_IRIS)
    assert len(search.cv_results_["params"]) == 2
    stored = sweepnb.Store(search.store_).get_sweep(search.sweep_id_)["config"]
    assert stored["method"] == "grid" and stored["metric"]["name"] == "mean_test_score"


def test_same_seed_same_candidates(tmp_path):
    kw = {"params": {"C": loguniform(1e-2, 1e2)}, "method": "bayes", "n_iter": 4, "random_state": 5}
    first = svc_search(tmp_path / "a", **kw).fit(X_IRIS, Y_IRIS)
    second = svc_search(tmp_path / "b", **kw).fit(X_IRIS, Y_IRIS)
    assert first.cv_results_["params"] == second.cv_results_["params"]


# -- errors --------------------------------------------------------------------------------------


def test_an_unknown_parameter_is_named_before_any_fit(tmp_path):
    search = svc_search(tmp_path, params={"C": [1.0], "gamm": [0.1]})
    with pytest.raises(ValueError, match=r"params: invalid parameter 'gamm' for estimator SVC"):
        search.fit(X_IRIS, Y_IRIS)
    assert not (tmp_path / "s.db").exists()  # no sweep, no run


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"method": "hyperopt"}, "method: expected one of"),
        ({"n_iter": 0}, "n_iter: expected an integer >= 1"),
        ({"n_iter": 2 * 10**9}, "n_iter: at most 1,000,000,000 candidates"),
        ({"early_terminate": "asha"}, "early_terminate: expected None"),
        ({"early_terminate": {"type": "hyperband", "eta": 1}}, "early_terminate"),
        ({"resource": "epochs"}, "resource='epochs': SVC has no partial_fit"),
        ({"params": {"C": 3}}, r"params\['C'\]: expected a list of values"),
        ({"random_state": "x"}, "random_state"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kw, message):
    with pytest.raises((ValueError, TypeError), match=message):
        svc_search(tmp_path, **kw).fit(X_IRIS, Y_IRIS)


def test_error_score_value_is_recorded_with_a_warning(tmp_path):
    # a precomputed kernel needs a square matrix: those fits fail
    search = svc_search(tmp_path, params={"kernel": ["rbf", "precomputed"]}, error_score=-1.0)
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        search.fit(X_IRIS, Y_IRIS)
    failed = [p["kernel"] == "precomputed" for p in search.cv_results_["params"]]
    assert (search.cv_results_["mean_test_score"][failed] == -1.0).all()
    assert search.best_params_["kernel"] == "rbf"


def test_error_score_raise_raises_the_fit_error(tmp_path):
    search = svc_search(tmp_path, params={"kernel": ["precomputed"]}, error_score="raise")
    with pytest.raises(ValueError, match="square"):
        search.fit(X_IRIS, Y_IRIS)


def test_error_score_raise_with_parallel_agents_raises_with_the_traceback(tmp_path):
    search = svc_search(tmp_path, params={"kernel": ["precomputed", "rbf"]}, error_score="raise",
                        n_jobs=2)  # fmt: skip
    with pytest.raises(ValueError, match="square"):
        search.fit(X_IRIS, Y_IRIS)


class ScorerError(RuntimeError):
    pass


def scorer_failing_for_small_c(estimator, X, y):
    if estimator.C < 1:
        raise ScorerError("no score for small C")
    return estimator.score(X, y)


def test_a_failing_scorer_warns_as_sklearn_and_records_error_score(tmp_path):
    search = svc_search(tmp_path, params={"C": [0.1, 10.0]}, scoring=scorer_failing_for_small_c)
    with pytest.warns(UserWarning, match="Scoring failed") as caught:
        search.fit(X_IRIS, Y_IRIS)
    theirs = GridSearchCV(SVC(), {"C": [0.1, 10.0]}, cv=3, scoring=scorer_failing_for_small_c)
    with pytest.warns(UserWarning, match="Scoring failed") as their_caught:
        theirs.fit(X_IRIS, Y_IRIS)
    ours = [str(w.message) for w in caught if "Scoring failed" in str(w.message)]
    assert len(ours) == len([w for w in their_caught if "Scoring failed" in str(w.message)]) == 3
    assert "ScorerError: no score for small C" in ours[0]
    small = [p["C"] == 0.1 for p in search.cv_results_["params"]]
    assert np.isnan(search.cv_results_["mean_test_score"][small]).all()
    assert search.best_params_ == {"C": 10.0}


def test_a_failing_scorer_with_error_score_raise_raises_its_own_exception(tmp_path):
    search = svc_search(tmp_path, params={"C": [0.1]}, scoring=scorer_failing_for_small_c,
                        error_score="raise")  # fmt: skip
    with pytest.raises(ScorerError, match="no score for small C"):
        search.fit(X_IRIS, Y_IRIS)
    runs = sweepnb.Store(search.store_).get_runs(search.sweep_id_, history=False)
    assert len(runs) == 1  # the first failure ends the search


def test_a_failing_scorer_among_several_gets_error_score_for_that_name(tmp_path):
    scoring = {"acc": "accuracy", "picky": scorer_failing_for_small_c}
    search = svc_search(tmp_path, params={"C": [0.1, 10.0]}, scoring=scoring, refit="acc")
    with pytest.warns(UserWarning, match="Scoring failed"):
        search.fit(X_IRIS, Y_IRIS)
    small = [p["C"] == 0.1 for p in search.cv_results_["params"]]
    assert np.isnan(search.cv_results_["mean_test_picky"][small]).all()
    assert not np.isnan(search.cv_results_["mean_test_acc"]).any()


class FailsAfterTheSweepFinished(SVC):
    """Does what a second agent can do meanwhile (finish the sweep: its search ran out), then
    fails its fit."""

    def fit(self, X, y, sample_weight=None):
        if self.kernel == "precomputed":
            sweepnb.Store(sweepnb.run.store.url).set_sweep_state(sweepnb.run.sweep_id, "finished")
        return super().fit(X, y, sample_weight=sample_weight)


def test_error_score_raise_when_another_agent_finished_the_sweep_reports_the_fit_error(tmp_path):
    search = svc_search(tmp_path, estimator=FailsAfterTheSweepFinished(), error_score="raise",
                        params={"kernel": ["precomputed"]}, n_jobs=2)  # fmt: skip
    with pytest.raises(ValueError, match="square") as caught:
        search.fit(X_IRIS, Y_IRIS)
    assert "cannot stop it" not in str(caught.value)  # the run failed with the fit's own error


# -- the store, the CLI --------------------------------------------------------------------------


def test_every_candidate_is_a_run_with_per_fold_history(tmp_path):
    search = svc_search(tmp_path).fit(X_IRIS, Y_IRIS)
    runs = sweepnb.runs(search.sweep_id_, store=search.store_)
    assert len(runs) == 6 and set(runs["state"]) == {"finished"}
    by_id = dict(zip(runs["id"], runs["mean_test_score"], strict=True))
    for run_id, score in zip(search.cv_results_["run_id"], search.cv_results_["mean_test_score"],
                             strict=True):  # fmt: skip
        assert by_id[run_id] == pytest.approx(score)
    history = sweepnb.Store(search.store_).get_runs(search.sweep_id_)[0]["history"]
    assert [row["fold"] for row in history] == [0, 1, 2]
    assert [row["_step"] for row in history] == [0, 1, 2]


def test_the_sweep_of_a_fitted_search_is_finished_in_ls_and_the_dashboard(tmp_path):
    from sweepnb.analysis.tables import sweeps_table
    from sweepnb.notebook.dashboard import Dashboard

    search = SweepSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=3, cv=3,
                           random_state=0, store=str(tmp_path / "s.db"), dashboard=False)  # fmt: skip
    search.fit(X_IRIS, Y_IRIS)
    assert sweeps_table(sweepnb.Store(search.store_)).loc[0, "state"] == "finished"
    dash = Dashboard(search.sweep_id_, store=search.store_)
    head = dash.render(*dash.poll())["text/plain"].splitlines()[0]
    assert "[finished]" in head and "3/3 runs done" in head, head


@pytest.mark.parametrize(("run_cap", "runs"), [(8, 3), (2, 2)])
def test_a_whole_configs_run_cap_and_n_iter_the_smaller_wins_and_the_sweep_is_finished(
    tmp_path, run_cap, runs
):
    from sweepnb.analysis.tables import sweeps_table

    config = {"method": "random", "run_cap": run_cap, "parameters": {"C": {"min": 0.1, "max": 9}}}
    search = SweepSearchCV(SVC(), config, n_iter=3, cv=3, random_state=0,
                           store=str(tmp_path / "s.db"), dashboard=False)  # fmt: skip
    search.fit(X_IRIS, Y_IRIS)
    assert len(search.cv_results_["params"]) == runs
    assert sweeps_table(sweepnb.Store(search.store_)).loc[0, "state"] == "finished"


def test_without_a_store_a_temporary_one_is_used_and_named(tmp_path):
    search = SweepSearchCV(SVC(), {"C": [1.0]}, method="grid", cv=3, dashboard=False)
    search.fit(X_IRIS, Y_IRIS)
    assert os.path.exists(search.store_) and "sweepnb-sklearn-" in search.store_
    assert len(sweepnb.runs(search.sweep_id_, store=search.store_)) == 1


def test_sweepnb_show_lists_the_runs(tmp_path):
    search = svc_search(tmp_path).fit(X_IRIS, Y_IRIS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SWEEPNB_STORE", None)
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "show", search.sweep_id_, "--store", search.store_],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mean_test_score" in done.stdout
    for run_id in search.cv_results_["run_id"]:
        assert run_id in done.stdout


# -- early termination ---------------------------------------------------------------------------


def hopeless_space() -> dict:
    # the last half of the grid is far too regularised: chance-level scores from the first fold
    return {"C": [1.0, 2.0, 3.0, 4.0, 1e-6, 2e-6, 3e-6, 4e-6]}


@pytest.mark.parametrize("rule", ["hyperband", "median"])
def test_early_termination_over_folds_stops_hopeless_candidates(tmp_path, rule):
    kw = {"params": hopeless_space(), "cv": 5, "estimator": LogisticRegression(max_iter=300)}
    plain = svc_search(tmp_path / "a", **kw).fit(X_IRIS, Y_IRIS)
    early = svc_search(tmp_path / "b", early_terminate=rule, **kw).fit(X_IRIS, Y_IRIS)
    folds = lambda s: int(s.cv_results_["n_resources"].sum())
    assert folds(plain) == 40 and folds(early) < folds(plain)
    stopped = [p["C"] for p, st in zip(early.cv_results_["params"], early.cv_results_["state"],
                                       strict=True) if st == "stopped"]  # fmt: skip
    assert stopped and all(c < 1e-3 for c in stopped)
    assert early.best_score_ == plain.best_score_
    runs = sweepnb.runs(early.sweep_id_, store=early.store_)
    assert (runs["state"] == "stopped").sum() == len(stopped)
    # a stopped run carries its estimate at the stop, which bayes reads like any stopped run's
    assert (runs.loc[runs["state"] == "stopped", "mean_test_score"] < 0.9).all()


def test_epochs_of_partial_fit_in_a_pipeline(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("sgd", SGDClassifier(random_state=0))])
    params = {"sgd__alpha": [1e-4, 1e-3, 10.0, 30.0, 50.0, 100.0]}
    search = SweepSearchCV(pipe, params, method="grid", cv=3, resource="epochs", max_resource=9,
                           early_terminate="hyperband", store=tmp_path / "s.db",
                           dashboard=False).fit(X_SMALL, Y_SMALL)  # fmt: skip
    res = search.cv_results_
    assert max(res["n_resources"]) == 9 and min(res["n_resources"]) < 9
    assert search.best_params_["sgd__alpha"] < 1
    history = sweepnb.Store(search.store_).get_runs(search.sweep_id_)[0]["history"]
    assert [row["epoch"] for row in history] == list(range(1, 10))
    assert search.best_estimator_.named_steps["sgd"].t_ > 1  # refit with partial_fit epochs


def test_step_fit_params_are_routed_with_epochs_as_pipeline_does(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("sgd", SGDClassifier(random_state=0))])
    weights = np.where(Y_SMALL == 0, 20.0, 1.0)  # heavy enough to change the fitted model
    kw = {"method": "grid", "cv": 3, "resource": "epochs", "max_resource": 3,
          "store": tmp_path / "s.db", "dashboard": False}  # fmt: skip
    weighted = SweepSearchCV(pipe, {"sgd__alpha": [1e-3]}, **kw).fit(
        X_SMALL, Y_SMALL, sgd__sample_weight=weights, scale__sample_weight=weights
    )
    plain = SweepSearchCV(pipe, {"sgd__alpha": [1e-3]}, **kw).fit(X_SMALL, Y_SMALL)
    # the same model by hand: the head fitted with its weights, three weighted partial_fit epochs
    by_hand = clone(pipe).set_params(sgd__alpha=1e-3)
    Xt = by_hand[:-1].fit_transform(X_SMALL, Y_SMALL, scale__sample_weight=weights)
    for _ in range(3):
        by_hand[-1].partial_fit(Xt, Y_SMALL, classes=np.unique(Y_SMALL), sample_weight=weights)
    ours = weighted.best_estimator_
    np.testing.assert_allclose(ours.named_steps["sgd"].coef_, by_hand[-1].coef_)
    np.testing.assert_allclose(ours.named_steps["scale"].mean_, by_hand[0].mean_)
    assert not np.allclose(ours.named_steps["sgd"].coef_, plain.best_estimator_[-1].coef_)


def test_a_fit_param_naming_no_pipeline_step_is_named_before_any_fit(tmp_path):
    pipe = Pipeline([("scale", StandardScaler()), ("sgd", SGDClassifier())])
    search = SweepSearchCV(pipe, {"sgd__alpha": [1e-3]}, method="grid", cv=3, resource="epochs",
                           store=tmp_path / "s.db", dashboard=False)  # fmt: skip
    with pytest.raises(ValueError, match="'sample_weight' names no step.*'sgd__sample_weight'"):
        search.fit(X_SMALL, Y_SMALL, sample_weight=np.ones(len(Y_SMALL)))
    assert not (tmp_path / "s.db").exists()


def test_warm_start_parameter_as_the_resource(tmp_path):
    model = GradientBoostingClassifier(max_depth=1, random_state=0)
    search = SweepSearchCV(model, {"learning_rate": [1e-4, 0.1, 0.3]}, method="grid", cv=3,
                           resource="n_estimators", max_resource=20, store=tmp_path / "s.db",
                           dashboard=False).fit(X_SMALL, Y_SMALL)  # fmt: skip
    history = sweepnb.Store(search.store_).get_runs(search.sweep_id_)[0]["history"]
    assert [row["n_estimators"] for row in history] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert search.best_estimator_.n_estimators_ == 20


# -- parallel agents -----------------------------------------------------------------------------


def test_n_jobs_two_runs_two_agents_in_worker_processes(tmp_path):
    search = svc_search(tmp_path, params={"C": loguniform(1e-2, 1e2)}, method="random",
                        n_iter=6, n_jobs=2, random_state=0).fit(X_IRIS, Y_IRIS)  # fmt: skip
    runs = sweepnb.Store(search.store_).get_runs(search.sweep_id_, history=False)
    assert len(runs) == 6 and {r["state"] for r in runs} == {"finished"}
    # two agents (loky may run both in one worker process when one ends before the other starts)
    assert len({r["agent"] for r in runs}) == 2
    assert os.getpid() not in {r["pid"] for r in runs}  # candidates ran in worker processes
    assert len(search.cv_results_["params"]) == 6


def test_large_arrays_go_to_parallel_agents_as_one_memory_mapped_file(tmp_path, monkeypatch):
    X, y = make_classification(n_samples=2000, n_features=80, random_state=0)  # 1.3 MB
    # a temp folder of this test's own: other test processes on the machine share /tmp
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def shared() -> set[Path]:
        return set(tmp_path.glob("sweepnb-sklearn-*/data.joblib"))

    before = shared()
    search = svc_search(tmp_path, estimator=LogisticRegression(), params={"C": [0.1, 1.0]},
                        n_jobs=2).fit(X, y)  # fmt: skip
    theirs = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    assert search.best_score_ == pytest.approx(theirs.best_score_)
    assert len(shared() - before) == 1  # one file for both agents, removed when Python exits


# -- scikit-learn's own estimator checks ---------------------------------------------------------


# Every check scikit-learn selects for these two searches passes, so none is listed as expected
# to fail; the array-API checks skip themselves when torch/cupy/array_api_strict are missing.
@parametrize_with_checks(
    [
        SweepSearchCV(
            LogisticRegression(), {"C": [0.1, 1.0]}, method="grid", cv=2, dashboard=False
        ),
        SweepSearchCV(
            Pipeline([("scale", StandardScaler()), ("svc", SVC())]),
            {"svc__C": [1.0]},
            method="grid",
            cv=2,
            dashboard=False,
        ),
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# -- the dashboard -------------------------------------------------------------------------------


def test_outside_ipython_fit_displays_nothing(tmp_path, capsys):
    svc_search(tmp_path, params={"C": [1.0]}, dashboard=None).fit(X_IRIS, Y_IRIS)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def _kernel_cell_outputs(tmp_path: Path, monkeypatch, source: str) -> list[dict]:
    """Run ``source`` as the one cell of a notebook in a real kernel; return its outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    monkeypatch.setenv("PYTHONPATH", checkout_pythonpath())  # the kernel imports this checkout
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    return nb.cells[0].outputs


FIT_IN_KERNEL = """
from sklearn.datasets import load_iris
from sklearn.svm import SVC
from sweepnb.sklearn import SweepSearchCV
X, y = load_iris(return_X_y=True)
SweepSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, method="grid", cv=3, store="s.db",
              dashboard=DASHBOARD).fit(X, y).best_params_
"""


@pytest.mark.parametrize("dashboard", [None, False])
def test_in_a_notebook_fit_shows_the_dashboard_unless_told_not_to(tmp_path, monkeypatch, dashboard):
    import base64
    import io

    from PIL import Image

    source = FIT_IN_KERNEL.replace("DASHBOARD", str(dashboard))
    outputs = _kernel_cell_outputs(tmp_path, monkeypatch, source)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [
        Image.open(io.BytesIO(base64.b64decode(o["data"]["image/png"])))
        for o in outputs
        if "image/png" in o.get("data", {})
    ]
    if dashboard is None:
        assert images and all(image.size[0] > 100 for image in images)
    else:
        assert images == []
    assert "{'C': 10.0}" in outputs[-1]["data"]["text/plain"]
