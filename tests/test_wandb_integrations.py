"""The framework integrations log real metrics into real sweeps (XGBoost, LightGBM, Keras).

XGBoost and LightGBM are real packages (the `test` extra); each trains on `load_breast_cancer`
inside `sweepnb.agent` and the stored history is read back. Keras tests run when Keras is
installed; the callbacks' Keras interface is also driven directly, in a real run, without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sweepnb
from sweepnb.compat.integrations import keras as wandb_keras
from sweepnb.compat.shim import real_wandb_origin, shim_path
from sweepnb.errors import SweepnbError
from sweepnb.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "wandb_examples"


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def grid(name: str, values: list) -> dict:
    return {
        "method": "grid",
        "metric": {"name": name, "goal": "minimize"},
        "parameters": {"max_depth": {"values": values}},
    }


# -- XGBoost ---------------------------------------------------------------------------------


def test_xgboost_sklearn_api_logs_each_iteration_into_the_sweep(tmp_path, data):
    xgb = pytest.importorskip("xgboost")
    from sweepnb.compat.integrations.xgboost import WandbCallback

    X_train, X_test, y_train, y_test = data
    db = str(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(grid("validation_0-logloss", [2, 3]), store=db)

    def train():
        run = sweepnb.init()
        model = xgb.XGBClassifier(
            n_estimators=6, max_depth=run.config.max_depth, callbacks=[WandbCallback()]
        )
        model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)

    sweepnb.agent(sweep_id, train, store=db)
    runs = Store(db).get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    for run in runs:
        history = run["history"]
        assert [row["epoch"] for row in history] == list(range(6))
        losses = [row["validation_0-logloss"] for row in history]
        assert all(0 < v < 0.7 for v in losses) and losses[-1] < losses[0]
        assert len(run["summary"]["feature_importance"]) > 0
    best = sweepnb.best_run(sweep_id, store=db)
    assert best["metric"]["value"] == min(
        row["validation_0-logloss"] for r in runs for row in r["history"]
    )


def test_xgboost_train_with_evals_and_early_stopping(tmp_path, data):
    xgb = pytest.importorskip("xgboost")
    from sweepnb.compat.integrations.xgboost import WandbCallback, wandb_callback

    X_train, X_test, y_train, y_test = data
    dtrain, dvalid = xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_test, y_test)
    with sweepnb.init(store=str(tmp_path / "s.db")) as run:
        booster = xgb.train(
            {"objective": "binary:logistic", "eval_metric": ["logloss", "error"]},
            dtrain,
            num_boost_round=50,
            evals=[(dtrain, "train"), (dvalid, "validation")],
            early_stopping_rounds=3,
            callbacks=[WandbCallback()],
            verbose_eval=False,
        )
    assert isinstance(wandb_callback(), WandbCallback)
    stored = Store(str(tmp_path / "s.db")).get_run(run.id)
    keys = set(stored["history"][0])
    assert {"train-logloss", "train-error", "validation-logloss", "validation-error"} <= keys
    assert stored["summary"]["best_iteration"] == booster.best_iteration
    assert len(stored["history"]) == booster.num_boosted_rounds()


@pytest.mark.parametrize(
    ("example", "package", "project"),
    [("xgboost_sweep.py", "xgboost", "xgboost-sweeps"), ("lightgbm_sweep.py", "lightgbm", None)],
)
def test_the_examples_run_unchanged_with_import_wandb(tmp_path, example, package, project):
    pytest.importorskip(package)
    if real_wandb_origin() is not None:
        pytest.skip("a real wandb is installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    env["PYTHONPATH"] = os.pathsep.join([shim_path(), str(ROOT), env.get("PYTHONPATH", "")])
    env["SWEEPNB_STORE"] = str(tmp_path / "s.db")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    store = Store(str(tmp_path / "s.db"))
    sweep = store.get_sweep(done.stdout.strip())
    if project:
        assert (sweep["entity"], sweep["project"]) == ("me", project)
    metric = sweep["config"]["metric"]["name"]
    runs = store.get_runs(sweep["id"])
    assert [r["state"] for r in runs] == ["finished", "finished"]
    for run in runs:
        assert len(run["history"]) == 5 and all(row[metric] > 0 for row in run["history"])


def test_an_integration_without_a_run_says_so(data):
    xgb = pytest.importorskip("xgboost")
    from sweepnb.compat.integrations.xgboost import WandbCallback

    X_train, _, y_train, _ = data
    model = xgb.XGBClassifier(n_estimators=2, callbacks=[WandbCallback()])
    with pytest.raises(SweepnbError, match=r"WandbCallback: no active run; call wandb.init\(\)"):
        model.fit(X_train, y_train)


# -- LightGBM --------------------------------------------------------------------------------


def test_lightgbm_callback_and_log_summary_in_a_sweep(tmp_path, data):
    lgb = pytest.importorskip("lightgbm")
    from sweepnb.compat.integrations.lightgbm import log_summary, wandb_callback

    X_train, X_test, y_train, y_test = data
    db = str(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(grid("valid_0_binary_logloss", [2, 4]), store=db)

    def train():
        run = sweepnb.init()
        params = {"objective": "binary", "max_depth": run.config.max_depth, "verbose": -1}
        booster = lgb.train(
            params,
            lgb.Dataset(X_train, y_train),
            num_boost_round=8,
            valid_sets=[lgb.Dataset(X_test, y_test)],
            callbacks=[wandb_callback()],
        )
        log_summary(booster)
        assert run.config.objective == "binary"  # log_params added the booster's parameters

    sweepnb.agent(sweep_id, train, store=db)
    runs = Store(db).get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"], runs[0].get("error")
    for run in runs:
        history = run["history"]
        assert [row["iteration"] for row in history] == list(range(8))
        losses = [row["valid_0_binary_logloss"] for row in history]
        assert losses[-1] < losses[0] < 0.7
        assert run["summary"]["best_iteration"] >= 0
        assert len(run["summary"]["feature_importance"]) == 30
        assert run["config"]["max_depth"] in (2, 4)


def test_lightgbm_log_summary_names_a_wrong_model(tmp_path):
    pytest.importorskip("lightgbm")
    from sweepnb.compat.integrations.lightgbm import log_summary

    with (
        sweepnb.init(mode="disabled"),
        pytest.raises(TypeError, match="log_summary: model must be a lightgbm.Booster"),
    ):
        log_summary("model.txt")


# -- Keras -----------------------------------------------------------------------------------


def test_keras_metrics_logger_logs_epochs_and_batches_through_the_callback_interface(tmp_path):
    with sweepnb.init(store=str(tmp_path / "s.db")) as run:
        logger = wandb_keras.WandbMetricsLogger(log_freq=2)
        logger.set_params({"epochs": 2})
        for epoch in range(2):
            for batch in range(4):
                logger.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1)})
            logger.on_epoch_end(epoch, {"loss": 0.5 - epoch / 10, "val_loss": 0.6})
    history = Store(str(tmp_path / "s.db")).get_run(run.id)["history"]
    epochs = [row for row in history if "epoch/epoch" in row]
    batches = [row for row in history if "batch/batch_step" in row]
    assert [(r["epoch/epoch"], r["epoch/loss"], r["epoch/val_loss"]) for r in epochs] == [
        (0, 0.5, 0.6),
        (1, 0.4, 0.6),
    ]
    assert [r["batch/batch_step"] for r in batches] == [0, 2, 4, 6]
    with (
        pytest.raises(ValueError, match="log_freq: expected 'epoch', 'batch'"),
        sweepnb.init(mode="disabled"),
    ):
        wandb_keras.WandbMetricsLogger(log_freq=0)


def test_keras_wandbcallback_keeps_the_best_epoch_in_the_summary(tmp_path):
    with sweepnb.init(store=str(tmp_path / "s.db")) as run:
        callback = wandb_keras.WandbCallback(monitor="val_loss", save_model=False)
        for epoch, val_loss in enumerate([0.9, 0.4, 0.6]):
            callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val_loss})
    stored = Store(str(tmp_path / "s.db")).get_run(run.id)
    assert [row["val_loss"] for row in stored["history"]] == [0.9, 0.4, 0.6]
    assert stored["summary"]["best_val_loss"] == 0.4 and stored["summary"]["best_epoch"] == 1


def test_keras_callbacks_train_a_real_model(tmp_path):
    keras = pytest.importorskip("keras", reason="Keras/TensorFlow is not installed (not required)")
    import numpy as np

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    with sweepnb.init(store=str(tmp_path / "s.db")) as run:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(
            x,
            y,
            epochs=3,
            validation_split=0.25,
            verbose=0,
            callbacks=[wandb_keras.WandbMetricsLogger(), wandb_keras.WandbCallback()],
        )
    history = Store(str(tmp_path / "s.db")).get_run(run.id)["history"]
    assert [row["epoch/epoch"] for row in history if "epoch/epoch" in row] == [0, 1, 2]
    assert Path(run.summary["best_model_path"]).is_file()
