"""W&B's ``wandb.plot.*`` charts, offline: each makes a ``Chart`` (a Table plus what to draw).

Logged with ``run.log({"roc": plot.roc_curve(y, probas)})``, a chart writes its table as CSV,
a PNG drawn with matplotlib (a ``matplotlib.figure.Figure``, no pyplot state, so it is safe in
threads and agents) and a small JSON naming the chart kind and fields. The data step (the Table)
and the drawing step (``_draw_*``) are separate, so the data is checked without drawing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sweepnb.compat.media_types import Media, _as_array
from sweepnb.compat.table import Table

PNG_SIZE = (6.4, 4.2)  # inches at 100 dpi: 640x420 pixels


class Chart(Media):
    """A chart: its ``table``, ``kind`` (line, scatter, bar, histogram, line_series,
    confusion_matrix, roc_curve, pr_curve, ...), the ``fields`` naming its columns, a ``title``."""

    _type = "chart"

    def __init__(self, kind: str, table: Table, fields: dict, title: str | None = None):
        self.kind = kind
        self.table = table
        self.fields = fields
        self.title = title

    def __repr__(self) -> str:
        return f"<sweepnb Chart {self.kind}: {len(self.table)} rows, fields {self.fields}>"

    def figure(self):
        """The chart drawn on a new ``matplotlib.figure.Figure``."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=PNG_SIZE, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        _DRAW[self.kind](ax, self.table.get_dataframe(), self.fields)
        if self.title:
            ax.set_title(self.title)
        return fig

    def write(self, folder: Path, stem: str) -> dict:
        table_ref = self.table.write(folder, stem)
        png = folder / f"{stem}.png"
        self.figure().savefig(png, format="png")
        spec = {"kind": self.kind, "fields": self.fields, "title": self.title}
        (folder / f"{stem}.chart.json").write_text(json.dumps(spec))
        return {
            "_type": self._type,
            "path": png.name,
            "kind": self.kind,
            "table": table_ref["path"],
            "caption": self.title,
        }


def _columns(who: str, table: Any, **names: Any) -> None:
    if not isinstance(table, Table):
        raise TypeError(f"plot.{who}: table must be a sweepnb Table, not {type(table).__name__}")
    for arg, name in names.items():
        if name is not None and name not in table.columns:
            raise ValueError(
                f"plot.{who}: {arg} {name!r} is not a column of the table "
                f"(columns: {table.columns})"
            )


def line(
    table: Table, x: str, y: str, stroke: str | None = None, title: str | None = None
) -> Chart:
    """A line of column ``y`` against ``x`` (one line per value of ``stroke``).

    >>> plot.line(Table(columns=["x", "y"], data=[[0, 1], [1, 3]]), "x", "y")  # doctest: +SKIP
    """
    _columns("line", table, x=x, y=y, stroke=stroke)
    return Chart("line", table, {"x": x, "y": y, "stroke": stroke}, title)


