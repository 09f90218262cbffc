"""Smoke test of bench/sklearn_search.py --quick: every task has a row per method and the goals are stated.

Checks the table's shape, not its timings or scores (those are bench/RESULTS.md's business).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "sklearn_search.py"


@pytest.fixture(scope="module")
def bench():
    # loaded under another name: put on sys.path as "sklearn" it would shadow scikit-learn
    spec = importlib.util.spec_from_file_location("bench_sklearn", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sklearn"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(bench) -> str:
    return bench.main(["--quick"])


def test_one_table_per_task_with_a_row_per_method(bench, report):
    expected = list(bench.methods(4, 8))
    for task in bench.TASKS:
        block = report.split(f"### {task} ")[1].split("###")[0]
        rows = [line for line in block.splitlines() if line.startswith("| ") and "---" not in line]
        assert [row.split(" | ")[0][2:] for row in rows[1:]] == expected
        for row in rows[1:]:
            score, wall, folds = (float(cell) for cell in row.strip(" |").split(" | ")[1:])
            assert 0 < score <= 1 and wall >= 0 and folds >= 1


def test_hyperband_fits_fewer_folds_than_plain_bayes(bench, report):
    # the same seed and candidates budget: stopping can only remove fold fits
    block = report.split("### digits_svc ")[1].split("###")[0]
    folds = dict(re.findall(r"\| (SweepSearchCV [^|]+?) \| [\d.]+ \| [\d.]+ \| (\d+) \|", block))
    assert int(folds["SweepSearchCV bayes + hyperband"]) <= int(folds["SweepSearchCV bayes"])


def test_goals_are_stated_for_every_task(bench, report):
    goals = report.split("### Goals")[1]
    for task in bench.TASKS:
        assert re.search(rf"- {task}: bayes \(4\) .*: (met|NOT met); bayes \+ hyperband", goals)


def test_runs_saved_apart_report_as_one_and_a_repeated_row_is_refused(bench, tmp_path, capsys):
    main_rows = tmp_path / "main.json"
    grid_row = tmp_path / "grid.json"
    common = ["--quick", "--tasks", "sgd_pipeline"]
    bench.main([*common, "--skip", "GridSearchCV", "skopt", "Optuna", "--save", str(main_rows)])
    alone = bench.main([*common, "--only", "GridSearchCV", "--save", str(grid_row)])
    assert "not every method of the goals ran" in alone
    merged = bench.main(["--load", str(main_rows), str(grid_row)])
    block = merged.split("### sgd_pipeline ")[1].split("###")[0]
    assert "| GridSearchCV |" in block and "| SweepSearchCV bayes |" in block
    assert "Versions: scikit-learn " in merged
    assert re.search(r"at least as good \(or tied\) on [01] of 1 seeds", merged)
    with pytest.raises(SystemExit):
        bench.main(["--load", str(main_rows), str(main_rows)])
    assert "repeats sgd_pipeline" in capsys.readouterr().err


def test_a_load_file_that_is_missing_or_not_saved_by_the_bench_is_named(bench, tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    for path, message in (
        (tmp_path / "missing.json", "cannot read"),
        (other, "not a file written"),
    ):
        with pytest.raises(SystemExit):
            bench.main(["--load", str(path)])
        err = capsys.readouterr().err
        assert message in err and str(path) in err
