"""``plot.*`` charts and ``sklearn.plot_*`` (issue 12 points 3 and 7): each logged chart is a
CSV table, a PNG that opens, and a JSON naming the chart kind, referenced from the history."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image as PILImage

import sweepnb
from sweepnb import Table, plot
from sweepnb.errors import SweepnbError
from sweepnb.store.files import files_dir


@pytest.fixture(autouse=True)
def _no_files_override(monkeypatch):
    monkeypatch.delenv("SWEEPNB_FILES", raising=False)


def chart_files(store, ref: dict) -> tuple[pd.DataFrame, dict, tuple[int, int]]:
    """The chart's table, its JSON spec and its PNG size, read from disk."""
    png = files_dir(store) / ref["path"]
    table = pd.read_csv(png.with_name(ref["table"]))
    spec = json.loads(png.with_name(png.stem + ".chart.json").read_text())
    with PILImage.open(png) as image:
        image.load()
        return table, spec, image.size


def log_chart(store, chart) -> dict:
    with sweepnb.init(store=store.url) as run:
        run.log({"chart": chart})
    return store.get_run(run.id)["history"][0]["chart"]


XY = Table(columns=["step", "loss", "model"], data=[[0, 1.0, "a"], [1, 0.5, "a"], [0, 2, "b"]])


@pytest.mark.parametrize(
    "make, kind",
    [
        (lambda: plot.line(XY, "step", "loss", stroke="model", title="Loss"), "line"),
        (lambda: plot.scatter(XY, "step", "loss"), "scatter"),
        (lambda: plot.bar(XY, "model", "loss"), "bar"),
        (lambda: plot.histogram(XY, "loss"), "histogram"),
    ],
)
def test_table_charts_write_csv_png_and_spec(store, make, kind):
    ref = log_chart(store, make())
    assert (ref["_type"], ref["kind"]) == ("chart", kind)
    table, spec, size = chart_files(store, ref)
    assert table.columns.tolist() == ["step", "loss", "model"] and len(table) == 3
    assert spec["kind"] == kind
    assert size == (640, 420)