def scatter(table: Table, x: str, y: str, title: str | None = None) -> Chart:
    """Points of column ``y`` against ``x``. ``plot.scatter(table, "lr", "loss")``"""
    _columns("scatter", table, x=x, y=y)
    return Chart("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str | None = None) -> Chart:
    """One bar per row: ``value`` for each ``label``. ``plot.bar(table, "class", "count")``"""
    _columns("bar", table, label=label, value=value)
    return Chart("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str | None = None) -> Chart:
    """A histogram of column ``value``. ``plot.histogram(table, "score")``"""
    _columns("histogram", table, value=value)
    return Chart("histogram", table, {"value": value}, title)


def line_series(
    xs: Any, ys: Any, keys: list | None = None, title: str | None = None, xname: str | None = None
) -> Chart:
    """Several lines: ``ys`` a list of series, ``xs`` one shared x list or one per series.

    >>> plot.line_series([0, 1, 2], [[1, 2, 3], [2, 2, 2]], keys=["a", "b"])  # doctest: +SKIP
    """
    ys = [list(_as_array(y, "plot.line_series", "ys").ravel()) for y in ys]
    xs = list(xs)
    if xs and not hasattr(xs[0], "__len__"):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise ValueError(f"plot.line_series: xs has {len(xs)} series, ys has {len(ys)}")
    keys = [f"key_{i}" for i in range(len(ys))] if keys is None else [str(k) for k in keys]
    if len(keys) != len(ys):
        raise ValueError(f"plot.line_series: keys has {len(keys)} names, ys has {len(ys)} series")
    table = Table(columns=["step", "lineKey", "lineVal"])
    for key, x, y in zip(keys, xs, ys):
        x = list(x)
        if len(x) != len(y):
            raise ValueError(f"plot.line_series: series {key!r} has {len(x)} xs and {len(y)} ys")
        for xi, yi in zip(x, y):
            table.add_data(xi, key, yi)
    fields = {"x": "step", "y": "lineVal", "stroke": "lineKey", "xname": xname or "x"}
    return Chart("line_series", table, fields, title)


# ---------------------------------------------------------------------------------------------
# Classification charts
# ---------------------------------------------------------------------------------------------


def _labels(who: str, y_true: Any):
    y = _as_array(y_true, f"plot.{who}", "y_true").ravel()
    if y.size == 0:
        raise ValueError(f"plot.{who}: y_true is empty")
    return y


def _probas(who: str, y_probas: Any, n: int):
    import numpy as np

    probas = _as_array(y_probas, f"plot.{who}", "y_probas").astype(float)
    if probas.ndim == 1:
        probas = probas[:, None]
    if probas.ndim != 2 or probas.shape[0] != n:
        raise ValueError(
            f"plot.{who}: y_probas has shape {probas.shape}, expected ({n}, n_classes) "
            "(one row per y_true value)"
        )
    if probas.shape[1] == 1:  # a binary classifier's positive-class probability
        probas = np.hstack([1 - probas, probas])
    return probas


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: list | None = None,
    title: str | None = None,
) -> Chart:
    """Counts of (actual, predicted) class pairs; give ``preds`` or ``probs`` (argmax taken).

    Classes are indices ``0..n-1`` (named by ``class_names``) or the labels themselves.

    >>> plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0], class_names=["a", "b"])  # doctest: +SKIP
    """
    import numpy as np

    if y_true is None:
        raise ValueError("plot.confusion_matrix: y_true is required")
    if (probs is None) == (preds is None):
        raise ValueError("plot.confusion_matrix: pass exactly one of probs and preds")
    y = _labels("confusion_matrix", y_true)
    if probs is not None:
        preds = _probas("confusion_matrix", probs, len(y)).argmax(axis=1)
    p = _as_array(preds, "plot.confusion_matrix", "preds").ravel()
    if len(p) != len(y):
        raise ValueError(f"plot.confusion_matrix: preds has {len(p)} values, y_true has {len(y)}")
    if class_names is not None:
        names = [str(c) for c in class_names]
        index = {i: i for i in range(len(names))}
        bad = sorted({v for v in np.concatenate([y, p]).tolist() if v not in index}, key=str)
        if bad:
            raise ValueError(
                f"plot.confusion_matrix: class_names has {len(names)} names but y_true/preds "
                f"hold {bad[:5]} (expected class indices 0..{len(names) - 1})"
            )
    else:
        values = sorted(set(y.tolist()) | set(p.tolist()), key=lambda v: (str(type(v)), v))
        names = [str(v) for v in values]
        index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(names), len(names)), dtype=int)
    for actual, predicted in zip(y.tolist(), p.tolist()):
        counts[index[actual], index[predicted]] += 1
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i, actual in enumerate(names):
        for j, predicted in enumerate(names):
            table.add_data(actual, predicted, int(counts[i, j]))
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    return Chart("confusion_matrix", table, {**fields, "classes": names}, title)


def _curve(kind: str, y_true, y_probas, labels, classes_to_plot, title) -> Chart:
    import numpy as np
    from sklearn import metrics

    y = _labels(kind, y_true)
    probas = _probas(kind, y_probas, len(y))
    classes = list(range(probas.shape[1]))
    seen = set(y.tolist())
    if not seen <= set(classes):
        raise ValueError(
            f"plot.{kind}: y_true holds {sorted(seen - set(classes), key=str)[:5]}; expected "
            f"class indices 0..{len(classes) - 1} (one per y_probas column)"
        )
    names = [str(c) for c in (labels if labels is not None else classes)]
    if len(names) != len(classes):
        raise ValueError(
            f"plot.{kind}: labels has {len(names)} names, y_probas {len(classes)} columns"
        )
    plot_classes = classes if classes_to_plot is None else list(classes_to_plot)
    x_name, y_name = ("fpr", "tpr") if kind == "roc_curve" else ("recall", "precision")
    table = Table(columns=["class", x_name, y_name])
    for c in plot_classes:
        if c not in classes:
            raise ValueError(f"plot.{kind}: classes_to_plot has {c!r}, not a class index")
        positive = (y == c).astype(int)
        if positive.min() == positive.max():
            continue  # a class absent (or alone) in y_true has no curve
        if kind == "roc_curve":
            xs, ys, _ = metrics.roc_curve(positive, probas[:, c])
        else:
            ys, xs, _ = metrics.precision_recall_curve(positive, probas[:, c])
        for xi, yi in zip(np.round(xs, 6), np.round(ys, 6)):
            table.add_data(names[c], float(xi), float(yi))
    return Chart(kind, table, {"x": x_name, "y": y_name, "stroke": "class"}, title)


