"""Random search: every distribution, the right Python types, reproducible with a seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweepnb.engine import suggest

pytestmark = pytest.mark.filterwarnings("ignore::sweepnb.SweepnbWarning")


def draws(spec: dict, n: int = 300, seed: int = 0) -> list:
    cfg = {"method": "random", "parameters": {"p": spec}}
    return [c["p"] for c in suggest(cfg, [], n=n, seed=seed)]


@pytest.mark.parametrize(
    ("spec", "kind", "low", "high"),
    [
        ({"min": -3, "max": 4}, int, -3, 4),
        ({"min": -3.0, "max": 4.0}, float, -3.0, 4.0),
        ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 2}, int, 0, 10),
        ({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}, float, 0.0, 1.0),
        ({"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0}, float, 1e-5, 1.0),
        ({"distribution": "inv_log_uniform_values", "min": 0.1, "max": 10.0}, float, 0.1, 10.0),
        ({"distribution": "q_log_uniform_values", "min": 32, "max": 256, "q": 8}, int, 32, 256),
        ({"distribution": "log_uniform", "min": -2.0, "max": 1.0}, float, math.exp(-2), math.e),
        ({"distribution": "inv_log_uniform", "min": 0.0, "max": 2.0}, float, math.exp(-2), 1.0),
        ({"distribution": "q_log_uniform", "min": 0.0, "max": 3.0, "q": 1}, int, 1, 20),
        ({"distribution": "beta", "a": 2.0, "b": 3.0}, float, 0.0, 1.0),
        ({"distribution": "q_beta", "a": 2.0, "b": 3.0, "q": 0.1}, float, 0.0, 1.0),
        ({"distribution": "normal", "mu": 5.0, "sigma": 0.1}, float, 4.0, 6.0),
        ({"distribution": "q_normal", "mu": 5.0, "sigma": 1.0, "q": 1}, int, -5, 15),
        ({"distribution": "log_normal", "mu": 0.0, "sigma": 0.5}, float, 0.0, 20.0),
        ({"distribution": "q_log_normal", "mu": 2.0, "sigma": 0.5, "q": 2.0}, float, 0.0, 100.0),
    ],
)
def test_samples_have_the_right_type_and_stay_in_bounds(spec, kind, low, high):
    values = draws(spec)
    assert all(type(v) is kind for v in values)
    assert low <= min(values) and max(values) <= high
    assert len(set(values)) > 1


def test_q_samples_are_multiples_of_q():
    values = draws({"distribution": "q_normal", "mu": 0.0, "sigma": 10.0, "q": 3})
    assert all(v % 3 == 0 for v in values)


def test_log_uniform_values_is_uniform_in_log_space():
    values = np.log10(draws({"distribution": "log_uniform_values", "min": 1e-6, "max": 1.0}, 2000))
    counts, _ = np.histogram(values, bins=6, range=(-6, 0))
    assert counts.min() > 250  # ~333 per decade; a linear-space sampler gives ~0 below 0.1


def test_int_uniform_reaches_both_ends():
    assert set(draws({"min": 1, "max": 3}, 200)) == {1, 2, 3}


def test_probabilities_shape_the_draws():
    values = draws({"values": ["a", "b", "never"], "probabilities": [0.8, 0.2, 0.0]}, 2000)
    assert "never" not in values
    assert values.count("a") / len(values) == pytest.approx(0.8, abs=0.04)


def test_categorical_values_keep_their_type_including_falsy_ones():
    values = draws({"values": [0, False, "", None, [1, 2]]}, 200)
    kinds = {repr(v) for v in values}
    assert kinds == {"0", "False", "''", "None", "[1, 2]"}


def test_same_seed_same_suggestions_other_seed_others():
    spec = {"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0}}
    cfg = {"method": "random", "parameters": spec}
    assert suggest(cfg, [], n=3, seed=7) == suggest(cfg, [], n=3, seed=7)
    assert suggest(cfg, [], n=3, seed=7) != suggest(cfg, [], n=3, seed=8)


def test_config_seed_is_reproducible_and_moves_on_with_each_run():
    cfg = {"method": "random", "seed": 42, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    first = suggest(cfg, [])
    assert first == suggest(cfg, [])
    runs = [{"id": "a", "state": "finished", "config": first[0]}]
    assert suggest(cfg, runs) != first


def test_constants_and_nested_parameters():
    cfg = {
        "method": "random",
        "parameters": {
            "opt": {"parameters": {"lr": {"min": 0.1, "max": 0.2}, "name": {"value": "adam"}}},
            "epochs": {"value": 3},
        },
    }
    (config,) = suggest(cfg, [], seed=1)
    assert config["epochs"] == 3 and config["opt"]["name"] == "adam"
    assert 0.1 <= config["opt"]["lr"] <= 0.2