def test_line_series_table_has_one_row_per_point(store):
    ref = log_chart(store, plot.line_series([0, 1, 2], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"]))
    table, spec, _ = chart_files(store, ref)
    assert table.columns.tolist() == ["step", "lineKey", "lineVal"]
    assert table.groupby("lineKey")["lineVal"].sum().to_dict() == {"down": 6, "up": 6}
    assert spec["fields"]["stroke"] == "lineKey"


def test_confusion_matrix_counts_pairs(store):
    chart = plot.confusion_matrix(
        y_true=[0, 0, 1, 1, 1], preds=[0, 1, 1, 1, 0], class_names=["cat", "dog"]
    )
    table, _, _ = chart_files(store, log_chart(store, chart))
    counts = {(a, p): n for a, p, n in table.itertuples(index=False)}
    assert counts == {("cat", "cat"): 1, ("cat", "dog"): 1, ("dog", "dog"): 2, ("dog", "cat"): 1}
    from_probs = plot.confusion_matrix(probs=[[0.9, 0.1], [0.2, 0.8]], y_true=[0, 0])
    assert from_probs.table.get_column("nPredictions") == [1, 1, 0, 0]


def test_roc_and_pr_curves_per_class(store):
    y = np.array([0, 1, 1, 0, 1, 0])
    probas = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3], [0.1, 0.9], [0.6, 0.4]])
    roc, spec, _ = chart_files(
        store, log_chart(store, plot.roc_curve(y, probas, labels=["n", "p"]))
    )
    assert set(roc["class"]) == {"n", "p"} and spec["kind"] == "roc_curve"
    positive = roc[roc["class"] == "p"]
    assert positive[["fpr", "tpr"]].iloc[-1].tolist() == [1.0, 1.0]
    assert positive["tpr"].max() == 1.0 and positive[positive["fpr"] == 0]["tpr"].max() == 1.0
    pr = plot.pr_curve(y, probas, classes_to_plot=[1]).table.get_dataframe()
    assert set(pr["class"]) == {"1"} and pr["precision"].max() == 1.0


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: plot.line(XY, "epoch", "loss"), "plot.line: x 'epoch' is not a column"),
        (lambda: plot.bar([[1]], "a", "b"), "plot.bar: table must be a sweepnb Table"),
        (lambda: plot.confusion_matrix(y_true=[0]), "exactly one of probs and preds"),
        (
            lambda: plot.confusion_matrix(y_true=[0, 2], preds=[0, 1], class_names=["a", "b"]),
            "class_names has 2 names but y_true/preds hold [2]",
        ),
        (lambda: plot.roc_curve([0, 1], [[0.5, 0.5]]), "y_probas has shape (1, 2), expected (2,"),
        (lambda: plot.roc_curve([0, 5], [[1, 0], [0, 1]]), "y_true holds [5]"),
        (lambda: plot.line_series([0, 1], [[1, 2], [3]]), "series 'key_1' has 2 xs and 1 ys"),
    ],
)
def test_plot_bad_arguments_name_the_argument(make, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert words in str(info.value)


# -- wandb.sklearn.plot_* ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, random_state=0)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X_train, y_train)
    return model, X_train, X_test, y_train, y_test, list(data.target_names)


def test_sklearn_plot_classifier_logs_its_charts(store, iris):
    model, X_train, X_test, y_train, y_test, labels = iris
    with sweepnb.init(store=store.url) as run:
        sweepnb.sklearn.plot_classifier(
            model,
            X_train,
            X_test,
            y_train,
            y_test,
            model.predict(X_test),
            model.predict_proba(X_test),
            labels,
            log_learning_curve=True,
        )
    listed = sweepnb.media(run.id, store=store.url)
    assert listed["key"].tolist() == [
        "feature_importances",
        "class_proportions",
        "learning_curve",
        "confusion_matrix",
        "summary_metrics",
        "roc",
        "precision_recall",
    ]
    for path in listed["path"]:
        with PILImage.open(path) as png:
            assert png.size == (640, 420)
    history = store.get_run(run.id)["history"]
    proportions = pd.read_csv(
        files_dir(store) / history[1]["class_proportions"]["path"].replace(".png", ".csv")
    )
    assert proportions.groupby("dataset")["count"].sum().to_dict() == {"test": 38, "train": 112}
    assert set(proportions["class"]) == set(labels)


def test_sklearn_string_labels_and_regressor(store):
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    named = np.where(y == 1, "benign", "malignant")
    X_diab, y_diab = load_diabetes(return_X_y=True)
    parts = train_test_split(X_diab, y_diab, random_state=0)
    with sweepnb.init(store=store.url) as run:
        cm = sweepnb.sklearn.plot_confusion_matrix(named[:50], named[::-1][:50])
        calibration = sweepnb.sklearn.plot_calibration_curve(
            LogisticRegression(max_iter=5000), X, y, "logreg"
        )
        sweepnb.sklearn.plot_regressor(Ridge().fit(parts[0], parts[2]), *parts)
    assert cm.fields["classes"] == ["benign", "malignant"]
    assert set(calibration.table.get_column("model")) == {"perfectly calibrated", "logreg"}
    keys = sweepnb.media(run.id, store=store.url)["key"].tolist()
    assert keys == [
        "confusion_matrix",
        "calibration_curve",
        "learning_curve",
        "summary_metrics",
        "residuals",
    ]
    summary = store.get_run(run.id)["summary"]
    metrics = pd.read_csv(
        files_dir(store) / summary["summary_metrics"]["path"].replace(".png", ".csv")
    )
    assert metrics["metric_name"].tolist() == ["mae", "mse", "r2"]


def test_sklearn_without_a_run_names_the_function():
    with pytest.raises(SweepnbError, match=r"sklearn.plot_roc: no active run"):
        sweepnb.sklearn.plot_roc([0, 1], [[0.9, 0.1], [0.2, 0.8]])


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda sk: sk.plot_feature_importances(object()), "has neither feature_importances_"),
        (lambda sk: sk.plot_roc([0, 1], [[1, 0], [0, 1]], labels=["a"]), "labels has 1 names"),
        (lambda sk: sk.plot_calibration_curve(None, [[0]] * 3, [0, 1, 2]), "has 3 classes"),
        (lambda sk: sk.plot_confusion_matrix([0], [0], normalize=True), "normalize is not supp"),
    ],
)
def test_sklearn_bad_arguments(store, call, words):
    with (
        sweepnb.init(store=store.url),
        pytest.raises((ValueError, TypeError, SweepnbError)) as info,
    ):
        call(sweepnb.sklearn)
    assert words in str(info.value)
