"""Bayes search: behaviour that random search cannot show by chance, and W&B's data rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sweepnb.engine import load_config, suggest
from sweepnb.engine.params import value_key
from sweepnb.engine.search.bayes import Space, observe


def bayes(parameters: dict, **metric) -> dict:
    return load_config(
        {"method": "bayes", "metric": {"name": "loss", **metric}, "parameters": parameters}
    )


def run(config: dict, loss: float | None = None, state: str = "finished", rid: str = "r") -> dict:
    history = [] if loss is None else [{"loss": loss, "_step": 0}]
    return {"id": rid, "state": state, "config": config, "history": history, "summary": {}}


def optimise(cfg: dict, objective, budget: int, seed: int) -> list[float]:
    runs, losses = [], []
    for i in range(budget):
        (config,) = suggest(cfg, runs, seed=seed * 1000 + i)
        losses.append(objective(config))
        runs.append(run(config, losses[-1], rid=str(i)))
    return losses


def quadratic(config: dict) -> float:
    return (config["x"] - 0.3) ** 2


def test_finds_the_minimum_of_a_quadratic_far_better_than_random():
    space = {"x": {"min": -2.0, "max": 2.0}}
    errors = {}
    for method in ("bayes", "random"):
        cfg = load_config({"method": method, "metric": {"name": "loss"}, "parameters": space})
        errors[method] = [min(optimise(cfg, quadratic, 10, seed)) for seed in range(4)]
    assert max(errors["bayes"]) < 1e-4
    assert np.median(errors["bayes"]) < np.median(errors["random"]) / 100


def test_maximize_goal_climbs_instead():
    cfg = bayes({"x": {"min": -2.0, "max": 2.0}}, goal="maximize")
    best = max(optimise(cfg, lambda c: -quadratic(c), 10, seed=0))
    assert best > -1e-4


def test_finds_the_category_that_holds_the_optimum():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}, "opt": {"values": ["a", "b", "c"]}})
    floor = {"a": 1.0, "b": 0.0, "c": 2.0}
    losses = optimise(cfg, lambda c: quadratic(c) + floor[c["opt"]], 14, seed=3)
    assert min(losses) < 1e-3


def test_no_configuration_repeats_in_a_discrete_space_until_all_are_tried():
    cfg = bayes({"n": {"min": 1, "max": 4}, "act": {"values": ["relu", "tanh", False]}})
    configs = []
    runs = []
    for i in range(12):
        (config,) = suggest(cfg, runs, seed=i)
        configs.append(config)
        runs.append(run(config, (config["n"] - 2) ** 2 + (config["act"] == "tanh"), rid=str(i)))
    keys = {(c["n"], value_key(c["act"])) for c in configs}
    assert len(keys) == 12  # the whole 4 x 3 space, no repeat
    assert suggest(cfg, runs, seed=99)  # once exhausted it may repeat, it never stops


def test_parallel_suggestions_are_spread_by_fantasies():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}})
    xs = [0.1, 0.5, 0.9, 0.35]
    runs = [run({"x": x}, quadratic({"x": x}), rid=str(i)) for i, x in enumerate(xs)]
    batch = [c["x"] for c in suggest(cfg, runs, n=4, seed=0)]
    gaps = np.diff(np.sort(batch))
    # each fantasy moves the next point off the predicted optimum (without them, all four are
    # about the same point); on this smooth, noiseless curve they stay close to it
    assert gaps.min() > 5e-4, batch  # without fantasies: 1e-4 apart
    assert abs(np.mean(batch) - 0.3) < 0.15, batch  # near the optimum, not thrown across


def test_a_running_run_is_not_proposed_again():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}})
    runs = [run({"x": x}, quadratic({"x": x}), rid=str(i)) for i, x in enumerate([0.1, 0.9, 0.5])]
    (alone,) = suggest(cfg, runs, seed=5)
    (beside,) = suggest(cfg, [*runs, run(alone, None, "running", rid="busy")], seed=5)
    assert abs(beside["x"] - alone["x"]) > 0.01


def test_an_agent_asking_while_another_runs_stays_near_the_best_runs():
    # ten runs explored one corner, two the far edges; the best run's neighbour is running. A
    # proposal with prior samples among its candidates sent 6 of these 30 asks to the opposite
    # corner (1, 1), where the fantasy leaves the model's uncertainty untouched; with pending
    # runs the candidates are moves around the best runs (issue 22: agents in parallel)
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    points = np.vstack([np.random.default_rng(0).random((10, 2)) * 0.3, [[0.9, 0.1], [0.1, 0.9]]])
    runs = [
        run({"x": x, "y": y}, (x - 0.15) ** 2 + (y - 0.15) ** 2, rid=str(i))
        for i, (x, y) in enumerate(points)
    ]
    busy = run({"x": 0.15, "y": 0.16}, None, "running", rid="busy")
    for seed in range(30):
        (config,) = suggest(cfg, [*runs, busy], seed=seed)
        assert np.hypot(config["x"] - 0.15, config["y"] - 0.15) < 0.1, (seed, config)


def test_running_metric_is_used_when_impute_while_running_says_so():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}}, impute_while_running="best")
    space = Space.of(cfg)
    obs = observe(cfg, space, [run({"x": 0.2}, 3.0, "running"), run({"x": 0.4}, 1.0)])
    assert sorted(obs.y) == [1.0, 3.0] and len(obs.pending) == 0


def test_failed_and_crashed_runs_take_the_worst_value_by_default():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}})
    runs = [run({"x": 0.1}, 5.0), run({"x": 0.2}, 2.0), run({"x": 0.3}, None, "crashed")]
    assert list(observe(cfg, Space.of(cfg), runs).y) == [5.0, 2.0, 5.0]
    cfg_max = bayes({"x": {"min": 0.0, "max": 1.0}}, goal="maximize")
    assert list(observe(cfg_max, Space.of(cfg_max), runs).y) == [-5.0, -2.0, -2.0]


def test_impute_best_and_latest_use_the_runs_own_history():
    runs = [
        run({"x": 0.1}, 9.0),
        {
            "id": "f",
            "state": "failed",
            "config": {"x": 0.5},
            "history": [{"loss": 4.0}, {"loss": 1.0}, {"loss": 3.0}],
        },
    ]
    for impute, expected in (("best", 1.0), ("latest", 3.0), ("worst", 9.0)):
        cfg = bayes({"x": {"min": 0.0, "max": 1.0}}, impute=impute)
        assert observe(cfg, Space.of(cfg), runs).y[1] == expected


def test_stopped_run_counts_with_its_best_value_so_far():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}})
    stopped = {"id": "s", "state": "stopped", "config": {"x": 0.5}, "history": [{"loss": 2.0}]}
    obs = observe(cfg, Space.of(cfg), [run({"x": 0.1}, 9.0), stopped])
    assert list(obs.y) == [9.0, 2.0]


def test_falsy_categorical_values_are_encoded_apart():
    cfg = bayes({"v": {"values": [0, False, "", None, 1]}})
    space = Space.of(cfg)
    X, ok = space.encode_many([{"v": v} for v in (0, False, "", None, 1)])
    assert ok.all()
    np.testing.assert_array_equal(X, np.eye(5))  # one-hot, one column per value


def test_log_distribution_is_modelled_in_log_space():
    cfg = bayes({"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1}})
    X, _ = Space.of(cfg).encode_many([{"lr": 1e-3}, {"lr": 1e-5}, {"lr": 1e-1}])
    np.testing.assert_allclose(X[:, 0], [0.5, 0.0, 1.0], atol=1e-12)


def test_zero_probability_value_is_never_proposed():
    cfg = bayes(
        {
            "v": {"values": ["a", "b", "never"], "probabilities": [0.5, 0.5, 0.0]},
            "x": {"min": 0.0, "max": 1.0},
        }
    )
    runs = []
    for i in range(8):
        (config,) = suggest(cfg, runs, seed=i)
        assert config["v"] != "never"
        runs.append(run(config, quadratic(config) + (config["v"] == "a"), rid=str(i)))


def test_integer_and_nested_parameters_come_back_typed_and_nested():
    cfg = bayes(
        {
            "layers": {"min": 1, "max": 8},
            "opt": {
                "parameters": {
                    "q": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
                    "name": {"value": "adam"},
                }
            },
        }
    )
    runs = []
    for i in range(5):
        (config,) = suggest(cfg, runs, seed=i)
        assert type(config["layers"]) is int and type(config["opt"]["q"]) is int
        assert config["opt"]["name"] == "adam" and config["opt"]["q"] % 2 == 0
        runs.append(run(config, float(config["layers"] + config["opt"]["q"]), rid=str(i)))


def test_runs_with_values_outside_the_space_are_ignored_not_fatal():
    cfg = bayes({"v": {"values": ["a", "b"]}, "x": {"min": 0.0, "max": 1.0}})
    runs = [run({"v": "zzz", "x": 0.5}, 1.0), run({"x": "oops", "v": "a"}, 1.0), run({}, 2.0)]
    runs += [run({"v": "a", "x": 0.1}, 1.0), run({"v": "b", "x": 0.9}, 0.5)]
    obs = observe(cfg, Space.of(cfg), runs)
    assert len(obs.y) == 2
    assert len(suggest(cfg, runs, n=2, seed=0)) == 2


def test_same_seed_same_proposal():
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    runs = [
        run({"x": x, "y": y}, x + y, rid=f"{x}{y}")
        for x, y in itertools.product([0.2, 0.8], [0.3, 0.7])
    ]
    assert suggest(cfg, runs, seed=3) == suggest(cfg, runs, seed=3)


@pytest.mark.parametrize("state", ["running", "failed", "crashed"])
def test_fewer_than_two_observations_is_random_but_valid(state):
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}})
    (config,) = suggest(cfg, [run({"x": 0.5}, None, state)], seed=0)
    assert 0.0 <= config["x"] <= 1.0


def test_targets_keep_their_order_and_a_diverged_run_stops_dominating():
    from sweepnb.engine.search.bayes import standardise

    y = np.r_[np.linspace(0.1, 1.0, 12), 1e4]
    z = standardise(y)
    assert np.all(np.diff(z) > 0)
    # unit spread; zero (the GP's prior mean) at the upper quartile, not at the mean
    assert np.std(z) == pytest.approx(1.0)
    assert np.percentile(z, 75) == pytest.approx(0.0, abs=1e-12) and np.mean(z) < -0.1
    plain = (y - y.mean()) / y.std()
    # plain standardising squeezes the good runs into 0.003 sd; here they keep a wide spread
    assert np.ptp(plain[:12]) < 0.01
    assert np.ptp(z[:12]) > 1.0


def test_random_start_counts_searched_parameters_only():
    from sweepnb.engine.search.bayes import initial_runs

    def start(parameters: dict) -> int:
        return initial_runs(Space.of(bayes(parameters)))

    x = {"min": 0.0, "max": 1.0}
    assert start({"x": x}) == 2
    assert start({"x": x, "y": x, "z": x}) == 6
    assert start({f"p{i}": x for i in range(8)}) == 10  # capped
    # a one-value list and a constant are not searched; nested leaves are
    assert start({"x": x, "one": {"values": [3]}, "c": {"value": 1}}) == 2
    assert start({"opt": {"parameters": {"lr": x, "kind": {"values": ["a", "b"]}}}}) == 4


def test_random_start_does_not_repeat_a_config_while_unseen_ones_remain():
    # unlikely values: 64 draws can all land on tried points, the start must still find new ones
    cfg = bayes(
        {
            "a": {"values": ["p", "q"], "probabilities": [0.995, 0.005]},
            "b": {"values": [1, 2], "probabilities": [0.995, 0.005]},
        }
    )
    for seed in range(10):
        runs, keys = [], set()
        for i in range(4):
            (config,) = suggest(cfg, runs, seed=100 * seed + i)
            keys.add((config["a"], config["b"]))
            runs.append(run(config, float(i), rid=f"r{i}"))
        assert len(keys) == 4


def test_targets_near_the_float_limits_do_not_break_the_model():
    from sweepnb.engine.search.bayes import standardise

    with np.errstate(all="ignore"):
        z = standardise(np.array([-1.7e308, 1.7e308]))
    assert np.all(np.isfinite(z))


def _fresh_observe(cfg, runs):
    from sweepnb.engine.search import bayes as bayes_mod

    bayes_mod._ENCODED.clear()
    return observe(cfg, Space.of(cfg), runs)


def test_observations_follow_runs_that_change_in_place():
    """Encoded runs are kept between calls (a big sweep re-encoded only its changed runs); a run
    dict changed in place (state, a history row, a summary value) is read anew."""
    cfg = bayes({"x": {"min": 0.0, "max": 1.0}}, impute_while_running="latest")
    runs = [run({"x": 0.1}, 5.0), run({"x": 0.5}, None, "running"), run({"x": 0.9}, 2.0)]
    first = observe(cfg, Space.of(cfg), runs)
    assert list(first.y) == [5.0, 5.0, 2.0]  # the running run has no value yet: the worst
    runs[1]["history"].append({"loss": 1.0, "_step": 0})
    assert list(observe(cfg, Space.of(cfg), runs).y) == [5.0, 1.0, 2.0]
    runs[1]["state"] = "failed"  # impute: worst (its own history no longer counts)
    runs[0]["summary"]["loss"] = 7.0  # a summary value beyond the history's: the worst moves
    again = observe(cfg, Space.of(cfg), runs)
    fresh = _fresh_observe(cfg, runs)
    assert list(again.y) == list(fresh.y) == [5.0, 7.0, 2.0]
    assert np.array_equal(again.X, fresh.X) and again.seen == fresh.seen


def test_a_big_sweep_conditions_the_gp_on_a_subset_and_never_repeats():
    from sweepnb.engine.search import bayes as bayes_mod

    cfg = bayes({"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}})
    rng = np.random.default_rng(0)
    runs = []
    for i in range(400):
        c = {"x": float(rng.random()), "y": float(rng.random())}
        runs.append(run(c, (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2, rid=str(i)))
    space = Space.of(cfg)
    obs = observe(cfg, space, runs)
    model = bayes_mod.fit(obs, np.random.default_rng(1))
    assert len(model.gp.X) == bayes_mod.MAX_MODEL_POINTS < len(obs.y)
    best = min(runs, key=lambda r: r["history"][0]["loss"])["config"]
    assert any(np.allclose(x, [best["x"], best["y"]]) for x in model.gp.X)  # the best is kept
    (config,) = suggest(cfg, runs, seed=2)
    assert (config["x"], config["y"]) not in {(r["config"]["x"], r["config"]["y"]) for r in runs}
    assert (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2 < 1e-3  # still near the optimum
