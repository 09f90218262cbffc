"""Plot data steps (no drawing) and each chart rendered once on Agg."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from sweepnb import plots
from sweepnb.analysis import runs_frame
from sweepnb.analysis.importance import importance_data
from sweepnb.engine.config import load_config

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "batch": {"distribution": "int_uniform", "min": 16, "max": 256},
        "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
        "model": {"parameters": {"dropout": {"min": 0.0, "max": 0.5}}},
        "epochs": {"value": 6},
    },
}


def make_runs(n: int, seed: int = 0) -> list[dict]:
    """Runs whose loss depends on lr (a parabola in log10 lr) and the optimizer, not on batch."""
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(n):
        lr = float(10 ** rng.uniform(-4, -1))
        optimizer = ["sgd", "adam", "rmsprop"][i % 3]
        final = (math.log10(lr) + 2.5) ** 2 + (0.5 if optimizer == "sgd" else 0.0)
        steps = 2 if i % 5 == 0 else 6
        history = [{"_step": s, "loss": final + 1.0 / (s + 1)} for s in range(steps)]
        stopped = i % 5 == 0
        runs.append(
            {
                "id": f"run{i:03d}",
                "state": "stopped" if stopped else "finished",
                "config": {
                    "lr": lr,
                    "batch": int(rng.integers(16, 257)),
                    "optimizer": optimizer,
                    "model": {"dropout": float(rng.uniform(0, 0.5))},
                    "epochs": 6,
                },
                "history": history,
                "summary": {"loss": history[-1]["loss"]},
                "created": 1000.0 + i,
                "started": 1000.0 + i,
                "ended": 1001.0 + i,
                "stop_reason": {"rule": "hyperband", "band": 2, "threshold": 1.0 + i, "value": 9.0}
                if stopped
                else None,
            }
        )
    return runs


@pytest.fixture
def cfg() -> dict:
    return load_config(CONFIG)


@pytest.fixture
def runs() -> list[dict]:
    return make_runs(30)


@pytest.fixture
def df(cfg, runs) -> pd.DataFrame:
    return runs_frame(cfg, runs)


def render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    return buffer.getvalue()


# --------------------------------------------------------------------------- history


def test_history_best_so_far_is_the_running_minimum_in_creation_order(cfg, df):
    shuffled = df.sample(frac=1.0, random_state=1)
    data = plots.history_data(shuffled, cfg)
    ordered = df.sort_values("created")
    assert data.ids == list(ordered["id"])
    assert np.allclose(data.best, np.minimum.accumulate(ordered["loss"].to_numpy()))
    assert data.best_id == ordered.loc[ordered["loss"].idxmin(), "id"]


def test_history_best_so_far_is_the_running_maximum_when_maximizing(cfg, df):
    cfg = {**cfg, "metric": {**cfg["metric"], "goal": "maximize"}}
    data = plots.history_data(df, cfg)
    assert np.allclose(data.best, np.maximum.accumulate(data.y))


def test_history_best_so_far_starts_after_the_first_run_with_a_value(cfg, df):
    df = df.copy()
    df.loc[df.index[:3], "loss"] = np.nan
    data = plots.history_data(df, cfg)
    assert np.isnan(data.best[:3]).all()
    assert data.best[3] == data.y[3]


def test_history_figure_has_points_per_state_and_the_best_line(cfg, df):
    fig = plots.history(df, cfg)
    ax = fig.axes[0]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "finished",
        "stopped",
        "best so far",
    }
    assert render(fig).startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- parallel coordinates


def test_parallel_axes_are_the_swept_parameters_then_the_metric(cfg, df):
    data = plots.parallel_coordinates_data(df, cfg)
    names = [a.name for a in data.axes]
    assert names == ["batch", "lr", "model.dropout", "optimizer", "loss"]  # epochs is constant
    kinds = {a.name: a.kind for a in data.axes}
    assert kinds == {
        "batch": "linear",
        "lr": "log",
        "model.dropout": "linear",
        "optimizer": "categorical",
        "loss": "linear",
    }


def test_parallel_values_are_normalised_and_log_axes_read_in_original_units(cfg, df):
    data = plots.parallel_coordinates_data(df, cfg)
    assert data.values.shape == (30, 5)
    assert np.nanmin(data.values) == 0.0 and np.nanmax(data.values) == 1.0
    lr_axis = data.axes[1]
    assert float(lr_axis.labels[0]) == pytest.approx(df["lr"].min(), rel=1e-2)
    assert float(lr_axis.labels[-1]) == pytest.approx(df["lr"].max(), rel=1e-2)
    # positions are linear in log10(lr): the middle tick is the geometric mean of the extremes
    lr = np.log10(df.set_index("id").loc[data.ids, "lr"].to_numpy())
    assert data.values[:, 1] == pytest.approx((lr - lr.min()) / (lr.max() - lr.min()))
    assert float(lr_axis.labels[1]) == pytest.approx(10 ** ((lr.min() + lr.max()) / 2), rel=1e-2)


def test_parallel_categorical_axis_keeps_the_config_order(cfg, df):
    data = plots.parallel_coordinates_data(df, cfg)
    axis = data.axes[3]
    assert axis.labels == ["sgd", "adam", "rmsprop"]
    assert axis.ticks == [0.0, 0.5, 1.0]
    position = dict(zip(axis.labels, axis.ticks))
    optimizer = df.set_index("id").loc[data.ids, "optimizer"]
    assert list(data.values[:, 3]) == [position[v] for v in optimizer]


def test_parallel_caps_lines_keeping_the_best_runs_drawn_last(cfg, df):
    data = plots.parallel_coordinates_data(df, cfg, max_lines=5)
    best5 = df.nsmallest(5, "loss")
    assert set(data.ids) == set(best5["id"])
    assert data.ids[-1] == best5["id"].iloc[0]
    assert data.n_total == 30


def test_parallel_leaves_out_runs_without_the_metric(cfg, df):
    df = df.copy()
    df.loc[df.index[:4], "loss"] = np.nan
    data = plots.parallel_coordinates_data(df, cfg)
    assert len(data.ids) == 26 and data.n_total == 26


def test_parallel_figure_draws_one_line_per_run_coloured_by_the_metric(cfg, df):
    fig = plots.parallel_coordinates(df, cfg, max_lines=12)
    lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(lines) == 1 and len(lines[0].get_segments()) == 12
    assert np.allclose(sorted(lines[0].get_array()), sorted(df.nsmallest(12, "loss")["loss"]))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][1] == "lr (log)"
    assert render(fig).startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- importance


def test_importance_ranks_the_parameter_the_metric_depends_on_first(cfg, df):
    data = importance_data(df, cfg)
    assert data.names[0] == "lr"
    assert np.nansum(data.importance) == pytest.approx(1.0)
    assert (data.importance >= 0).all()
    assert set(data.names) == {"lr", "batch", "optimizer", "model.dropout"}


def test_importance_correlation_is_pearson_with_sign(cfg):
    rows = [
        {
            "id": f"r{i}",
            "state": "finished",
            "lr": 10.0 ** (-4 + i / 10),
            "batch": 16 + i,
            "optimizer": "sgd" if i % 2 else "adam",
            "model.dropout": 0.1,
            "loss": -2.0 * i,
        }
        for i in range(20)
    ]
    data = importance_data(pd.DataFrame(rows), cfg)
    corr = dict(zip(data.names, data.correlation))
    assert corr["batch"] == pytest.approx(-1.0)
    assert corr["lr"] == pytest.approx(-1.0)  # log10(lr) is linear in i
    assert math.isnan(corr["model.dropout"])  # constant column: undefined


def test_importance_correlation_of_a_categorical_names_its_strongest_value(cfg):
    rows = [
        {
            "id": f"r{i}",
            "state": "finished",
            "lr": 0.01,
            "batch": 16 + i % 7,
            "optimizer": ["sgd", "adam", "rmsprop"][i % 3],
            "model.dropout": 0.1,
            "loss": (1.0 if i % 3 == 0 else 0.0) + 0.01 * (i % 7),
        }
        for i in range(30)
    ]
    data = importance_data(pd.DataFrame(rows), cfg)
    assert data.names[0] == "optimizer"
    assert data.correlation_labels[0] == "optimizer=sgd"
    assert data.correlation[0] > 0.9
    table = data.to_frame()
    assert list(table.columns) == ["parameter", "importance", "correlation", "correlation_of"]


def test_importance_needs_min_runs_for_the_forest(cfg, df):
    data = importance_data(df.head(4), cfg, min_runs=5)
    assert np.isnan(data.importance).all()
    assert np.isfinite(data.correlation).any()
    assert data.n_runs == 4


def test_importance_is_reproducible(cfg, df):
    a, b = importance_data(df, cfg), importance_data(df, cfg)
    assert np.array_equal(a.importance, b.importance)


def test_importance_on_bounded_samples_keeps_the_ranking_and_differs_from_the_full_forest(cfg):
    big = runs_frame(cfg, make_runs(300, seed=3))
    full = importance_data(big, cfg, n_estimators=25)
    bounded = importance_data(big, cfg, n_estimators=25, max_samples=64)
    assert bounded.names[0] == full.names[0] == "lr"
    assert np.nansum(bounded.importance) == pytest.approx(1.0)
    assert not np.array_equal(bounded.importance, full.importance)  # the trees did see less


def test_importance_max_samples_above_the_run_count_uses_every_run(cfg, df):
    a = importance_data(df, cfg, max_samples=10_000)
    b = importance_data(df, cfg)
    assert np.array_equal(a.importance, b.importance)


def test_importance_figure_has_a_bar_per_parameter_in_both_panels(cfg, df):
    fig = plots.importance(df, cfg)
    imp_ax, corr_ax = fig.axes
    assert len(imp_ax.patches) == 4 and len(corr_ax.patches) == 4
    assert imp_ax.get_yticklabels()[0].get_text() == "lr"
    assert render(fig).startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- scatter


def test_scatter_has_a_panel_per_swept_parameter(cfg, df):
    data = plots.scatter_data(df, cfg)
    assert [p.name for p in data.panels] == ["batch", "lr", "model.dropout", "optimizer"]
    optimizer = data.panels[3]
    assert optimizer.labels == ["sgd", "adam", "rmsprop"]
    assert list(optimizer.x[:3]) == [0.0, 1.0, 2.0]
    assert np.array_equal(data.y, df["loss"].to_numpy())


def test_scatter_figure_uses_a_log_axis_for_log_parameters(cfg, df):
    fig = plots.scatter(df, cfg)
    by_label = {ax.get_xlabel(): ax for ax in fig.axes}
    assert by_label["lr"].get_xscale() == "log"
    assert by_label["batch"].get_xscale() == "linear"
    assert [t.get_text() for t in by_label["optimizer"].get_xticklabels()] == [
        "sgd",
        "adam",
        "rmsprop",
    ]
    assert len(by_label["lr"].collections[0].get_offsets()) == 30
    assert render(fig).startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- learning curves


def test_curves_from_run_dicts_and_from_a_history_frame_agree(cfg, runs):
    from_runs = plots.learning_curves_data(runs, cfg, x="step")
    frame = pd.DataFrame(
        [{"id": r["id"], "state": r["state"], **row} for r in runs for row in r["history"]]
    )
    from_frame = plots.learning_curves_data(frame, cfg, x="step")
    assert [c.id for c in from_runs.curves] == [c.id for c in from_frame.curves]
    assert all(
        np.array_equal(a.y, b.y) and np.array_equal(a.x, b.x)
        for a, b in zip(from_runs.curves, from_frame.curves)
    )


def test_curves_use_iterations_and_hyperband_bands_with_hyperband(cfg, runs):
    data = plots.learning_curves_data(runs, cfg)
    assert data.xlabel.startswith("iteration")
    assert data.bands == [2, 4]  # min_iter 2, eta 2, up to the longest history (6 values)
    assert list(data.curves[0].x) == list(range(1, len(data.curves[0].x) + 1))


def test_curves_keep_the_latest_threshold_per_band(cfg, runs):
    data = plots.learning_curves_data(runs, cfg)
    last_stopped = [r for r in runs if r["state"] == "stopped"][-1]
    assert data.thresholds == [(2.0, last_stopped["stop_reason"]["threshold"])]


def test_curves_cap_keeps_running_runs_and_room_for_stopped_ones(cfg, runs):
    runs = [dict(r) for r in runs]
    runs[7]["state"] = "running"
    data = plots.learning_curves_data(runs, cfg, max_runs=9)
    states = [c.state for c in data.curves]
    assert len(data.curves) == 9 and data.n_total == 30
    assert states[0] == "running"
    assert states.count("stopped") == 8 // 3


def test_curves_without_steps_are_reported_as_such(cfg):
    single = [{"id": "a", "state": "finished", "history": [{"loss": 1.0}]}]
    data = plots.learning_curves_data(single, cfg)
    assert not data.has_steps
    fig = plots.learning_curves(single, cfg)
    assert "once" in fig.axes[0].texts[0].get_text()


def test_curves_figure_marks_stopped_runs_and_bands(cfg, runs):
    fig = plots.learning_curves(runs, cfg)
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"finished", "stopped", "stopped here", "band threshold"} <= labels
    band_lines = [line for line in ax.get_lines() if list(line.get_xdata()) in ([2, 2], [4, 4])]
    assert len(band_lines) == 2
    assert render(fig).startswith(PNG_MAGIC)


# --------------------------------------------------------------------------- errors


def test_a_config_without_metric_asks_for_one(df):
    cfg = load_config({"method": "grid", "parameters": {"lr": {"values": [1, 2]}}})
    with pytest.raises(ValueError, match="metric"):
        plots.history_data(df, cfg)


def test_the_metric_can_be_chosen(cfg, df):
    data = plots.history_data(df, cfg, metric="batch")
    assert data.metric == "batch" and np.array_equal(data.y, df["batch"].to_numpy(dtype=float))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda cfg, df: plots.history(df.to_dict("records"), cfg),
            "df: expected the runs DataFrame",
        ),
        (lambda cfg, df: plots.parallel_coordinates_data(df, cfg, max_lines=0), "max_lines"),
        (lambda cfg, df: plots.learning_curves_data([], cfg, x="time"), "x: expected"),
        (lambda cfg, df: plots.learning_curves_data("runs", cfg), "history: expected run dicts"),
        (
            lambda cfg, df: plots.learning_curves_data(df.drop(columns="id"), cfg),
            "history: .* no 'id'",
        ),
        (
            lambda cfg, df: plots.scatter(df, "not a config"),
            "cfg: expected the loaded sweep config",
        ),
        (lambda cfg, df: plots.history(df.drop(columns="id"), cfg), "df: .* no 'id' column"),
        (lambda cfg, df: importance_data(df, cfg, min_runs=1), "min_runs"),
        (lambda cfg, df: importance_data(df, cfg, max_samples=0.5), "max_samples"),
    ],
)
def test_bad_arguments_are_named(cfg, df, call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call(cfg, df)


def test_importing_the_plot_data_leaves_matplotlib_unloaded():
    code = (
        "import sys, sweepnb.analysis.plotdata as d; d.history_data;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_list_value_reads_the_same_in_the_importance_table_and_on_the_chart_axes():
    cfg = load_config(
        {
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {
                "layers": {"values": [["conv", "pool"], ["dense"]]},
                "lr": {"values": [0.1, 0.2]},
            },
        }
    )
    rows = [
        {
            "id": f"r{i}",
            "state": "finished",
            "layers": [["conv", "pool"], ["dense"]][i % 2],
            "lr": [0.1, 0.2][i // 2 % 2],
            "loss": float(i % 2) + 0.01 * i,
        }
        for i in range(12)
    ]
    df = pd.DataFrame(rows)
    imp = importance_data(df, cfg)
    table_value = dict(zip(imp.names, imp.correlation_labels))["layers"].split("=", 1)[1]
    axis = plots.parallel_coordinates_data(df, cfg).axes[0]
    assert axis.name == "layers"
    assert table_value in axis.labels
    assert plots.scatter_data(df, cfg).panels[0].labels == axis.labels


def test_compare_draws_each_sweeps_best_so_far(tmp_path):
    import sweepnb

    url = str(tmp_path / "c.db")
    cfg = {
        "method": "random",
        "metric": {"name": "acc", "goal": "maximize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    ids = [sweepnb.sweep({**cfg, "method": m}, store=url) for m in ("random", "bayes")]
    for sid in ids:
        sweepnb.agent(
            sid, lambda: sweepnb.log({"acc": 1 - (sweepnb.config.x - 0.3) ** 2}), count=5, store=url
        )
    fig = sweepnb.plots.compare(ids, store=url)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    for line, sid in zip(ax.get_lines(), ids):
        best = max(r["summary"]["acc"] for r in sweepnb.store.Store(url).get_runs(sid))
        assert line.get_ydata()[-1] == pytest.approx(best)
    assert [t.get_text().split(" ")[0] for t in ax.get_legend().get_texts()] == ["random", "bayes"]
    data = sweepnb.plots.compare_data({"a": sweepnb.runs(ids[0], store=url)}, cfg)
    assert list(data.curves) == ["a"] and np.all(np.diff(data.curves["a"][1]) >= 0)


def test_compare_takes_one_id_as_a_string_and_names_a_bad_sweep_ids(tmp_path):
    import sweepnb

    url = str(tmp_path / "c.db")
    cfg = {
        "method": "random",
        "metric": {"name": "acc"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    sid = sweepnb.sweep(cfg, store=url)
    sweepnb.agent(sid, lambda: sweepnb.log({"acc": sweepnb.config.x}), count=2, store=url)
    (ax,) = sweepnb.plots.compare(sid, store=url).axes  # not its characters as sweep ids
    assert len(ax.get_lines()) == 1
    with pytest.raises(TypeError, match="sweep_ids: expected a list of sweep ids"):
        sweepnb.plots.compare(7, store=url)
