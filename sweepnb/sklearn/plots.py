"""scikit-learn helpers: W&B's ``wandb.sklearn.plot_*`` charts, offline.

Each ``plot_*`` computes its chart (a ``compat.plot.Chart``: a Table plus a matplotlib drawing)
and logs it into the active run, where it is written as CSV + PNG + JSON like any ``plot.*``::

    with sweepnb.init() as run:
        clf = RandomForestClassifier().fit(X_train, y_train)
        sweepnb.sklearn.plot_classifier(clf, X_train, X_test, y_train, y_test,
                                        clf.predict(X_test), clf.predict_proba(X_test),
                                        labels=list(clf.classes_))

(Issue 15 adds ``SweepSearchCV`` to this module.)
"""

from __future__ import annotations

from typing import Any

from sweepnb.compat import plot
from sweepnb.compat.table import Table
from sweepnb.errors import SweepnbError


def _log(function: str, key: str, chart: plot.Chart) -> plot.Chart:
    from sweepnb.runtime.run import current

    run = current()
    if run is None:
        raise SweepnbError(
            f"sklearn.{function}: no active run; call sweepnb.init() (wandb.init()) first"
        )
    run.log({key: chart})
    return chart


def _encode(function: str, y: Any, labels: Any = None):
    """``y`` as class indices 0..n-1 (sorted classes, as sklearn's ``classes_``) and the names."""
    import numpy as np

    y = np.asarray(y).ravel()
    if y.size == 0:
        raise ValueError(f"sklearn.{function}: y_true is empty")
    classes = np.unique(y)
    if np.issubdtype(y.dtype, np.integer) and classes.min() >= 0:
        n = int(classes.max()) + 1 if labels is None else max(len(labels), int(classes.max()) + 1)
        index, names = y.astype(int), [str(i) for i in range(n)]
    else:
        index, names = np.searchsorted(classes, y), [str(c) for c in classes]
    if labels is not None:
        if len(labels) != len(names):
            raise ValueError(
                f"sklearn.{function}: labels has {len(labels)} names, the data has "
                f"{len(names)} classes {names[:10]}"
            )
        names = [str(label) for label in labels]
    return index, names


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    labels: list | None = None,
    true_labels: list | None = None,
    pred_labels: list | None = None,
    title: str | None = None,
    normalize: bool = False,
) -> plot.Chart:
    """Log the confusion matrix of ``y_pred`` against ``y_true`` (key ``confusion_matrix``).

    W&B's ``true_labels``, ``pred_labels`` (a sub-matrix) and ``normalize`` are refused.

    >>> sweepnb.sklearn.plot_confusion_matrix(y_test, clf.predict(X_test), labels)  # doctest: +SKIP
    """
    import numpy as np

    for arg, value in (("true_labels", true_labels), ("pred_labels", pred_labels)):
        if value is not None:
            raise SweepnbError(f"sklearn.plot_confusion_matrix: {arg} is not supported by sweepnb")
    if normalize:
        raise SweepnbError("sklearn.plot_confusion_matrix: normalize is not supported by sweepnb")

    both = np.concatenate([np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()])
    index, names = _encode("plot_confusion_matrix", both, labels)
    n = len(np.asarray(y_true).ravel())
    chart = plot.confusion_matrix(
        y_true=index[:n], preds=index[n:], class_names=names, title=title or "Confusion matrix"
    )
    return _log("plot_confusion_matrix", "confusion_matrix", chart)


def plot_roc(
    y_true: Any,
    y_probas: Any,
    labels: list | None = None,
    classes_to_plot: list | None = None,
) -> plot.Chart:
    """Log one-vs-rest ROC curves from ``predict_proba`` output (key ``roc``)."""
    index, names = _encode("plot_roc", y_true, labels)
    chart = plot.roc_curve(index, y_probas, names, classes_to_plot, title="ROC")
    return _log("plot_roc", "roc", chart)


def plot_precision_recall(
    y_true: Any,
    y_probas: Any,
    labels: list | None = None,
    classes_to_plot: list | None = None,
) -> plot.Chart:
    """Log one-vs-rest precision-recall curves (key ``precision_recall``)."""
    index, names = _encode("plot_precision_recall", y_true, labels)
    chart = plot.pr_curve(index, y_probas, names, classes_to_plot, title="Precision-recall")
    return _log("plot_precision_recall", "precision_recall", chart)


