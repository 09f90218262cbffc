"""Hyperband early termination, with W&B's arithmetic (reference §3).

Every expected decision below is worked out by hand in the comments: bands, then per band the
sorted b-th values and the element at index int(n / eta), then each running run's compared value.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from sweepnb.engine.stopping import (
    RULES,
    describe,
    hyperband,
    median,
    should_stop,
    stop_decisions,
)
from sweepnb.errors import ConfigError

HYPER_DATA = Path(__file__).parent / "data" / "hyper-data.yaml"


def run(run_id: str, state: str, values: list, name: str = "loss") -> dict:
    return {"id": run_id, "state": state, "config": {}, "history": [{name: v} for v in values]}


def config(goal: str = "minimize", name: str = "loss", **early_terminate) -> dict:
    return {
        "method": "random",
        "metric": {"name": name, "goal": goal},
        "parameters": {"a": {"values": [1, 2]}},
        "early_terminate": {"type": "hyperband", **early_terminate},
    }


# ---------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("max_iter", "s", "eta", "expected"),
    [
        (81, 3, 3, [3, 9, 27]),  # 27, 9, 3
        (27, 2, 3, [3, 9]),
        (18, 2, 3, [2, 6]),  # 6.0, 2.0
        (19, 2, 3, [2, 6]),  # 6.33 -> 6, 2.11 -> 2
        (5, 2, 2, [1, 2]),  # 2.5 -> 2, 1.25 -> 1
        (9, 2, 3, [1, 3]),
        (10, 2, 3, [1, 3]),  # 3.33 -> 3, 1.11 -> 1
        (100, 3, 3, [3, 11, 33]),  # 33.3, 11.1, 3.7
        (4, 5, 3, [1]),  # 1.33, then 0.44 < 1 stops the division
    ],
)
def test_bands_from_max_iter_and_s(max_iter, s, eta, expected):
    assert hyperband.bands({"max_iter": max_iter, "s": s, "eta": eta}) == expected


@pytest.mark.parametrize(
    ("min_iter", "eta", "first"),
    [
        (3, 3, [3, 9, 27, 81]),
        (3, 2, [3, 6, 12, 24]),
        (1, 1.5, [1, 1, 2, 3, 5, 7]),  # 1, 1.5, 2.25, 3.375, 5.06, 7.59: duplicates kept
    ],
)
def test_bands_from_min_iter(min_iter, eta, first):
    found = hyperband.bands({"min_iter": min_iter, "eta": eta})
    assert found[: len(first)] == first
    assert len(found) == 100


def test_eta_defaults_to_3():
    assert hyperband.bands({"min_iter": 1})[:4] == [1, 3, 9, 27]


def test_max_iter_wins_over_min_iter():
    assert hyperband.bands({"max_iter": 27, "s": 2, "min_iter": 1, "eta": 3}) == [3, 9]


def test_huge_eta_stops_bands_before_overflow():
    found = hyperband.bands({"min_iter": 1, "eta": 1e100})
    assert found[:2] == [1, int(1e100)]
    assert len(found) == 4  # 1e300 is the last finite power


@pytest.mark.parametrize(("max_iter", "s"), [(2, 1), (81, 0)])
def test_no_band_is_a_config_error(max_iter, s):
    # (2, s1): 2/3 < 1 at once; s0: no division at all
    with pytest.raises(ConfigError, match="Bands must be an array of length at least 1"):
        should_stop(config(max_iter=max_iter, s=s), [run("a", "running", [1, 2, 3])])


# ---------------------------------------------------------------- decisions


def test_no_early_terminate_stops_nothing():
    cfg = config(min_iter=1)
    del cfg["early_terminate"]
    runs = [run("a", "finished", [1, 1]), run("b", "running", [9, 9])]
    assert should_stop(cfg, runs) == []
    assert stop_decisions({**cfg, "early_terminate": None}, runs) == {}


# min_iter 2, eta 2 -> bands [2, 4, ...], r = 0.5
#   band 2: 2nd values a 4, b 3, c 6, d 5 -> [3, 4, 5, 6][int(0.5 * 4) = 2] = 5
#   band 4: 4th values a 2, b 1         -> [1, 2][int(0.5 * 2) = 1]       = 2
#   c (2 values, band 2): strict 6 > 5 stop; non-strict best 1 <= 5 keep
#   d (2 values, band 2): 5 is not > 5 in either mode (the threshold itself survives)
MIXED = [
    run("a", "finished", [5, 4, 3, 2]),
    run("b", "finished", [5, 3, 2, 1]),
    run("c", "running", [1, 6]),
    run("d", "running", [5, 5]),
]


def test_strict_compares_the_value_at_the_band():
    assert stop_decisions(config(min_iter=2, eta=2, strict=True), MIXED) == {
        "c": {
            "rule": "hyperband",
            "band": 2,
            "threshold": 5.0,
            "value": 6.0,
            "message": "Band 2: value 6 > threshold 5",
        }
    }


def test_non_strict_compares_the_best_value_so_far():
    assert should_stop(config(min_iter=2, eta=2, strict=False), MIXED) == []


def test_strict_is_the_default():
    assert should_stop(config(min_iter=2, eta=2), MIXED) == ["c"]


def test_maximize_negates_and_reports_the_users_units():
    # the MIXED case as accuracies: band 2 values 0.6, 0.7, 0.4, 0.5 -> negated
    # [-0.7, -0.6, -0.5, -0.4][2] = -0.5, so threshold 0.5; c's 0.4 is worse, d's 0.5 equal
    runs = [
        run("a", "finished", [0.5, 0.6, 0.7, 0.8], "acc"),
        run("b", "finished", [0.5, 0.7, 0.8, 0.9], "acc"),
        run("c", "running", [0.9, 0.4], "acc"),
        run("d", "running", [0.5, 0.5], "acc"),
    ]
    decisions = stop_decisions(config("maximize", "acc", min_iter=2, eta=2), runs)
    assert list(decisions) == ["c"]
    assert decisions["c"]["value"] == 0.4
    assert decisions["c"]["threshold"] == 0.5
    assert decisions["c"]["message"] == "Band 2: value 0.4 < threshold 0.5"


def test_minimize_and_maximize_mirror_each_other():
    negated = [{**r, "history": [{"loss": -row["loss"]} for row in r["history"]]} for r in MIXED]
    assert should_stop(config("maximize", min_iter=2, eta=2), negated) == ["c"]


# max_iter 5, s 2, eta 2 -> bands [1, 2], r = 0.5 (W&B's five-run case)
#   band 1: 1st values all 10             -> threshold 10
#   band 2: 2nd values 9, 10, 8, 7, 6     -> [6, 7, 8, 9, 10][2] = 8
#   b (2 values): 10 > 8 stop; c, d (3 values, band 2): 8 and 7 keep; a, e finished
FIVE = [
    run("a", "finished", [10, 9]),
    run("b", "running", [10, 10]),
    run("c", "running", [10, 8, 8]),
    run("d", "running", [10, 7, 7]),
    run("e", "finished", [10, 6, 6]),
]


def test_only_running_runs_are_stopped():
    decisions = stop_decisions(config(max_iter=5, s=2, eta=2), FIVE)
    assert list(decisions) == ["b"]
    assert (decisions["b"]["band"], decisions["b"]["threshold"]) == (2, 8.0)


def test_finished_and_stopped_runs_still_shape_thresholds():
    # three more runs (failed, stopped, crashed) whose 2nd value is 1: band 2 becomes
    # [1, 1, 1, 6, 7, 8, 9, 10][int(0.5 * 8) = 4] = 7, so c (8) stops too; d (7) stays
    worse = FIVE + [
        run(f"f{i}", s, [10, 1]) for i, s in enumerate(["failed", "stopped", "crashed"])
    ]
    assert should_stop(config(max_iter=5, s=2, eta=2), worse) == ["b", "c"]


def test_lone_run_is_never_stopped():
    terrible = run("a", "running", [100.0 + i for i in range(50)])
    assert should_stop(config(min_iter=1, eta=3), [terrible]) == []


def test_first_run_to_reach_a_band_is_judged_against_itself_only():
    # band 3 has one value (b's 9): threshold 9, and 9 is not > 9
    runs = [run("a", "finished", [1, 1]), run("b", "running", [9, 9, 9])]
    assert should_stop(config(min_iter=3), runs) == []


def test_run_below_the_first_band_waits():
    runs = [run("a", "finished", [1, 1, 1]), run("b", "running", [9, 9])]
    assert should_stop(config(min_iter=3), runs) == []
    runs[1]["history"].append({"loss": 9})
    assert should_stop(config(min_iter=3), runs) == ["b"]


def test_nan_and_missing_values_are_not_iterations():
    # b has one valid value (NaN, a string, an inf, a bool and rows without the metric skip),
    # so it has not reached band 2; c with two values is judged: [1, 9][int(2 / 3) = 0] = 1
    noisy = [9.0, math.nan, "NaN", math.inf, True]
    b = {"id": "b", "state": "running", "history": [{"loss": v} for v in noisy] + [{"acc": 1}]}
    runs = [run("a", "finished", [1, 1]), b, run("c", "running", [9, 9])]
    assert should_stop(config(min_iter=2), runs) == ["c"]


def test_iterations_count_logged_values_not_steps():
    history = [{"loss": 9, "_step": 0}, {"acc": 1, "_step": 1}, {"loss": 9, "_step": 7}]
    runs = [run("a", "finished", [1, 1]), {"id": "b", "state": "running", "history": history}]
    assert stop_decisions(config(min_iter=2), runs)["b"]["band"] == 2


def test_unfilled_config_gets_eta_3_and_strict_true():
    # min_iter 2: eta 3 gives bands [2, 6]; eta 2 would give [2, 4] and judge c at band 4
    runs = [
        run("a", "finished", [5, 5, 5, 5, 5, 5]),
        run("b", "finished", [5, 1, 1, 1, 1, 1]),
        run("c", "running", [1, 9, 9, 1]),
    ]
    # band 2: [1, 5, 9][int(3 / 3) = 1] = 5; c (4 values, band 2): strict 9 > 5 stop
    assert should_stop(config(min_iter=2), runs) == ["c"]
    assert should_stop(config(min_iter=2, eta=3, strict=True), runs) == ["c"]
    # non-strict: best 1 <= 5; eta 2: band 4 [1, 1, 5][1] = 1 and c's 4th value 1 keeps it
    assert should_stop(config(min_iter=2, strict=False), runs) == []
    assert should_stop(config(min_iter=2, eta=2), runs) == []


def test_stop_order_follows_the_runs():
    runs = [run("z", "running", [9, 9]), run("a", "finished", [1, 1]), run("m", "running", [8, 8])]
    # band 2: [1, 8, 9][int(3 / 3) = 1] = 8 -> only z (m's 8 is not worse)
    assert should_stop(config(min_iter=2), runs) == ["z"]
    runs.append(run("b", "finished", [0, 0]))
    # [0, 1, 8, 9][int(4 / 3) = 1] = 1 -> z and m, in input order
    assert should_stop(config(min_iter=2), runs) == ["z", "m"]


# ---------------------------------------------------------------- bad configs


@pytest.mark.parametrize(
    ("early_terminate", "key"),
    [
        ("hyperband", "early_terminate:"),
        ({"min_iter": 3}, "early_terminate:"),
        ({"type": "bogus"}, "early_terminate.type:"),
        ({"type": "hyperband", "min_iter": 3, "eta": 1}, "early_terminate.eta:"),
        ({"type": "hyperband", "min_iter": 3, "eta": "3"}, "early_terminate.eta:"),
        ({"type": "hyperband", "min_iter": 0}, "early_terminate.min_iter:"),
        ({"type": "hyperband", "min_iter": 2.5}, "early_terminate.min_iter:"),
        ({"type": "hyperband", "max_iter": 27}, "early_terminate.s:"),
        ({"type": "hyperband", "max_iter": 27, "s": 1.5}, "early_terminate.s:"),
        ({"type": "hyperband", "min_iter": 3, "strict": "yes"}, "early_terminate.strict:"),
        ({"type": "hyperband", "eta": 3}, "early_terminate:"),
    ],
)
def test_bad_early_terminate_names_the_key(early_terminate, key):
    cfg = {"metric": {"name": "loss"}, "early_terminate": early_terminate}
    with pytest.raises(ConfigError) as err:
        should_stop(cfg, [run("a", "running", [1, 2, 3])])
    assert err.value.errors[0].startswith(key)


@pytest.mark.parametrize(
    ("metric", "key"),
    [
        (None, "metric:"),
        ({"goal": "minimize"}, "metric:"),
        ({"name": "l", "goal": "min"}, "metric.goal:"),
    ],
)
def test_bad_metric_names_the_key(metric, key):
    cfg = {"early_terminate": {"type": "hyperband", "min_iter": 1}}
    if metric is not None:
        cfg["metric"] = metric
    with pytest.raises(ConfigError) as err:
        should_stop(cfg, [])
    assert err.value.errors[0].startswith(key)


def test_registry_holds_one_entry_per_rule():
    assert list(RULES) == ["hyperband", "median"]
    assert describe("hyperband").decide is hyperband.decide
    assert describe("median").decide is median.decide


# ---------------------------------------------------------------- median (one more file)


def median_config(**settings) -> dict:
    return {"metric": {"name": "loss"}, "early_terminate": {"type": "median", **settings}}


# three finished runs; their means over the first 2 values: 1.5, 3, 4.5 -> median 3;
# over the first 3: 2, 3.67, 5 -> median 3.67
PEERS = [
    run("a", "finished", [2, 1, 3]),
    run("b", "finished", [4, 2, 5]),
    run("c", "finished", [6, 3, 6]),
]


def test_median_stops_a_run_whose_best_is_worse_than_the_median():
    decisions = stop_decisions(median_config(min_iter=2), [*PEERS, run("d", "running", [5, 4])])
    assert decisions == {
        "d": {
            "rule": "median",
            "iteration": 2,
            "threshold": 3.0,
            "value": 4.0,
            "message": "Iteration 2: best 4 > median 3 of 3 runs",
        }
    }


def test_median_keeps_a_run_at_or_below_the_median():
    assert should_stop(median_config(min_iter=2), [*PEERS, run("d", "running", [5, 3])]) == []


def test_median_waits_for_min_iter_and_min_runs():
    late = [*PEERS, run("d", "running", [5, 4])]
    assert should_stop(median_config(), late) == []  # min_iter 3 by default
    assert should_stop(median_config(min_iter=2, min_runs=4), late) == []


def test_median_maximize_reports_the_users_units():
    peers = [run(r["id"], "finished", [-row["loss"] for row in r["history"]]) for r in PEERS]
    cfg = {**median_config(min_iter=2), "metric": {"name": "loss", "goal": "maximize"}}
    decisions = stop_decisions(cfg, [*peers, run("d", "running", [-5, -4])])
    assert decisions["d"]["message"] == "Iteration 2: best -4 < median -3 of 3 runs"


def test_median_bad_setting_names_the_key():
    with pytest.raises(ConfigError) as err:
        should_stop(median_config(min_runs=0), PEERS)
    assert err.value.errors == ["early_terminate.min_runs: must be an integer >= 1, got 0"]


# ---------------------------------------------------------------- W&B's recorded curves


@pytest.fixture(scope="module")
def curves() -> list[list[dict]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads it 10x faster
    data = yaml.load(HYPER_DATA.read_text(), Loader=loader)["data"]
    assert len(data) == 116
    return data


def _values_at(curves, ids, index):
    return {i: curves[i][index]["metric"] for i in ids}


HYPER_CFG = {
    "goal": "maximize",
    "name": "metric",
    "min_iter": 30,
    "eta": 1.5,
}  # bands 30, 45, 67, ...


def test_hyper_data_strict_rounds(curves):
    """Successive halving on the 116 curves: each round, every surviving run has logged its
    band + 5 values (as in W&B's test). With n distinct values at the band, the threshold is
    the (int(n / 1.5) + 1)-th best and the n - int(n / 1.5) - 1 worse runs stop:
    116 -> int(77.3) = 77 -> 38 stop; 78 -> int(52.0) = 52 -> 25; 53 -> int(35.3) = 35 -> 17.
    (W&B's own strict run of this data reports 38, 25, 17: sweeps PR #99.)"""
    cfg = config(**HYPER_CFG, strict=True)
    alive = list(range(len(curves)))
    for band, n_stop in [(30, 38), (45, 25), (67, 17)]:
        runs = [
            run(str(i), "running", [r["metric"] for r in curves[i][: band + 5]], "metric")
            for i in alive
        ]
        at_band = _values_at(curves, alive, band - 1)
        assert len(set(at_band.values())) == len(alive)  # distinct: no ties at the threshold
        keep = sorted(alive, key=lambda i: -at_band[i])[: int(len(alive) / 1.5) + 1]
        expected = [str(i) for i in alive if i not in keep]

        decisions = stop_decisions(cfg, runs)
        assert list(decisions) == expected
        assert len(decisions) == n_stop
        assert {d["band"] for d in decisions.values()} == {band}
        threshold = min(at_band[i] for i in keep)
        assert all(d["threshold"] == threshold for d in decisions.values())
        alive = [i for i in alive if i in keep]
    assert len(alive) == 116 - 38 - 25 - 17


def test_hyper_data_non_strict_keeps_runs_that_peaked_early(curves):
    """Non-strict compares each run's best value so far with the same thresholds; these curves
    peak early, so far fewer stop: W&B's previous (best-so-far) rule stopped 15, 9 and 6."""
    cfg = config(**HYPER_CFG, strict=False)
    alive = list(range(len(curves)))
    for band, n_stop in [(30, 15), (45, 9), (67, 6)]:
        logged = {i: [r["metric"] for r in curves[i][: band + 5]] for i in alive}
        at_band = sorted((logged[i][band - 1] for i in alive), reverse=True)
        threshold = at_band[int(len(alive) / 1.5)]
        expected = [str(i) for i in alive if max(logged[i]) < threshold]

        stopped = should_stop(cfg, [run(str(i), "running", logged[i], "metric") for i in alive])
        assert stopped == expected
        assert len(stopped) == n_stop
        alive = [i for i in alive if str(i) not in stopped]
