"""The one domain model every front end shares: Metric, the best run, the run states, the
error-to-one-line function, the sweep-id parser and the ls/show tables (CLI and magics)."""

from __future__ import annotations

import math

import pytest

import sweepnb
from sweepnb import cli, options
from sweepnb.analysis import best_run as analysis_best_run
from sweepnb.analysis.tables import SWEEPS_COLUMNS, counts_text, sweep_detail, sweeps_table
from sweepnb.engine import target_reached
from sweepnb.engine.metric import Metric, best_run
from sweepnb.engine.stopping import rule
from sweepnb.errors import ConfigError, SweepnbError, SweepNotFound, one_line
from sweepnb.ids import parse_sweep_id
from sweepnb.notebook.progress import progress


def run(rid, values, state="finished"):
    return {"id": rid, "state": state, "config": {}, "history": [{"m": v} for v in values]}


def test_metric_of_reads_the_config_with_its_defaults():
    assert Metric.of({"metric": {"name": "loss"}}) == Metric("loss", "minimize", None)
    acc = Metric.of({"metric": {"name": "acc", "goal": "maximize", "target": 0.9}})
    assert acc == Metric("acc", "maximize", 0.9)
    assert Metric.of({}) is None and Metric.of({"metric": {"goal": "maximize"}}) is None
    assert Metric.of(None) is None
    assert rule.Metric is Metric  # the stopping rules use the same class


def test_better_best_of_and_reached_follow_the_goal():
    low, high = Metric("m"), Metric("m", "maximize", 0.9)
    assert low.better(1, 2) and not low.better(2, 2) and high.better(2, 1)
    assert low.best_of([3, None, math.nan, True, 2.5]) == 2.5
    assert high.best_of([3, None, 7]) == 7 and high.best_of([None]) is None
    assert high.reached(0.95) and not high.reached(0.5) and not low.reached(0.0)


def test_best_run_keeps_the_earliest_of_ties_and_skips_runs_without_the_metric():
    runs = [run("a", []), run("b", [3, 1]), run("c", [1]), run("d", [2])]
    assert best_run(Metric("m"), runs) == (runs[1], 1.0)
    assert best_run(Metric("m", "maximize"), runs) == (runs[1], 3.0)
    assert best_run(None, runs) is None and best_run(Metric("m"), [runs[0]]) is None


def test_every_best_run_reader_agrees():
    cfg = {"method": "random", "metric": {"name": "m", "goal": "maximize", "target": 3}}
    runs = [run("a", [1, 2]), run("b", [3], state="running"), run("c", [2.5])]
    assert analysis_best_run(cfg, runs)["id"] == "b"
    p = progress(cfg, runs, sweep_id="s", sweep_state="running", now=0.0)
    assert (p.best_id, p.best_value) == ("b", 3.0)
    assert not target_reached(cfg, runs)  # the best run is still running
    assert target_reached(cfg, [*runs, run("d", [3.5])])


def test_one_line_names_the_problem_on_one_line():
    err = ConfigError(["method: required", "parameters.x: bad"])
    assert one_line(err) == "invalid sweep config: method: required; parameters.x: bad"
    assert one_line(FileNotFoundError(2, "No such file", "cfg.yaml")) == "no such file: cfg.yaml"
    assert one_line(SweepNotFound("'abc'")) == "no sweep with id 'abc'"
    assert one_line(SweepnbError("a\n  b")) == "a b"


def test_parse_sweep_id_takes_wandb_paths_and_names_a_bad_one():
    assert parse_sweep_id("e/p/abc") == parse_sweep_id(" p/abc") == parse_sweep_id("abc") == "abc"
    with pytest.raises(SweepnbError, match="a/b/c/d"):
        parse_sweep_id("a/b/c/d")
    with pytest.raises(SweepnbError, match="non-empty"):
        parse_sweep_id("  ")
    assert options.parse_sweep_id is parse_sweep_id  # the front ends' name for it


def test_a_store_url_given_as_a_sweep_id_is_named_without_its_password():
    with pytest.raises(SweepnbError) as err:
        parse_sweep_id("postgresql://alice:s3cret@db.example/sweeps")
    assert "'postgresql://alice:***@db.example/sweeps', a store URL (give it as --store)" in str(
        err.value
    )
    assert "s3cret" not in str(err.value)


def test_counts_text():
    assert counts_text({}) == "0"
    assert counts_text({"finished": 2, "failed": 1}) == "3 (1 failed, 2 finished)"


@pytest.fixture
def finished(tmp_path):
    db = tmp_path / "s.db"
    cfg = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2, 3]}}}
    sid = sweepnb.sweep(cfg, store=db, name="g")

    def train():
        x = sweepnb.init().config.x
        if x == 3:
            raise ValueError("x=3 diverged")
        sweepnb.log({"loss": 10.0 / x})

    sweepnb.agent(sid, function=train, store=db)
    return db, sid


def test_sweeps_table_and_the_cli_ls_show_the_same_columns(finished, capsys):
    db, sid = finished
    table = sweeps_table(sweepnb.Store(db))
    assert list(table.columns) == list(SWEEPS_COLUMNS)
    row = table.iloc[0]
    assert (row["id"], row["runs"], row["metric"], row["best"]) == (
        sid,
        "3 (1 failed, 2 finished)",
        "loss",
        "5",
    )
    assert cli.main(["ls", "--store", str(db)]) == 0
    assert capsys.readouterr().out == table.to_string(index=False) + "\n"


def test_sweep_detail_ranks_runs_and_the_cli_show_prints_it(finished, capsys):
    db, sid = finished
    line, frame = sweep_detail(sweepnb.Store(db), f"me/proj/{sid}")
    assert line == (
        f"sweep {sid} (g): finished, grid search, 3 runs (1 failed, 2 finished),"
        " metric loss (minimize), best loss = 5"
    )
    assert list(frame["x"]) == [2, 1, 3]  # loss 5, loss 10, then the failed run without loss
    assert frame["why it ended"].iloc[-1] == "ValueError: x=3 diverged"
    assert cli.main(["show", sid, "--store", str(db)]) == 0
    assert capsys.readouterr().out == f"{line}\n{frame.to_string(index=False, max_colwidth=60)}\n"