def roc_curve(
    y_true: Any,
    y_probas: Any,
    labels: list | None = None,
    classes_to_plot: list | None = None,
    title: str | None = None,
) -> Chart:
    """ROC curve per class (one vs rest) from true class indices and predicted probabilities.

    >>> plot.roc_curve([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])  # doctest: +SKIP
    """
    return _curve("roc_curve", y_true, y_probas, labels, classes_to_plot, title)


def pr_curve(
    y_true: Any,
    y_probas: Any,
    labels: list | None = None,
    classes_to_plot: list | None = None,
    title: str | None = None,
) -> Chart:
    """Precision-recall curve per class (one vs rest). ``plot.pr_curve(y_test, probas)``"""
    return _curve("pr_curve", y_true, y_probas, labels, classes_to_plot, title)


# ---------------------------------------------------------------------------------------------
# Drawing (matplotlib axes; one function per kind)
# ---------------------------------------------------------------------------------------------


def _draw_lines(ax, df, f) -> None:
    groups = df.groupby(f["stroke"], sort=False) if f.get("stroke") else [(None, df)]
    for name, part in groups:
        ax.plot(part[f["x"]], part[f["y"]], label=None if name is None else str(name))
    if f.get("stroke"):
        ax.legend(fontsize="small")
    ax.set_xlabel(f.get("xname") or f["x"])
    ax.set_ylabel(f["y"])


def _draw_scatter(ax, df, f) -> None:
    ax.scatter(df[f["x"]], df[f["y"]], s=12)
    ax.set_xlabel(f["x"])
    ax.set_ylabel(f["y"])


def _draw_bar(ax, df, f) -> None:
    ax.barh([str(v) for v in df[f["label"]]], df[f["value"]])
    ax.invert_yaxis()
    ax.set_xlabel(f["value"])


def _draw_histogram(ax, df, f) -> None:
    ax.hist(df[f["value"]].dropna().astype(float), bins=30)
    ax.set_xlabel(f["value"])
    ax.set_ylabel("count")


def _draw_confusion(ax, df, f) -> None:
    names = f["classes"]
    counts = df["nPredictions"].to_numpy().reshape(len(names), len(names))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Actual")
    middle = (counts.min() + counts.max()) / 2  # imshow scales colours from min to max
    for i in range(len(names)):
        for j in range(len(names)):
            color = "white" if counts[i, j] > middle else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color, fontsize=8)


def _draw_curve(ax, df, f) -> None:
    _draw_lines(ax, df, f)
    if f["x"] == "fpr":
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set_xlim(-0.01, 1.01)  # the curves' last segment runs along x = 1
    ax.set_ylim(0, 1.02)


def _draw_grouped_bars(ax, df, f) -> None:
    """Bars of ``value`` per ``label``, side by side per ``stroke`` (sklearn summary charts)."""
    import numpy as np

    labels = list(dict.fromkeys(df[f["label"]]))
    groups = list(dict.fromkeys(df[f["stroke"]]))
    width = 0.8 / len(groups)
    for k, group in enumerate(groups):
        part = df[df[f["stroke"]] == group].set_index(f["label"])[f["value"]]
        ax.bar(
            np.arange(len(labels)) + k * width,
            [part.get(x, 0) for x in labels],
            width,
            label=str(group),
        )
    ax.set_xticks(np.arange(len(labels)) + width * (len(groups) - 1) / 2, labels, rotation=30)
    ax.legend(fontsize="small")


_DRAW = {
    "line": _draw_lines,
    "line_series": _draw_lines,
    "scatter": _draw_scatter,
    "bar": _draw_bar,
    "histogram": _draw_histogram,
    "confusion_matrix": _draw_confusion,
    "roc_curve": _draw_curve,
    "pr_curve": _draw_curve,
    "grouped_bar": _draw_grouped_bars,
}


def histogram_figure_png(data: dict) -> bytes:
    """A logged ``Histogram``'s JSON (``values``, ``bins``) drawn as PNG bytes (for show)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=PNG_SIZE, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    edges = data["bins"]
    ax.stairs(data["values"], edges, fill=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
