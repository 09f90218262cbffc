"""Issue 13: the dashboard tells the truth — the sweep's state when it ends, each call's own
progress, and why runs failed, as text above the charts (and ``ls`` shows the same state)."""

from __future__ import annotations

import time

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
    sweepnb.agent(sid, typo, count=2, store=url)
    dash = Dashboard(sid, store=url)
    runs, state = dash.poll()
    bundle = dash.render(runs, state)
    text, page = bundle["text/plain"], bundle["text/html"]
    assert "learning_rate" in text and "Traceback" in text  # the first failure in full
    assert text.count("Traceback") == 1  # the next ones: their last lines
    assert page.index("sweepnb-failures") < page.index("best runs") if "best runs" in page else True
    assert "learning_rate" in page


def test_a_metric_never_logged_is_named_with_what_was_logged(tmp_path):
    url = str(tmp_path / "s.db")
    sid = sweepnb.sweep(RANDOM, store=url)
    sweepnb.agent(sid, lambda: sweepnb.log({"val_acc": 0.5, "loss": 1.0}), count=2, store=url)
    text = text_of(Dashboard(sid, store=url))
    assert "never logged the metric 'val_accuracy'" in text
    assert "loss, val_acc" in text