def plot_feature_importances(
    model: Any,
    feature_names: list | None = None,
    title: str = "Feature importance",
    max_num_features: int | None = None,
) -> plot.Chart:
    """Log the model's ``feature_importances_`` (or ``|coef_|``) as bars, largest first."""
    import numpy as np

    if hasattr(model, "feature_importances_"):
        values = np.asarray(model.feature_importances_, dtype=float)
    elif hasattr(model, "coef_"):
        values = np.abs(np.asarray(model.coef_, dtype=float))
        values = values.mean(axis=0) if values.ndim == 2 else values
    else:
        raise TypeError(
            f"sklearn.plot_feature_importances: model {type(model).__name__} has neither "
            "feature_importances_ nor coef_ (is it fitted?)"
        )
    names = [f"feature_{i}" for i in range(len(values))] if feature_names is None else feature_names
    if len(names) != len(values):
        raise ValueError(
            f"sklearn.plot_feature_importances: feature_names has {len(names)} names, the "
            f"model has {len(values)} features"
        )
    order = np.argsort(-values)[:max_num_features]
    table = Table(columns=["feature_names", "importance"])
    for i in order:
        table.add_data(str(names[i]), float(values[i]))
    chart = plot.bar(table, "feature_names", "importance", title=title)
    return _log("plot_feature_importances", "feature_importances", chart)


def plot_learning_curve(
    model: Any,
    X: Any,
    y: Any,
    cv: Any = None,
    shuffle: bool = False,
    random_state: Any = None,
    train_sizes: Any = None,
    n_jobs: int = 1,
    scoring: Any = None,
) -> plot.Chart:
    """Log train and cross-validation scores against the training set size (refits ``model``)."""
    import numpy as np
    from sklearn.model_selection import learning_curve

    sizes = np.linspace(0.1, 1.0, 5) if train_sizes is None else train_sizes
    used, train, test = learning_curve(
        model,
        X,
        y,
        cv=cv,
        shuffle=shuffle,
        random_state=random_state,
        train_sizes=sizes,
        n_jobs=n_jobs,
        scoring=scoring,
    )
    table = Table(columns=["dataset", "train_size", "score"])
    for name, scores in (("train", train), ("test", test)):
        for size, score in zip(used, scores.mean(axis=1)):
            table.add_data(name, int(size), float(score))
    chart = plot.line(table, "train_size", "score", stroke="dataset", title="Learning curve")
    return _log("plot_learning_curve", "learning_curve", chart)


def plot_class_proportions(y_train: Any, y_test: Any, labels: list | None = None) -> plot.Chart:
    """Log how many samples of each class the train and test sets hold, side by side."""
    import numpy as np

    both = np.concatenate([np.asarray(y_train).ravel(), np.asarray(y_test).ravel()])
    index, names = _encode("plot_class_proportions", both, labels)
    n = len(np.asarray(y_train).ravel())
    table = Table(columns=["class", "dataset", "count"])
    for name, part in (("train", index[:n]), ("test", index[n:])):
        counts = np.bincount(part, minlength=len(names))
        for c, count in enumerate(counts):
            table.add_data(names[c], name, int(count))
    fields = {"label": "class", "value": "count", "stroke": "dataset"}
    chart = plot.Chart("grouped_bar", table, fields, "Class proportions")
    return _log("plot_class_proportions", "class_proportions", chart)


