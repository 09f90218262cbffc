"""Issue 21: the charts show what is there.

- A legend lists only the run states with a point or a line drawn on its panel (failed runs that
  logged no metric, or logged it once on the learning curves, draw none).
- Parallel coordinates: nothing but labels is drawn within a few pixels of a label, at the
  dashboard's scale 1, 1.5 and 2 (runs' lines pass under a halo of the background), and no two
  labels overlap or leave the figure.

Real sweeps on SQLite in tmp_path, drawn on Agg.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import sweepnb
from sweepnb import plots
from sweepnb.analysis import plotdata, runs_frame
from sweepnb.notebook import charts, panels
from sweepnb.notebook.labels import Label
from sweepnb.store import Store

LEGEND_MARK = "\u25cf "  # the dashboard's legend entries: a coloured dot, then the name

SWEEP = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "batch": {"distribution": "int_uniform", "min": 16, "max": 256},
        "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
        "dropout": {"min": 0.0, "max": 0.5},
    },
}


def train():
    """Six epochs; sgd runs fail before logging anything, rmsprop ones after one epoch."""
    c = sweepnb.config
    if c.optimizer == "sgd":
        raise ValueError("sgd diverged at once")
    for epoch in range(1 if c.optimizer == "rmsprop" else 6):
        sweepnb.log({"loss": (np.log10(c.lr) + 2.5) ** 2 + c.dropout + 1 / (epoch + 1)})
    if c.optimizer == "rmsprop":
        raise ValueError("rmsprop diverged after one epoch")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[dict, list[dict]]:
    """40 runs: finished (adam), failed with no metric (sgd), failed with one value (rmsprop)."""
    db = str(tmp_path_factory.mktemp("charts") / "s.db")
    sweep_id = sweepnb.sweep(SWEEP, store=db)
    policy = sweepnb.runtime.agent.FailurePolicy(max_initial_failures=100, disable_flapping=True)
    sweepnb.agent(sweep_id, train, count=40, store=db, quiet=True, policy=policy)
    store = Store(db)
    return store.get_sweep(sweep_id)["config"], store.get_runs(sweep_id)


def matplotlib_legend(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def dashboard_legend(fig: Figure) -> list[str]:
    found = [a for ax in fig.axes for a in ax.artists if isinstance(a, Label)]
    return [a.text.removeprefix(LEGEND_MARK) for a in found if a.text.startswith(LEGEND_MARK)]


def agg_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=96)
    FigureCanvasAgg(fig)
    return fig


# --------------------------------------------------------------------------- legends


def test_the_sweep_has_runs_in_every_case(sweep):
    _, runs = sweep
    kinds = {(r["state"], r["config"]["optimizer"]) for r in runs}
    assert kinds == {("finished", "adam"), ("failed", "sgd"), ("failed", "rmsprop")}


def test_per_run_legend_leaves_out_a_state_whose_runs_have_no_metric(sweep):
    cfg, runs = sweep
    # finished runs, and failed ones (sgd) that logged nothing: no failed point is drawn
    no_failed_point = runs_frame(cfg, [r for r in runs if r["config"]["optimizer"] != "rmsprop"])
    assert matplotlib_legend(plots.history(no_failed_point, cfg)) == ["finished", "best so far"]
    fig = agg_figure(6, 3)
    panels.history(fig, plotdata.history_data(no_failed_point, cfg))
    assert dashboard_legend(fig) == ["finished", "best so far"]
    # the failed rmsprop runs logged a value each: their points are drawn, and listed
    every_run = runs_frame(cfg, runs)
    assert set(matplotlib_legend(plots.history(every_run, cfg))) == {
        "finished",
        "failed",
        "best so far",
    }


def test_curves_legend_leaves_out_a_state_whose_runs_logged_once(sweep):
    cfg, runs = sweep
    data = plotdata.learning_curves_data(runs, cfg)
    assert {c.state for c in data.curves} == {"finished", "failed"}  # failed: one value each
    assert matplotlib_legend(plots.learning_curves(runs, cfg)) == ["finished"]
    fig = agg_figure(6, 3)
    panels.learning_curves(fig, data)
    assert dashboard_legend(fig) == ["finished"]


# --------------------------------------------------------------------------- parallel coordinates


def rendered(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].astype(int)


def drawn_near(fig: Figure, boxes_of, gap: float) -> list[str]:
    """The labels (``boxes_of()``: name, box in pixels) within ``gap`` pixels of which something
    other than labels is drawn: the figure rendered whole against it rendered without lines."""
    rendered(fig)  # a first drawing settles a constrained layout
    whole = rendered(fig).copy()
    boxes = boxes_of()
    lines = [a for ax in fig.axes for a in (*ax.lines, *ax.collections)]
    for line in lines:
        line.set_visible(False)
    try:
        bare = rendered(fig).copy()
    finally:
        for line in lines:
            line.set_visible(True)
    height = whole.shape[0]
    touched = []
    for name, box in boxes:
        x0, x1 = max(0, int(box.x0 - gap)), int(np.ceil(box.x1 + gap))
        y0, y1 = max(0, int(height - box.y1 - gap)), int(np.ceil(height - box.y0 + gap))
        if (np.abs(whole[y0:y1, x0:x1] - bare[y0:y1, x0:x1]).max(axis=2) > 10).any():
            touched.append(name)
    return touched


def dashboard_parallel(sweep, scale: float) -> Figure:
    cfg, runs = sweep
    ended = [r for r in runs if r["state"] != "running"]
    drawing = charts.Charts(scale=scale)
    drawing.png(runs_frame(cfg, ended), cfg, runs)
    (fig,) = [f for key, f in charts._FIGURES.items() if key[:1] == ("parallel",) and
              key[2] == drawing.dpi]  # fmt: skip
    return fig


def label_boxes(fig: Figure, *, halo: bool = False) -> list:
    found = [a for a in (*fig.artists, *(a for ax in fig.axes for a in ax.artists))]
    boxes = []
    for label in (a for a in found if isinstance(a, Label)):
        box = label.get_window_extent()
        if halo and label.halo is not None:
            box = box.padded(label.halo_pad * fig.dpi / 72)
        boxes.append((label.text, box))
    return boxes


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
def test_dashboard_parallel_labels_keep_a_gap_from_every_line(sweep, scale):
    fig = dashboard_parallel(sweep, scale)
    names = [name for name, _ in label_boxes(fig)]
    assert {"lr (log)", "batch", "optimizer", "dropout", "loss", "adam"} <= set(names)
    assert drawn_near(fig, lambda: label_boxes(fig), gap=2 * scale) == []


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
def test_dashboard_parallel_labels_overlap_nothing_and_stay_in_the_figure(sweep, scale):
    fig = dashboard_parallel(sweep, scale)
    whole = fig.bbox
    boxes = label_boxes(fig, halo=True)
    outside = [name for name, box in boxes if not whole.contains(box.x0, box.y0) or
               not whole.contains(box.x1, box.y1)]  # fmt: skip
    assert outside == []
    overlapping = [
        (a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1 :]
        if box.overlaps(other)
    ]  # fmt: skip
    assert overlapping == []


def test_public_parallel_labels_keep_a_gap_from_every_line(sweep):
    cfg, runs = sweep
    fig = plots.parallel_coordinates(runs_frame(cfg, runs), cfg)
    FigureCanvasAgg(fig)

    def ticks():
        renderer = fig.canvas.get_renderer()
        return [(t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts]

    assert {"adam", "rmsprop"} <= {name for name, _ in ticks()}
    assert drawn_near(fig, ticks, gap=2) == []
