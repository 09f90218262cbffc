"""Smoke test of bench/compare.py: the ask/tell loop, the summaries and the report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
compare = pytest.importorskip("compare")
problems = pytest.importorskip("problems")

ITERATIONS = 3


def _engines() -> list[str]:
    """Two cheap engines: W&B's and Optuna's random samplers when the `bench` extra is installed,
    else sweepnb's own two (so a clean `.[test]` install still runs the loop)."""
    wanted = {
        "wandb-random": "sweeps",
        "optuna-random": "optuna",
        "sweepnb-random": "sweepnb",
        "sweepnb-bayes": "sweepnb",
    }
    found = [e for e, module in wanted.items() if importlib.util.find_spec(module) is not None]
    if len(found) < 2:
        pytest.skip(f"needs two of the optional engines {sorted(wanted)}")
    return found[:2]


@pytest.fixture(scope="module")
def loops() -> list:
    return [compare.run_loop(engine, "mixed", 0, ITERATIONS) for engine in _engines()]


def test_each_engine_runs_the_requested_number_of_iterations(loops):
    for loop in loops:
        assert len(loop.values) == len(loop.configs) == len(loop.ask_seconds) == ITERATIONS


def test_values_are_the_objective_at_the_suggested_configs(loops):
    mixed = problems.PROBLEMS["mixed"]
    for loop in loops:
        assert loop.values == [mixed.objective(config) for config in loop.configs]


def test_suggested_configs_lie_in_the_search_space(loops):
    for loop in loops:
        for config in loop.configs:
            assert set(config) == {"x", "lr", "optimizer"}
            assert 0.0 <= config["x"] <= 1.0
            assert 1e-5 <= config["lr"] <= 1.0
            assert config["optimizer"] in problems.MIXED_CENTRES


def test_the_same_seed_gives_the_same_configs(loops):
    again = compare.run_loop(loops[0].engine, "mixed", 0, ITERATIONS)
    assert again.configs == loops[0].configs


def test_best_so_far_is_the_running_minimum():
    assert compare.best_so_far([3.0, 1.0, 2.0, 0.5]) == [3.0, 1.0, 1.0, 0.5]


def test_report_has_a_row_per_engine_and_marks_a_winner(loops):
    text = compare.report(loops, loops, checkpoints=(1, ITERATIONS), points=(1,))
    for loop in loops:
        assert f"| {loop.engine} |" in text
    assert "## mixed" in text
    assert "**" in text
    # the whole loop's time, evaluations included, is the last column
    row = next(line for line in text.splitlines() if line.startswith(f"| {loops[0].engine} |"))
    assert row.rstrip(" |").split("| ")[-1] == f"{loops[0].wall_seconds:.2f}"


def test_unknown_engine_is_named_in_the_error():
    with pytest.raises(KeyError, match="no-such-tuner"):
        compare.missing_modules("no-such-tuner")


def test_unknown_problem_flag_is_named_in_the_error():
    with pytest.raises(SystemExit, match="--problems"):
        compare.parse_args(["--problems", "branin,nope"])


def test_first_seed_and_max_n_choose_the_seeds_and_the_loop_length(tmp_path):
    engine = _engines()[0]
    argv = [
        "--engines", engine, "--problems", "branin", "--first-seed", "7", "--seeds", "2",
        "--max-n", "25", "--no-timing", "--out", str(tmp_path),
    ]  # fmt: skip
    text = compare.main(argv)
    import json

    saved = json.loads((tmp_path / "compare.json").read_text())["results"]
    assert sorted(r["seed"] for r in saved) == [7, 8]
    assert all(len(r["values"]) == 25 for r in saved)
    assert "best after 25 |" in text and "best after 50" not in text
    # seed 7 here is seed 7 of a plain run: the same loop
    assert saved[0]["values"] == compare.run_loop(engine, "branin", saved[0]["seed"], 25).values


@pytest.mark.parametrize("flag", [["--first-seed", "-1"], ["--max-n", "3"]])
def test_bad_first_seed_or_max_n_is_refused_naming_the_flag(flag, capsys):
    with pytest.raises(SystemExit):
        compare.parse_args(flag)
    assert flag[0] in capsys.readouterr().err


def test_reuse_takes_only_the_seeds_of_this_run(tmp_path):
    first, second = _engines()
    old, new = tmp_path / "old", tmp_path / "new"
    common = ["--problems", "branin", "--seeds", "2", "--max-n", "25", "--no-timing"]
    compare.main(["--engines", first, *common, "--out", str(old)])
    compare.main(
        ["--engines", second, *common, "--first-seed", "7", "--out", str(new)]
        + ["--reuse", str(old / "compare.json")]
    )
    import json

    saved = json.loads((new / "compare.json").read_text())["results"]
    assert {r["seed"] for r in saved} == {7, 8}  # seeds 0 and 1 of the old run are left out
    assert {r["engine"] for r in saved} == {second}
