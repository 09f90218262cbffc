"""The live dashboard on a real SQLite store: progress, bundle, throttling, watching, Stop."""

from __future__ import annotations

import ast
import base64
import gc
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sweepnb import api, plots
from sweepnb.analysis import runs_frame
from sweepnb.engine.config import load_config
from sweepnb.notebook import charts as charts_mod
from sweepnb.notebook import dashboard as dash_mod
from sweepnb.notebook import labels, panels
from sweepnb.notebook.charts import Charts, _frame_key, gc_paused
from sweepnb.notebook.dashboard import Dashboard
from sweepnb.notebook.labels import Label
from sweepnb.notebook.progress import best_table, fingerprint, planned_runs, progress

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "run_cap": 10,
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "optimizer": {"values": ["sgd", "adam"]},
    },
}


def add_runs(store, sweep_id: str, n: int, state: str = "finished", start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        loss = [1.0 + i, 0.5 + i, 0.25 + i]
        ids.append(
            store.add_run(
                sweep_id,
                {"lr": 10.0 ** (-4 + i % 4), "optimizer": ["sgd", "adam"][i % 2]},
                state=state,
                history=[{"loss": v} for v in loss],
                summary={"loss": loss[-1]},
            )
        )
    return ids


@pytest.fixture
def sweep(store) -> str:
    return store.create_sweep(load_config(CONFIG))


@pytest.fixture(autouse=True)
def text_frontend(monkeypatch):
    monkeypatch.setenv("SWEEPNB_UI", "text")


# --------------------------------------------------------------------------- pure parts


def test_planned_runs_is_the_smallest_known_bound():
    grid = load_config(
        {"method": "grid", "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": [1, 2]}}}
    )
    assert planned_runs(grid) == 6
    assert planned_runs({**grid, "run_cap": 4}) == 4
    assert planned_runs(grid, count=5) == 5
    assert planned_runs(load_config(CONFIG)) == 10
    uncapped = load_config({k: v for k, v in CONFIG.items() if k != "run_cap"})
    assert planned_runs(uncapped) is None
    assert planned_runs(uncapped, count=7) == 7


def test_progress_counts_best_and_eta():
    cfg = load_config(CONFIG)
    runs = [
        {
            "id": "a",
            "state": "finished",
            "config": {"lr": 0.1},
            "history": [{"loss": 3.0}],
            "summary": {},
            "created": 100.0,
            "ended": 110.0,
        },
        {
            "id": "b",
            "state": "failed",
            "config": {"lr": 0.2},
            "history": [],
            "summary": {},
            "created": 110.0,
            "ended": 111.0,
        },
        {
            "id": "c",
            "state": "finished",
            "config": {"lr": 0.3},
            "history": [{"loss": 2.0}],
            "summary": {},
            "created": 111.0,
            "ended": 120.0,
        },
        {
            "id": "d",
            "state": "stopped",
            "config": {"lr": 0.4},
            "history": [{"loss": 9.0}],
            "summary": {},
            "created": 112.0,
            "ended": 121.0,
        },
        {
            "id": "e",
            "state": "running",
            "config": {"lr": 0.5},
            "history": [{"loss": 5.0}],
            "summary": {},
            "created": 121.0,
        },
    ]
    p = progress(cfg, runs, sweep_id="s", sweep_state="running", now=140.0)
    assert (p.done, p.running, p.failed, p.stopped, p.planned) == (4, 1, 1, 1, 10)
    assert (p.best_id, p.best_value, p.best_config) == ("c", 2.0, {"lr": 0.3})
    assert p.elapsed == 40.0
    assert p.eta == pytest.approx(40.0 / 4 * 6)
    assert "4/10 runs done" in p.text() and "best loss = 2 (c: lr=0.3)" in p.text()
    assert "<progress" in p.html()


def test_progress_of_an_ended_sweep_stops_the_clock_at_the_last_run():
    cfg = load_config(CONFIG)
    runs = [
        {
            "id": "a",
            "state": "finished",
            "history": [],
            "summary": {},
            "created": 100.0,
            "ended": 130.0,
        }
    ]
    p = progress(cfg, runs, sweep_id="s", sweep_state="finished", now=999.0)
    assert p.elapsed == 30.0 and p.eta is None and p.best_id is None
    assert "best: none yet" in p.text()


