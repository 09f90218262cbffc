"""The interactive dashboard's Python side on a real SQLite store: what the widget is sent, what
``d.selected`` / ``d.select`` / ``d.pinned`` hand back, and the errors a user meets."""

from __future__ import annotations

import pytest

from sweepnb import api
from sweepnb.analysis.importance import explain, importance_data
from sweepnb.analysis.selection import brush_axes, check_brush, kept
from sweepnb.analysis.tables import rerun_command
from sweepnb.engine.config import load_config
from sweepnb.errors import SweepnbError
from sweepnb.notebook import widget as widget_mod
from sweepnb.notebook.dashboard import Dashboard

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
        "model": {"parameters": {"depth": {"values": [2, 4, 8]}}},
    },
}


def add_runs(store, sweep_id: str, n: int, start: int = 0, state: str = "finished") -> list[str]:
    ids = []
    for i in range(start, start + n):
        config = {
            "lr": 10.0 ** (-4 + (i % 7) / 2),
            "optimizer": ["sgd", "adam", "rmsprop"][i % 3],
            "model": {"depth": [2, 4, 8][i % 3]},
        }
        loss = [3.0 - 0.1 * s + (i % 5) for s in range(4)]
        ids.append(
            store.add_run(
                sweep_id,
                config,
                state=state,
                history=[{"loss": v} for v in loss],
                summary={"loss": loss[-1]},
            )
        )
    return ids


@pytest.fixture
def sweep(store) -> str:
    return store.create_sweep(load_config(CONFIG))


@pytest.fixture
def dash(store, sweep):
    add_runs(store, sweep, 12)
    d = Dashboard(sweep, store)
    d._make_view()
    d.update(force=True)
    return d


# --------------------------------------------------------------------------- back in Python


def test_select_keeps_the_runs_in_range_and_category_like_the_store(dash, store, sweep):
    got = dash.select(lr=(1e-3, 1e-2), optimizer="adam")
    frame = api.runs(sweep, store=store)
    expected = frame[frame.lr.between(1e-3, 1e-2) & (frame.optimizer == "adam")]
    assert sorted(got["id"]) == sorted(expected["id"]) and len(expected) > 0
    assert list(got.columns) == list(frame.columns)  # the same columns as sweepnb.runs
    assert dash.view.widget.brush == {"lr": [1e-3, 1e-2], "optimizer": ["adam"]}  # the browser's


def test_a_pinned_run_is_kept_outside_the_brush_and_nothing_brushed_keeps_all(dash, store, sweep):
    frame = api.runs(sweep, store=store)
    outside = frame[frame.optimizer == "sgd"]["id"].iloc[0]
    dash.pinned = [outside]
    assert len(dash.selected) == 12  # no brush: every run (a pin does not narrow the table)
    dash.select(optimizer=["adam", "rmsprop"])
    assert outside in set(dash.selected["id"])
    assert set(dash.selected["id"]) - {outside} == set(frame[frame.optimizer != "sgd"]["id"])
    assert dash.pinned == [outside] and dash.view.widget.pinned == [outside]


def test_the_brush_the_browser_sets_comes_back_as_selected(dash, store, sweep):
    dash.view.widget.brush = {"loss": [3.5, 5.0], "model.depth": ["4"]}  # as the widget syncs it
    frame = api.runs(sweep, store=store)
    expected = frame[frame.loss.between(3.5, 5.0) & (frame["model.depth"] == 4)]
    assert sorted(dash.selected["id"]) == sorted(expected["id"]) and len(expected) > 0


def test_select_with_none_clears_one_axis_and_no_argument_clears_all(dash):
    dash.select({"model.depth": [2, 4]}, lr=(1e-4, 1e-3))
    dash.select(lr=None)
    assert dash.brush == {"model.depth": ["2", "4"]}
    assert len(dash.select()) == 12 and dash.brush == {}


def test_select_an_unknown_parameter_names_it_and_lists_the_real_ones(dash):
    with pytest.raises(SweepnbError) as error:
        dash.select(nosuch=(1, 2))
    assert "'nosuch'" in str(error.value)
    assert "lr, model.depth, optimizer, loss" in str(error.value)  # the config's order


@pytest.mark.parametrize("value", [(0, 1), ("sgd", "adam")])
def test_a_range_on_a_categorical_parameter_is_refused_with_its_values(dash, value):
    with pytest.raises(SweepnbError, match="optimizer is categorical.*sgd, adam, rmsprop"):
        dash.select(optimizer=value)


def test_an_unknown_category_and_a_bad_range_are_named(dash):
    with pytest.raises(SweepnbError, match="optimizer has no value 'lbfgs'; its values are: sgd"):
        dash.select(optimizer="lbfgs")
    with pytest.raises(SweepnbError, match="lr: low 0.1 is above high 0.01"):
        dash.select(lr=(0.1, 0.01))
    with pytest.raises(SweepnbError, match="lr is numeric"):
        dash.select(lr="big")
    assert dash.brush == {}  # nothing half-applied


