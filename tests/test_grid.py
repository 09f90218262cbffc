"""Grid search: W&B's enumeration order, expansion and value identity (reference §2.2)."""

from __future__ import annotations

import math

import pytest

from sweepnb import ConfigError
from sweepnb.engine import suggest


def grid(**parameters) -> dict:
    return {"method": "grid", "parameters": parameters}


def run(config: dict, state: str = "finished") -> dict:
    return {"id": "r", "state": state, "config": config, "history": [], "summary": {}}


def exhaust(cfg: dict, runs: list | None = None) -> list[dict]:
    """Ask one suggestion at a time until the grid says it is done."""
    runs = list(runs or [])
    out = []
    while True:
        nxt = suggest(cfg, runs)
        if not nxt:
            return out
        out.append(nxt[0])
        runs.append(run(nxt[0], "running"))
        assert len(out) < 10_000


def test_first_name_varies_slowest_values_in_list_order():
    cfg = grid(v2={"values": [4, 5]}, v1={"values": [1, 2, 3]})
    points = [(c["v1"], c["v2"]) for c in exhaust(cfg)]
    assert points == [(1, 4), (1, 5), (2, 4), (2, 5), (3, 4), (3, 5)]


def test_duplicate_values_collapse_keeping_first_occurrence_order():
    cfg = grid(v1={"values": ["a", "b", "c", "a"]}, v2={"values": [1, 2, 3]})
    points = [(c["v1"], c["v2"]) for c in exhaust(cfg)]
    assert points == [(a, b) for a in "abc" for b in (1, 2, 3)]


def test_int_uniform_is_inclusive_and_constants_are_attached():
    cfg = grid(v1={"distribution": "int_uniform", "min": -52, "max": 10}, v2={"value": "test"})
    points = exhaust(cfg)
    assert [c["v1"] for c in points] == list(range(-52, 11))
    assert all(c["v2"] == "test" for c in points)


def test_q_uniform_is_numpy_arange_with_max_excluded():
    cfg = grid(x={"distribution": "q_uniform", "min": 0, "max": 0.5, "q": 0.1})
    assert [c["x"] for c in exhaust(cfg)] == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4]


def test_constant_only_grid_has_one_point():
    assert exhaust(grid(a={"value": "x"}, b={"value": None})) == [{"a": "x", "b": None}]


def test_a_run_in_any_state_covers_its_point():
    cfg = grid(v={"values": [1, 2, 3, 4]})
    runs = [run({"v": 1}, "failed"), run({"v": 2}, "crashed"), run({"v": 3}, "running")]
    assert suggest(cfg, runs, n=5) == [{"v": 4}]


def test_exhausted_grid_returns_empty_list():
    cfg = grid(v={"values": [1, 2]})
    assert suggest(cfg, [run({"v": 1}), run({"v": 2}, "stopped")]) == []


def test_a_run_missing_a_swept_key_covers_nothing():
    cfg = grid(a={"values": [1]}, b={"values": [2]})
    assert suggest(cfg, [run({"a": 1})]) == [{"a": 1, "b": 2}]


def test_batch_suggestions_equal_sequential_ones():
    cfg = grid(a={"values": [1, 2, 3]}, b={"values": ["x", "y"]})
    batch = suggest(cfg, [run({"a": 1, "b": "x"})], n=10)
    assert batch == exhaust(cfg, [run({"a": 1, "b": "x"})])
    assert len(batch) == 5


def test_integral_float_covers_the_int_value():
    cfg = grid(v1={"values": [3000000, "next"]}, v2={"value": "test"})
    assert suggest(cfg, [run({"v1": 3000000.0, "v2": "test"})]) == [{"v1": "next", "v2": "test"}]


def test_true_does_not_cover_one():
    cfg = grid(v1={"values": [True, 1]})
    (nxt,) = suggest(cfg, [run({"v1": True})])
    assert nxt["v1"] == 1 and nxt["v1"] is not True


def test_nan_covers_nan():
    cfg = grid(v1={"values": [float("nan"), 1]})
    assert suggest(cfg, [run({"v1": math.nan})]) == [{"v1": 1}]


def test_tuple_values_become_lists_so_a_list_and_a_tuple_are_one_point():
    # load_config makes the config plain JSON (a tuple is stored as a list), so W&B's
    # "list != tuple" distinction cannot arise inside sweepnb: the two collapse into one point
    cfg = grid(v1={"values": [[2, 3], (2, 3)]})
    assert exhaust(cfg) == [{"v1": [2, 3]}]


def test_a_run_holding_a_tuple_covers_the_list_point():
    cfg = grid(v1={"values": [[2, 3], [4, 5]]})
    assert suggest(cfg, [run({"v1": (2, 3)})]) == [{"v1": [4, 5]}]


def test_dict_values_match_regardless_of_key_order():
    cfg = grid(v1={"values": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]})
    assert suggest(cfg, [run({"v1": {"b": 2, "a": 1}})]) == [{"v1": {"a": 3, "b": 4}}]


def test_keys_injected_into_a_dict_value_are_ignored():
    values = [{"env_id": "v0", "steps": 1000}, {"env_id": "v1", "steps": 2000}]
    cfg = grid(env={"values": values})
    runs = [run({"env": {**v, "env_name": f"SAC_{i}"}}) for i, v in enumerate(values)]
    assert suggest(cfg, runs) == []


def test_nested_parameters_come_back_nested():
    cfg = grid(
        p1={"values": ["a", "b"]},
        p2={"parameters": {"n1": {"values": [0.01, 0.001]}, "n2": {"value": 0.9}}},
    )
    first = {"p1": "a", "p2": {"n1": 0.01, "n2": 0.9}}
    assert suggest(cfg, []) == [first]
    assert suggest(cfg, [run(first)]) == [{"p1": "a", "p2": {"n1": 0.001, "n2": 0.9}}]


def test_continuous_parameter_is_a_config_error_naming_it():
    with pytest.raises(ConfigError) as err:
        suggest(grid(a={"values": [1]}, lr={"min": 0.0, "max": 1.0}), [])
    assert any("lr" in e for e in err.value.errors)


def test_values_are_independent_copies():
    cfg = grid(v={"values": [{"a": [1]}]})
    (first,) = suggest(cfg, [])
    first["v"]["a"].append(2)
    assert suggest(cfg, []) == [{"v": {"a": [1]}}]