@pytest.mark.parametrize("sweep_state", ["running", "paused", "finished", "canceled"])
def test_the_clock_runs_while_a_run_runs_and_stops_at_the_last_end_when_none_does(sweep_state):
    cfg = load_config(CONFIG)
    ended = {"id": "a", "state": "finished", "history": [], "summary": {}, "created": 100.0,
             "ended": 110.0}  # fmt: skip
    going = {"id": "b", "state": "running", "history": [], "summary": {}, "created": 105.0}
    # a paused or stopped sweep lets its running runs go on: their time still counts
    p = progress(cfg, [ended, going], sweep_id="s", sweep_state=sweep_state, now=200.0)
    assert p.elapsed == 100.0
    # with no run going (idle, or ended) the sweep took until its last run ended
    p = progress(cfg, [ended], sweep_id="s", sweep_state=sweep_state, now=200.0)
    assert p.elapsed == 10.0 and "took 0:10" in p.text()


def test_fingerprint_moves_when_a_run_logs_or_changes_state():
    runs = [{"id": "a", "state": "running", "history": [{"loss": 1}], "summary": {}}]
    base = fingerprint(runs, "running")
    assert fingerprint([dict(runs[0])], "running") == base
    assert fingerprint([{**runs[0], "history": [{"loss": 1}, {"loss": 0.5}]}], "running") != base
    assert fingerprint([{**runs[0], "state": "finished"}], "running") != base
    assert fingerprint(runs, "finished") != base


def test_fingerprint_of_runs_read_without_history_matches_the_full_read(store, sweep):
    (run_id,) = add_runs(store, sweep, 1, state="running")
    light, full = store.get_runs(sweep, history=False), store.get_runs(sweep)
    assert fingerprint(light, "running") == fingerprint(full, "running")
    store.log(run_id, [{"loss": 0.1}])  # a light poll sees the log through the run's version
    assert fingerprint(store.get_runs(sweep, history=False), "running") != fingerprint(
        light, "running"
    )


def test_best_table_lists_the_top_runs_by_goal(store, sweep):
    add_runs(store, sweep, 6)
    cfg = store.get_sweep(sweep)["config"]
    df = runs_frame(cfg, store.get_runs(sweep))
    table = best_table(df, cfg, top=3)
    assert list(table.columns) == ["id", "state", "loss", "lr", "optimizer", "runtime"]
    assert list(table["loss"]) == [0.25, 1.25, 2.25]
    maximize = {**cfg, "metric": {"name": "loss", "goal": "maximize"}}
    assert list(best_table(df, maximize, top=2)["loss"]) == [5.25, 4.25]


# --------------------------------------------------------------------------- the bundle


def test_the_bundle_has_text_html_and_a_png(store, sweep):
    add_runs(store, sweep, 6)
    dash = Dashboard(sweep, store)
    dash.update(force=True)
    bundle = dash.last_bundle
    assert set(bundle) == {"text/plain", "text/html", "image/png"}
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(PNG_MAGIC)
    assert bundle["image/png"] in bundle["text/html"]  # the chart is inline in the HTML too
    assert "6/10 runs done" in bundle["text/plain"] and "best runs:" in bundle["text/plain"]
    assert "<table" in bundle["text/html"]


def test_a_sweep_without_metric_shows_progress_and_says_why_there_is_no_chart(store):
    sweep = store.create_sweep(
        load_config({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})
    )
    store.add_run(sweep, {"a": 1}, state="finished", summary={"acc": 1.0})
    dash = Dashboard(sweep, store)
    dash.update(force=True)
    assert "image/png" not in dash.last_bundle
    assert "no metric" in dash.last_bundle["text/plain"]
    assert "1/2 runs done" in dash.last_bundle["text/plain"]


def test_an_empty_sweep_renders_without_error(store, sweep):
    dash = Dashboard(sweep, store)
    dash.update(force=True)
    assert "0/10 runs done" in dash.last_bundle["text/plain"]
    assert "image/png" not in dash.last_bundle


def test_charts_redraw_only_the_panels_whose_data_changed(store, sweep):
    add_runs(store, sweep, 6)
    (running,) = add_runs(store, sweep, 1, state="running", start=6)
    cfg = store.get_sweep(sweep)["config"]
    charts = Charts()

    def draw() -> list[str]:
        runs = store.get_runs(sweep)
        assert charts.png(runs_frame(cfg, runs), cfg, runs).startswith(PNG_MAGIC)
        return sorted(charts.last_drawn)

    assert draw() == ["curves", "history", "importance", "parallel", "scatter"]
    assert draw() == []  # nothing changed: the cached tiles are reused
    store.log(running, [{"loss": 0.01}])
    assert draw() == ["curves"]  # a running run moves only its learning curve
    store.finish_run(running, "finished")
    assert draw() == ["curves", "history", "importance", "parallel", "scatter"]


