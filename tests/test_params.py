"""Parameters: W&B's ordering, every distribution's cdf/ppf, plain Python types, value identity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweepnb.engine import load_config
from sweepnb.engine.params import MISSING, flatten, nest, value_at, value_key

pytestmark = pytest.mark.filterwarnings("ignore::sweepnb.SweepnbWarning")


def one(spec: dict):
    (param,) = flatten(load_config({"method": "random", "parameters": {"p": spec}}))
    return param


def test_flatten_sorts_keys_at_every_level_depth_first():
    cfg = load_config(
        {
            "method": "random",
            "parameters": {
                "b": {"value": 1},
                "a-c": {"values": [1, 2]},
                "a": {"parameters": {"z": {"value": 1}, "y": {"values": [1, 2]}}},
            },
        }
    )
    assert [p.name for p in flatten(cfg)] == ["a.y", "a.z", "a-c", "b"]
    assert flatten(cfg)[0].path == ("a", "y")


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "min": -2.0, "max": 5.0},
        {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
        {"distribution": "inv_log_uniform_values", "min": 1e-3, "max": 10.0},
        {"distribution": "log_uniform", "min": -3.0, "max": 2.0},
        {"distribution": "inv_log_uniform", "min": -1.0, "max": 4.0},
        {"distribution": "normal", "mu": 3.0, "sigma": 2.0},
        {"distribution": "log_normal", "mu": 1.0, "sigma": 0.5},
        {"distribution": "beta", "a": 2.0, "b": 5.0},
    ],
)
def test_cdf_inverts_ppf_for_continuous_distributions(spec):
    param = one(spec)
    u = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(param.cdf(param.ppf_numeric(u)), u, atol=1e-9)


def test_log_uniform_v1_bounds_are_exponents():
    param = one({"distribution": "log_uniform", "min": 0.0, "max": 2.0})
    assert param.ppf(0.0) == pytest.approx(1.0)
    assert param.ppf(1.0) == pytest.approx(math.e**2)


def test_inv_log_uniform_v1_lies_between_exp_minus_max_and_exp_minus_min():
    param = one({"distribution": "inv_log_uniform", "min": 1.0, "max": 3.0})
    assert param.ppf(0.0) == pytest.approx(math.exp(-3.0))
    assert param.ppf(1.0) == pytest.approx(math.exp(-1.0))


def test_inv_log_uniform_values_has_the_law_of_log_uniform_values():
    inv = one({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 100.0})
    log = one({"distribution": "log_uniform_values", "min": 0.01, "max": 100.0})
    for u in (0.1, 0.5, 0.9):
        assert inv.ppf(u) == pytest.approx(log.ppf(u))


def test_q_log_uniform_values_reference_case():
    param = one({"distribution": "q_log_uniform_values", "min": 32, "max": 256, "q": 8})
    assert [param.ppf(u) for u in (0.0, 0.5, 1.0)] == [32, 88, 256]
    assert all(type(param.ppf(u)) is int for u in (0.0, 0.5, 1.0))


def test_int_uniform_gives_ints_from_min_to_max_inclusive():
    param = one({"min": 1, "max": 4})
    values = [param.ppf(u) for u in np.linspace(0, 1, 101)]
    assert set(values) == {1, 2, 3, 4}
    assert all(type(v) is int for v in values)


def test_q_families_are_int_only_when_q_is_an_int():
    assert type(one({"distribution": "q_uniform", "min": 0, "max": 10}).ppf(0.5)) is float
    assert type(one({"distribution": "q_uniform", "min": 0, "max": 10, "q": 2}).ppf(0.5)) is int
    assert type(one({"distribution": "q_normal", "q": 3}).ppf(0.7)) is int
    assert one({"distribution": "q_normal", "q": 3}).ppf(0.7) % 3 == 0


def test_uniform_and_normal_give_python_floats_not_numpy_scalars():
    for spec in ({"min": 0.0, "max": 1.0}, {"distribution": "normal"}):
        assert type(one(spec).ppf(0.3)) is float


def test_categorical_ppf_returns_the_element_itself():
    param = one({"values": [[1, 2], {"k": 0}, None]})
    assert param.ppf(0.1) == [1, 2]
    assert param.ppf(0.5) == {"k": 0}
    assert param.ppf(0.9) is None


def test_probabilities_are_the_categorical_law():
    param = one({"values": ["never", "a", "b"], "probabilities": [0.0, 0.25, 0.75]})
    values = [param.ppf(u) for u in np.linspace(0, 1, 401)]
    assert "never" not in values
    assert values.count("b") / len(values) == pytest.approx(0.75, abs=0.01)


def test_constant_keeps_any_value_and_is_not_searched():
    param = one({"value": {"depth": 3}})
    assert param.is_constant and param.ppf(0.2) == {"depth": 3}


def test_log_families_are_flagged_log():
    assert one({"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0}).is_log
    assert one({"distribution": "q_log_normal"}).is_log
    assert not one({"min": 0.0, "max": 1.0}).is_log


def test_grid_values_follow_wandb_expansion():
    assert one({"min": -2, "max": 2}).grid_values() == [-2, -1, 0, 1, 2]
    q = one({"distribution": "q_uniform", "min": 0, "max": 0.5, "q": 0.1})
    assert q.grid_values() == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4]
    floats = one({"distribution": "q_uniform", "min": 0, "max": 10}).grid_values()
    assert floats == [float(i) for i in range(10)] and type(floats[0]) is float
    assert one({"distribution": "q_uniform", "min": 0, "max": 10, "q": 3}).grid_values() == [
        0,
        3,
        6,
        9,
    ]


def test_value_key_follows_wandb_identity():
    assert value_key(3000000.0) == value_key(3000000)
    assert value_key(True) != value_key(1)
    assert value_key(float("nan")) == value_key(float("nan"))
    assert value_key([2, 3]) != value_key((2, 3))
    assert value_key({"a": 1, "b": 2}) == value_key({"b": 2, "a": 1})
    assert value_key({"a": 1, "x": 9}, frozenset({"a"})) == value_key({"a": 1})
    assert value_key(0) != value_key(False) != value_key("") != value_key(None)


def test_nest_and_value_at_round_trip():
    config = nest({("opt", "lr"): 0.1, ("opt", "name"): "adam", ("seed",): 3})
    assert config == {"opt": {"lr": 0.1, "name": "adam"}, "seed": 3}
    assert value_at(config, ("opt", "lr")) == 0.1
    assert value_at(config, ("opt", "beta"), MISSING) is MISSING
    assert value_at(config, ("seed", "x")) is None
