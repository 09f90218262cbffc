"""Issue 13: the dashboard tells the truth — the sweep's state when it ends, each call's own
progress, and why runs failed, as text above the charts (and ``ls`` shows the same state)."""

from __future__ import annotations

import time

import pytest

import sweepnb
from sweepnb.analysis.tables import sweeps_table
from sweepnb.notebook.dashboard import Dashboard
from sweepnb.store import Store

RANDOM = {
    "method": "random",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "parameters": {"lr": {"min": 0.001, "max": 0.1}},
}


def good():
    sweepnb.log({"val_accuracy": sweepnb.config.lr})


def typo():
    sweepnb.log({"val_accuracy": sweepnb.config.learning_rate})


def text_of(dash: Dashboard) -> str:
    runs, state = dash.poll()
    return dash.render(runs, state)["text/plain"]


def test_a_finished_call_says_finished_with_its_time_and_no_eta(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    since = time.time()
    sweepnb.agent(sid, good, count=3, store=url)
    text = text_of(Dashboard(sid, store=url, count=3, since=since))
    head = text.splitlines()[0]
    assert "[finished]" in head and "3/3 runs done" in head and "took" in head
    assert "ETA" not in head and "[running]" not in head
    # the sweep itself stays open for more agents (W&B's RUNNING): ls says nobody runs it
    table = sweeps_table(Store(url))
    assert table.loc[0, "state"] == "idle"


def test_an_idle_sweep_took_until_its_last_run_ended_not_until_now(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    sweepnb.agent(sid, good, count=2, store=url)
    time.sleep(2.5)  # nobody runs the sweep meanwhile: its time must not grow
    head = text_of(Dashboard(sid, store=url)).splitlines()[0]
    assert "[idle]" in head and "took 0:00" in head, head


def test_a_grid_that_ran_out_is_finished_in_ls(tmp_path):
    url = str(tmp_path / "s.db")
    cfg = {**RANDOM, "method": "grid", "parameters": {"lr": {"values": [0.01, 0.02]}}}
    sid = sweepnb.sweep(cfg, store=url)
    sweepnb.agent(sid, good, store=url)
    assert sweeps_table(Store(url)).loc[0, "state"] == "finished"
    assert "[finished]" in text_of(Dashboard(sid, store=url)).splitlines()[0]


def test_a_second_call_counts_its_own_runs(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    sweepnb.agent(sid, good, count=6, store=url)
    since = time.time()
    sweepnb.agent(sid, good, count=2, store=url)
    head = text_of(Dashboard(sid, store=url, count=2, since=since)).splitlines()[0]
    assert "2/2 runs done (this call)" in head and "8 runs in the sweep" in head


def test_failed_runs_say_why_above_the_charts(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    sweepnb.agent(sid, good, count=2, store=url)  # charts to be above of
    sweepnb.agent(sid, typo, count=2, store=url)
    dash = Dashboard(sid, store=url)
    runs, state = dash.poll()
    bundle = dash.render(runs, state)
    text, page = bundle["text/plain"], bundle["text/html"]
    assert "learning_rate" in text and "Traceback" in text  # the first failure in full
    assert text.count("Traceback") == 1  # the next ones: their last lines
    assert page.index("sweepnb-failures") < page.index("<img") < page.index("best runs")
    assert "learning_rate" in page


def test_a_metric_never_logged_is_named_with_what_was_logged(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    sweepnb.agent(sid, lambda: sweepnb.log({"val_acc": 0.5, "loss": 1.0}), count=2, store=url)
    text = text_of(Dashboard(sid, store=url))
    assert "never logged the metric 'val_accuracy'" in text
    assert "loss, val_acc" in text


# -- readable in a room ------------------------------------------------------------------------


def curves_sweep(tmp_path):
    url = str(tmp_path / "s.db")
    cfg = {**RANDOM, "parameters": {"lr": {"min": 0.001, "max": 0.1}, "b": {"values": [1, 2]}}}
    sid = sweepnb.sweep(cfg, store=url)

    def epochs():
        for epoch in range(6):
            sweepnb.log({"val_accuracy": sweepnb.config.lr * (epoch + 1)})

    sweepnb.agent(sid, epochs, count=4, store=url)
    return url, sid


def labels_of(fig):
    from sweepnb.notebook.labels import Label

    found = []
    for artist in [*fig.artists, *(a for ax in fig.axes for a in ax.artists)]:
        if isinstance(artist, Label):
            found.append(artist)
    return found


def drawn_figures(dash: Dashboard):
    from sweepnb.notebook import charts

    runs, state = dash.poll()
    dash.render(runs, state)
    return {key[0]: fig for key, fig in charts._FIGURES.items() if key[2] == dash.charts.dpi}


def test_text_reads_at_12_px_and_scale_makes_it_larger(tmp_path):
    url, sid = curves_sweep(tmp_path)
    for scale in (1.0, 2.0):
        dash = Dashboard(sid, store=url, scale=scale)
        figures = drawn_figures(dash)
        sizes = [
            label.size * dash.charts.dpi / 72 for label in labels_of(figures["history"])
        ]  # pixels in the image, which is shown at its own width (at most)
        assert min(sizes) >= 12 * scale - 0.01, (scale, sorted(sizes)[:3])


def test_legends_sit_outside_the_data_and_steps_get_integer_ticks(tmp_path):
    url, sid = curves_sweep(tmp_path)
    figures = drawn_figures(Dashboard(sid, store=url))
    for name in ("history", "curves"):
        legend = [label for label in labels_of(figures[name]) if label.text.startswith("\u25cf")]
        assert legend, name
        assert all(label.x > 1 for label in legend), name  # right of the Axes, in axes units
    ticks = [lab.text for lab in labels_of(figures["curves"]) if lab.y == -0.03]
    assert ticks and all(t.isdigit() for t in ticks), ticks


# --------------------------------------------------------------------------- a real kernel


@pytest.mark.slow
def test_in_a_kernel_a_finished_agent_says_finished_shows_failures_and_no_stop_button(
    tmp_path, monkeypatch, kernel_env
):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.delenv("SWEEPNB_UI", raising=False)
    db = tmp_path / "sweeps.db"
    setup = (
        "import sweepnb\n"
        "%load_ext sweepnb\n"
        f"sid = sweepnb.sweep({RANDOM!r}, store={str(db)!r})\n"
        "def train():\n"
        "    sweepnb.log({'val_accuracy': sweepnb.config.lr})\n"
        "def typo():\n"
        "    sweepnb.log({'val_accuracy': sweepnb.config.learning_rate})\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_code_cell(f"%agent {{sid}} train --count 3 --store {db}"),
        nbformat.v4.new_code_cell(f"%agent {{sid}} train --count 2 --store {db}"),
        nbformat.v4.new_code_cell(f"%agent {{sid}} typo --count 2 --store {db}"),
    ]
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    def last_text(cell) -> str:
        texts = [o.data["text/plain"] for o in cell.outputs if "text/plain" in o.get("data", {})]
        texts += [
            o.data["text/plain"]
            for o in cell.outputs
            if o.output_type == "update_display_data" and "text/plain" in o.get("data", {})
        ]
        assert [o for o in cell.outputs if o.output_type == "error"] == []
        return "\n".join(texts)

    first, second, failing = (last_text(c) for c in nb.cells[1:])
    header = [line for line in first.splitlines() if "runs done" in line][-1]
    assert "[finished]" in header and "3/3 runs done" in header and "ETA" not in header
    assert "2/2 runs done" in second  # this call's own runs, not the sweep's 5
    assert "learning_rate" in failing  # the failed runs' error, as text
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    dashboards = [m["state"] for m in models.values() if "stop_button" in m["state"]]
    assert len(dashboards) == 3 and not any(d["stop_button"] for d in dashboards)
    assert all(d["status"]["state"].startswith("finished") for d in dashboards)


@pytest.mark.parametrize("scale", ["big", 10, True, float("nan")])
def test_a_bad_scale_is_named(tmp_path, scale):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    with pytest.raises(ValueError, match="scale: expected a number from 0.5 to 4"):
        Dashboard(sid, store=url, scale=scale)


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("panel", ["history", "curves", "scatter"])
def test_the_metric_name_beside_a_panel_clears_its_tick_labels(tmp_path, scale, panel):
    url, sid = curves_sweep(tmp_path)
    dash = Dashboard(sid, store=url, scale=scale)
    fig = drawn_figures(dash)[panel]
    fig.canvas.draw()
    found = labels_of(fig)
    name = next(label for label in found if label.text == "val_accuracy" and label.rotation == 90)
    ticks = [label for label in found if label.rotation == 0 and label.ha == "right"]
    box = name.get_window_extent()
    assert ticks and box.x0 >= 0  # inside the image
    assert not any(box.overlaps(tick.get_window_extent()) for tick in ticks)


@pytest.mark.parametrize("refresh", ["fast", -1, None])
def test_a_bad_refresh_is_named(tmp_path, refresh):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    with pytest.raises(ValueError, match="refresh: must be a number >= 0 seconds"):
        Dashboard(sid, store=url, refresh=refresh)