def test_a_reused_panel_figure_draws_the_same_pixels_as_a_new_one(store, sweep):
    add_runs(store, sweep, 8)
    cfg = store.get_sweep(sweep)["config"]
    runs = store.get_runs(sweep)
    fewer = runs[:3]  # fewer runs: no importance forest, other limits and labels
    charts_mod._FIGURES.clear()
    fresh = Charts().png(runs_frame(cfg, fewer), cfg, fewer)
    Charts().png(runs_frame(cfg, runs), cfg, runs)  # the pool now holds drawn-on figures
    reused = Charts().png(runs_frame(cfg, fewer), cfg, fewer)
    assert reused == fresh


def test_runs_logging_once_get_importance_beside_the_history(store, sweep):
    for i in range(3):
        store.add_run(
            sweep,
            {"lr": 0.01 * (i + 1), "optimizer": "sgd"},
            state="finished",
            summary={"loss": float(i)},
        )
    cfg = store.get_sweep(sweep)["config"]
    charts = Charts()
    runs = store.get_runs(sweep)
    charts.png(runs_frame(cfg, runs), cfg, runs)
    assert sorted(charts.last_drawn) == ["history", "importance-top", "parallel", "scatter-wide"]


def _ink(fig) -> tuple[np.ndarray, np.ndarray]:
    """Rows (top down) and columns of the dark pixels of a drawn figure."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].min(axis=2)
    return np.nonzero(pixels < 128)


@pytest.mark.parametrize(
    ("ha", "va", "right_of", "above"),
    [("left", "bottom", True, True), ("right", "top", False, False)],
)
def test_a_label_is_drawn_on_the_side_its_alignment_says(ha, va, right_of, above):
    fig = Figure(figsize=(2, 1), dpi=100)  # 200 x 100 pixels, the anchor at (100, 50)
    fig.add_artist(Label(0.5, 0.5, "0.0125", transform=fig.transFigure, size=9, ha=ha, va=va))
    rows, columns = _ink(fig)
    assert len(rows) > 20
    assert (columns >= 99).all() if right_of else (columns <= 101).all()
    assert (rows <= 51).all() if above else (rows >= 49).all()


def test_a_label_string_is_laid_out_once_per_size():
    first = labels._outline("lr (log)", 7.0)
    assert labels._outline("lr (log)", 7.0) is first
    bigger = labels._outline("lr (log)", 10.0)
    assert bigger[1].width > first[1].width


def test_a_label_with_an_unknown_alignment_is_refused():
    with pytest.raises(ValueError, match="ha/va"):
        Label(0, 0, "x", transform=Figure().transFigure, ha="middle")


def test_text_the_default_font_cannot_draw_is_left_to_matplotlib():
    fig = Figure()
    panels._text(fig, 0.5, 0.5, "lr (log)")
    panels._text(fig, 0.5, 0.4, "\u5b66\u4e60\u7387")  # no glyphs in DejaVu Sans: font fallback
    panels._text(fig, 0.5, 0.3, "two\nlines")
    assert [type(a).__name__ for a in fig.artists] == ["Label"]
    assert [t.get_text() for t in fig.texts] == ["\u5b66\u4e60\u7387", "two\nlines"]


def test_collection_is_paused_while_drawing_and_its_state_restored():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector switched off by the user stays off
    finally:
        gc.enable()


def test_the_frame_key_sees_a_changed_value_but_not_a_new_nan_object():
    df = pd.DataFrame({"id": ["a", "b"], "loss": [1.0, float("nan")], "opt": ["sgd", None]})
    key = _frame_key(df, ["id", "loss", "opt", "absent"])
    assert _frame_key(df.copy(), ["id", "loss", "opt", "absent"]) == key
    changed = df.assign(loss=[1.5, float("nan")])
    assert _frame_key(changed, ["id", "loss", "opt"]) != key


def test_the_scatter_panel_draws_every_run_once_per_parameter_without_axis_ticks(store, sweep):
    add_runs(store, sweep, 6)
    cfg = store.get_sweep(sweep)["config"]
    data = plots.scatter_data(runs_frame(cfg, store.get_runs(sweep)), cfg)
    fig = Figure(figsize=(8, 4))
    panels.scatter(fig, data)
    (ax,) = fig.axes
    assert sum(len(line.get_xdata()) for line in ax.lines) == 6 * len(data.panels)
    assert not ax.xaxis.get_visible() and not ax.yaxis.get_visible()
    names = {a.text for a in ax.artists if isinstance(a, Label)}
    assert {"lr", "optimizer", "sgd", "adam"} <= names


def test_the_importance_panel_has_a_bar_per_parameter_in_each_section(store, sweep):
    add_runs(store, sweep, 6)
    cfg = store.get_sweep(sweep)["config"]
    data = plots.importance_data(runs_frame(cfg, store.get_runs(sweep)), cfg)
    fig = Figure(figsize=(4, 4))
    panels.importance(fig, data)
    (ax,) = fig.axes
    assert len(ax.patches) == 2 * len(data.names)


# --------------------------------------------------------------------------- refreshing


def test_update_redraws_only_when_something_changed(store, sweep):
    (run_id,) = add_runs(store, sweep, 1, state="running")
    dash = Dashboard(sweep, store, refresh=0)
    assert dash.update() is True
    assert dash.update() is False
    assert dash.renders == 1
    store.log(run_id, [{"loss": 0.1}])
    dash.budget = 1.0  # this test is about change detection, not the time budget
    dash._last_cost = 0.0
    assert dash.update() is True
    assert dash.renders == 2


def test_update_is_throttled_to_the_refresh_interval(store, sweep):
    (run_id,) = add_runs(store, sweep, 1, state="running")
    dash = Dashboard(sweep, store, refresh=3600)
    assert dash.update() is True
    store.log(run_id, [{"loss": 0.1}])
    assert dash.update() is False  # changed, but within the interval
    assert dash.update(force=True) is True


def test_slow_drawings_wait_longer_to_keep_within_the_time_budget(store, sweep):
    add_runs(store, sweep, 2)
    dash = Dashboard(sweep, store, refresh=0.5, budget=0.05)
    dash.update(force=True)
    assert dash.render_seconds > 0
    assert dash.min_interval == pytest.approx(max(0.5, dash._last_cost / 0.05))


def test_the_budget_counts_a_drawing_s_wall_time_not_only_its_cpu_time(store, sweep):
    add_runs(store, sweep, 2)
    dash = Dashboard(sweep, store, refresh=0, budget=0.05)
    dash.update(force=True)
    assert dash._last_cost >= dash.render_seconds  # one drawing: at least its wall time
    assert dash._last_cost >= dash._last_cpu > 0


def test_update_accepts_runs_pushed_by_the_agent(store, sweep):
    add_runs(store, sweep, 3)
    runs = store.get_runs(sweep)
    dash = Dashboard(sweep, store, refresh=0)
    assert dash.update(runs[:2], sweep_state="running") is True
    assert "2/10 runs done" in dash.last_bundle["text/plain"]


def test_poll_sees_what_agents_logged_since_the_last_poll(store, sweep):
    add_runs(store, sweep, 3)
    (running,) = add_runs(store, sweep, 1, state="running", start=3)
    dash = Dashboard(sweep, store)
    dash.poll()
    store.log(running, [{"loss": 0.01}])
    store.finish_run(running, "finished")
    runs, state = dash.poll()
    moved = next(r for r in runs if r["id"] == running)
    assert (moved["state"], moved["history"][-1]["loss"], state) == ("finished", 0.01, "running")


def test_bad_arguments_are_named(store, sweep):
    with pytest.raises(ValueError, match="refresh"):
        Dashboard(sweep, store, refresh=-1)
    with pytest.raises(ValueError, match="budget"):
        Dashboard(sweep, store, budget=0)
    with pytest.raises(ValueError, match="sweep_id"):
        Dashboard("", store)
    from sweepnb.errors import SweepNotFound

    with pytest.raises(SweepNotFound):
        Dashboard("nosuch00", store)


# --------------------------------------------------------------------------- watching, stopping


def test_watching_follows_the_sweep_until_it_ends(store, sweep):
    (run_id,) = add_runs(store, sweep, 1, state="running")
    dash = Dashboard(sweep, store, refresh=0.05, budget=1.0).show()
    dash.start()
    add_runs(store, sweep, 2, start=1)
    store.finish_run(run_id, "finished")
    api.stop(sweep, store=store)
    dash.wait(timeout=60)
    assert not dash._thread.is_alive()
    assert "[finished]: 3/10 runs done, 0 running" in dash.last_bundle["text/plain"]


def test_dashboard_of_a_finished_sweep_is_static(store, sweep, capsys):
    add_runs(store, sweep, 2)
    api.stop(sweep, store=store)
    dash = dash_mod.dashboard(sweep, store)
    assert dash._thread is None
    out = capsys.readouterr().out
    assert f"sweep {sweep} [finished]: 2/10 runs done" in out
    assert "best runs:" in out


def test_the_text_front_end_prints_the_table_once_then_progress_lines(store, sweep, capsys):
    (run_id,) = add_runs(store, sweep, 1, state="running")
    dash = Dashboard(sweep, store, refresh=0, budget=1.0).show()
    assert "best runs:" in capsys.readouterr().out
    store.finish_run(run_id, "finished")
    dash._last_cost = 0.0
    assert dash.update() is True
    out = capsys.readouterr().out
    assert "1/10 runs done, 0 running" in out and "best runs:" not in out


def test_stop_sweep_stops_it_in_the_store_and_calls_back(store, sweep):
    add_runs(store, sweep, 1, state="running")
    called = []
    dash = Dashboard(sweep, store, on_stop=lambda: called.append(True))
    dash.stop_sweep()
    assert store.get_sweep(sweep)["state"] == "finished"
    assert called == [True]


def test_the_stop_button_stops_the_sweep(store, sweep):
    dash = Dashboard(sweep, store)
    dash._make_view()
    # the message the browser sends when the button is clicked, through ipywidgets' dispatch
    dash.view.widget._handle_custom_msg({"type": "stop"}, [])
    assert store.get_sweep(sweep)["state"] == "finished"


def test_a_sweep_at_rest_but_still_running_gets_the_saved_image(store, sweep):
    # a random sweep stays 'running' with no agent left: the widget's output must still keep
    # the last state as an image for a saved notebook, once nothing changed for a whole poll
    add_runs(store, sweep, 2)
    (running,) = add_runs(store, sweep, 1, state="running", start=2)
    dash = Dashboard(sweep, store, refresh=0.05, budget=1.0)
    dash._make_view()
    dash.start()
    time.sleep(0.5)  # ten polls with a run running: no image
    assert "image/png" not in (dash.last_bundle or {})
    store.finish_run(running, "finished")
    deadline = time.monotonic() + 10
    while "image/png" not in (dash.last_bundle or {}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.get_sweep(sweep)["state"] == "running"
    assert base64.b64decode(dash.last_bundle["image/png"]).startswith(PNG_MAGIC)
    assert "3/10 runs done, 0 running" in dash.last_bundle["text/plain"]
    renders = dash.renders
    time.sleep(0.5)  # at rest: drawn once, not again on every poll
    assert dash.renders == renders and dash._thread.is_alive()
    dash.stop()


def test_frontend_is_text_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("SWEEPNB_UI")
    assert dash_mod.frontend() == "text"


# --------------------------------------------------------------------------- a real kernel


@pytest.mark.slow
def test_dashboard_in_a_kernel_shows_one_output_with_the_widget_and_its_png(
    tmp_path, monkeypatch, kernel_env
):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.delenv("SWEEPNB_UI")
    db = tmp_path / "sweeps.db"
    setup = (
        "import sweepnb\n"
        f"store = sweepnb.Store({str(db)!r})\n"
        f"sid = sweepnb.sweep({CONFIG!r}, store=store)\n"
        "for i in range(5):\n"
        "    store.add_run(sid, {'lr': 0.01 * (i + 1), 'optimizer': 'sgd'}, state='finished',\n"
        "                  history=[{'loss': 2.0 - i}, {'loss': 1.0 - i}])\n"
        "sweepnb.stop(sid, store=store)"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_code_cell("sweepnb.dashboard(sid, store=store)"),
    ]
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs if o.output_type == "error"] == []
    bundles = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(bundles) == 1  # shown once, not again as the cell's value
    assert base64.b64decode(bundles[0].data["image/png"]).startswith(PNG_MAGIC)
    assert "5/10 runs done" in bundles[0].data["text/plain"]
    # the interactive widget is that same output: a front end with widgets draws it, the
    # others (nbconvert, GitHub) the image and the text
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets == bundles


def test_sweepnb_imports_only_public_matplotlib_names():
    # private names (a leading underscore) and the font internals the labels once used change
    # between matplotlib releases without notice
    internals = {"get_font", "get_hinting_flag", "FT2Font", "ft2font", "LOAD_FLAGS"}
    found = []
    for path in Path(panels.__file__).parents[1].rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matplotlib"):
                names = [*node.module.split("."), *(a.name for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [
                    p
                    for a in node.names
                    if a.name.startswith("matplotlib")
                    for p in a.name.split(".")
                ]
            else:
                continue
            found += [f"{path.name}: {n}" for n in names if n.startswith("_") or n in internals]
    assert found == []