def plot_calibration_curve(
    clf: Any, X: Any, y: Any, clf_name: str = "Classifier", n_bins: int = 10
) -> plot.Chart:
    """Log a binary classifier's reliability curve: ``clf`` is fitted on 70% of ``X, y`` and its
    predicted probabilities on the other 30% are compared with the observed frequencies."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.calibration import calibration_curve
    from sklearn.model_selection import train_test_split

    index, names = _encode("plot_calibration_curve", y)
    if len(names) != 2:
        raise ValueError(
            f"sklearn.plot_calibration_curve: y has {len(names)} classes; the calibration curve "
            "is for binary classifiers"
        )
    X_train, X_test, y_train, y_test = train_test_split(X, index, test_size=0.3, random_state=0)
    model = clone(clf).fit(X_train, y_train)
    probas = model.predict_proba(X_test)[:, 1]
    observed, predicted = calibration_curve(y_test, probas, n_bins=n_bins)
    table = Table(columns=["model", "mean_predicted_value", "fraction_of_positives"])
    for p in (0.0, 1.0):
        table.add_data("perfectly calibrated", p, p)
    for p, o in zip(predicted, observed):
        table.add_data(str(clf_name), float(np.round(p, 6)), float(np.round(o, 6)))
    chart = plot.line(
        table,
        "mean_predicted_value",
        "fraction_of_positives",
        stroke="model",
        title="Calibration curve",
    )
    return _log("plot_calibration_curve", "calibration_curve", chart)


def plot_summary_metrics(
    model: Any,
    X_train: Any = None,
    y_train: Any = None,
    X_test: Any = None,
    y_test: Any = None,
) -> plot.Chart:
    """Log a fitted model's test metrics as bars: accuracy, precision, recall, f1 (weighted) for
    a classifier; MAE, MSE, R² for a regressor."""
    from sklearn import metrics
    from sklearn.base import is_classifier

    if X_test is None or y_test is None:
        raise ValueError("sklearn.plot_summary_metrics: X_test and y_test are required")
    pred = model.predict(X_test)
    if is_classifier(model):
        values = {
            "accuracy": metrics.accuracy_score(y_test, pred),
            "precision": metrics.precision_score(y_test, pred, average="weighted", zero_division=0),
            "recall": metrics.recall_score(y_test, pred, average="weighted", zero_division=0),
            "f1": metrics.f1_score(y_test, pred, average="weighted", zero_division=0),
        }
    else:
        values = {
            "mae": metrics.mean_absolute_error(y_test, pred),
            "mse": metrics.mean_squared_error(y_test, pred),
            "r2": metrics.r2_score(y_test, pred),
        }
    table = Table(columns=["metric_name", "metric_value"])
    for name, value in values.items():
        table.add_data(name, float(value))
    chart = plot.bar(table, "metric_name", "metric_value", title="Summary metrics")
    return _log("plot_summary_metrics", "summary_metrics", chart)


def plot_residuals(regressor: Any, X: Any, y: Any) -> plot.Chart:
    """Log a fitted regressor's residuals (y - predicted) against its predictions."""
    import numpy as np

    pred = np.asarray(regressor.predict(X), dtype=float).ravel()
    residual = np.asarray(y, dtype=float).ravel() - pred
    table = Table(columns=["predicted", "residual"], data=np.column_stack([pred, residual]))
    chart = plot.scatter(table, "predicted", "residual", title="Residuals")
    return _log("plot_residuals", "residuals", chart)


def plot_classifier(
    model: Any,
    X_train: Any,
    X_test: Any,
    y_train: Any,
    y_test: Any,
    y_pred: Any,
    y_probas: Any,
    labels: list | None = None,
    is_binary: bool = False,
    model_name: str = "Classifier",
    feature_names: list | None = None,
    log_learning_curve: bool = False,
) -> None:
    """W&B's classifier combo: feature importances (when the model has them), class
    proportions, learning curve (with ``log_learning_curve=True``), confusion matrix, summary
    metrics, ROC and precision-recall curves, and the calibration curve when ``is_binary``."""
    if hasattr(model, "feature_importances_") or hasattr(model, "coef_"):
        plot_feature_importances(model, feature_names)
    plot_class_proportions(y_train, y_test, labels)
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)
    if is_binary:
        plot_calibration_curve(model, X_train, y_train, model_name)


def plot_regressor(
    model: Any,
    X_train: Any,
    X_test: Any,
    y_train: Any,
    y_test: Any,
    model_name: str = "Regressor",
) -> None:
    """W&B's regressor combo: learning curve, summary metrics and residuals (W&B's outlier
    candidates chart, a Cook's distance plot, is not drawn offline)."""
    plot_learning_curve(model, X_train, y_train)
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_residuals(model, X_test, y_test)