def test_pinning_a_run_the_sweep_does_not_have_is_refused(dash):
    with pytest.raises(SweepnbError, match="has no run 'nope'"):
        dash.pinned = ["nope"]


def test_selection_rules_without_a_dashboard(store, sweep):
    add_runs(store, sweep, 6)
    frame = api.runs(sweep, store=store)
    axes = brush_axes(frame, load_config(CONFIG))
    assert [(a.name, a.kind) for a in axes] == [
        ("lr", "log"),
        ("model.depth", "categorical"),
        ("optimizer", "categorical"),
        ("loss", "linear"),
    ]
    brush = check_brush({"loss": 4}, axes)  # one number: that value only
    assert sorted(kept(frame, brush, axes, [])["id"]) == sorted(frame[frame.loss == 4]["id"])


# --------------------------------------------------------------------------- what is sent


def test_a_refresh_sends_only_the_block_of_the_run_that_changed(store, sweep):
    widget_mod.count_bytes()
    ids = add_runs(store, sweep, 250)
    d = Dashboard(sweep, store)
    d._make_view()
    d.update(force=True)
    blocks = d.view.widget.blocks
    assert len(blocks) == 3 and sum(len(b.runs) for b in blocks) == 250
    first = d.view.last_bytes
    before = [dict(b.runs) for b in blocks]
    store.log(ids[120], [{"loss": 0.01}])  # one run of the second block moves
    d.update(force=True)
    after = [dict(b.runs) for b in d.view.widget.blocks]
    assert after[0] == before[0] and after[2] == before[2] and after[1] != before[1]
    assert after[1]["120"]["m"] == 0.01
    assert d.view.last_bytes < first / 2  # one block of three, not the sweep


def test_records_carry_what_hover_and_the_pinned_panel_show(dash, store, sweep):
    run_id = store.add_run(sweep, {"lr": 0.01, "optimizer": "sgd", "model": {"depth": 2}})
    store.finish_run(run_id, "failed", error="Traceback...\nValueError: diverged")
    dash.update(force=True)
    records = {r["id"]: r for b in dash.view.widget.blocks for r in b.runs.values()}
    record = records[run_id]
    assert record["s"] == "failed" and record["m"] is None and "diverged" in record["err"]
    assert record["c"] == {"lr": 0.01, "optimizer": "sgd", "model": {"depth": 2}}
    assert record["p"] == {"lr": 0.01, "optimizer": "sgd", "model.depth": "2"}
    assert "sweepnb.agent(sweep_id, train, count=1)" in record["cmd"]
    assert dash.view.widget.status["failed"] == 1


def test_a_named_runs_record_carries_its_name_for_the_table(dash, store, sweep):
    run_id = store.add_run(sweep, {"lr": 0.01, "optimizer": "sgd", "model": {"depth": 2}})
    store.log(run_id, [], info={"name": "tiny-lr"})  # what init(name=...) writes
    dash.update(force=True)
    records = {r["id"]: r for b in dash.view.widget.blocks for r in b.runs.values()}
    assert records[run_id]["name"] == "tiny-lr"  # the table shows r.name || r.id
    assert all("name" not in r for i, r in records.items() if i != run_id)


def test_the_importance_bars_come_with_a_sentence_each(dash):
    importance = dash.view.widget.importance
    assert len(importance["sentences"]) == len(importance["names"]) == 3
    assert all("loss" in s for s in importance["sentences"])


def test_explain_reads_the_sign_and_the_goal():
    import pandas as pd

    frame = pd.DataFrame({"id": list("abcdefgh"), "lr": range(8), "loss": range(8)})
    cfg = load_config(
        {"metric": {"name": "loss"}, "parameters": {"lr": {"min": 0, "max": 7}}, "method": "random"}
    )
    (sentence,) = explain(importance_data(frame, cfg))
    assert "higher lr had a higher loss (correlation +1.00)" in sentence
    assert "lower is better here, so that was worse" in sentence


def test_rerun_command_of_a_program_sweep_is_the_agents_command():
    cfg = {"program": "train.py", "command": ["${env}", "${interpreter}", "${program}", "${args}"]}
    assert rerun_command(cfg, {"id": "r", "config": {"lr": 0.1, "bs": 8}}) == (
        "python train.py --bs=8 --lr=0.1"
    )


def test_runs_sent_before_the_first_values_get_their_axes_values_later(store, sweep):
    """A dashboard drawn before any run (the first poll of %agent) caches no axes: the runs that
    arrive later must still carry every parameter's value, and so must the runs sent before a
    parameter's axis appeared (the browser's brush compares these values)."""
    d = Dashboard(sweep, store)
    d._make_view()
    d.update(force=True, final=True)  # no run yet: no axis (show() before the agents start)
    add_runs(store, sweep, 3)
    d.update(force=True)
    add_runs(store, sweep, 3, start=3)
    d.update(force=True)
    records = [r for block in d.view.widget.blocks for r in block.runs.values()]
    assert len(records) == 6
    for record in records:
        assert set(record["p"]) == {"lr", "optimizer", "model.depth"}, record
    assert {a["name"] for a in d.view.widget.axes} == {"lr", "optimizer", "model.depth", "loss"}
