"""Engine properties (hypothesis) and the stop conditions of ``suggest``: run_cap and target."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sweepnb import ConfigError
from sweepnb.engine import load_config, suggest
from sweepnb.engine.params import flatten, value_at, value_key

pytestmark = pytest.mark.filterwarnings("ignore::sweepnb.SweepnbWarning")

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-8, 1e6, allow_nan=False, allow_infinity=False)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), finite, st.text(max_size=3))
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=2)
    ),
    max_leaves=4,
)


def _ordered(draw, values, gap=1e-6):
    lo, hi = sorted(draw(values) for _ in range(2))
    assume(hi - lo > gap * max(1.0, abs(lo), abs(hi)))
    return lo, hi


@st.composite
def discrete_spec(draw) -> dict:
    kind = draw(st.sampled_from(["values", "int", "q_uniform", "constant"]))
    if kind == "values":
        return {"values": draw(st.lists(json_value, min_size=1, max_size=4))}
    if kind == "int":
        lo, hi = draw(st.integers(-20, 20)), draw(st.integers(1, 6))
        return {"min": lo, "max": lo + hi}
    if kind == "q_uniform":
        lo = draw(st.integers(-5, 5))
        q = draw(st.sampled_from([0.5, 1, 2, 0.3]))
        return {"distribution": "q_uniform", "min": lo, "max": lo + draw(st.integers(1, 4)), "q": q}
    return {"value": draw(json_value)}


@st.composite
def any_spec(draw) -> dict:
    kind = draw(
        st.sampled_from(
            ["discrete", "uniform", "log", "q_log", "normal", "log_normal", "beta", "probs"]
        )
    )
    if kind == "discrete":
        return draw(discrete_spec())
    if kind == "uniform":
        lo, hi = _ordered(draw, finite)
        return {"distribution": "uniform", "min": lo, "max": hi}
    if kind in ("log", "q_log"):
        lo, hi = _ordered(draw, positive)
        name = "log_uniform_values" if kind == "log" else "q_log_uniform_values"
        return {"distribution": name, "min": lo, "max": hi}
    if kind in ("normal", "log_normal"):
        mu = draw(st.floats(-5, 5))
        return {"distribution": kind, "mu": mu, "sigma": draw(st.floats(0, 3))}
    if kind == "beta":
        return {"distribution": "beta", "a": draw(st.floats(0, 5)), "b": draw(st.floats(0, 5))}
    values = draw(st.lists(json_scalar, min_size=1, max_size=4))
    weights = [draw(st.integers(0, 3)) for _ in values]
    assume(sum(weights) > 0)
    return {"values": values, "probabilities": [w / sum(weights) for w in weights]}


names = st.sampled_from(["a", "b", "lr", "x_1", "opt"])


def parameters(spec_strategy) -> st.SearchStrategy:
    nested = st.dictionaries(names, spec_strategy, min_size=1, max_size=2).map(
        lambda ps: {"parameters": ps}
    )
    return st.dictionaries(names, st.one_of(spec_strategy, nested), min_size=1, max_size=3)


def is_plain(value) -> bool:
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(is_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    return False


def load_or_skip(raw: dict) -> dict:
    try:
        return load_config(raw)
    except ConfigError:
        assume(False)


runs_spec = st.lists(
    st.tuples(
        st.sampled_from(["finished", "failed", "crashed", "running", "stopped"]),
        st.one_of(st.none(), finite, st.just(math.nan), st.just(math.inf)),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    params=parameters(any_spec()),
    method=st.sampled_from(["random", "bayes"]),
    history=runs_spec,
    seed=st.integers(0, 2**32),
)
def test_suggest_never_raises_on_a_config_load_config_accepts(params, method, history, seed):
    cfg = load_or_skip({"method": method, "metric": {"name": "loss"}, "parameters": params})
    runs = []
    for i, (state, loss) in enumerate(history):
        (config,) = suggest(cfg, runs, seed=seed + i)
        rows = [] if loss is None else [{"loss": loss}]
        runs.append({"id": str(i), "state": state, "config": config, "history": rows})
    out = suggest(cfg, runs, n=2, seed=seed)
    assert len(out) == 2
    assert all(is_plain(c) for c in out)
    for config in out:
        for p in flatten(cfg):
            value = value_at(config, p.path, KeyError)
            assert value is not KeyError
            if not p.is_categorical and not p.is_constant:
                assert math.isfinite(value), (p.name, value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(params=parameters(discrete_spec()))
def test_grid_never_repeats_and_covers_every_point(params):
    cfg = load_or_skip({"method": "grid", "parameters": params})
    swept = [p for p in flatten(cfg) if not p.is_constant]
    size = math.prod(len({value_key(v) for v in p.grid_values()}) for p in swept)
    assume(size <= 60)
    runs, keys = [], set()
    while nxt := suggest(cfg, runs):
        key = tuple(value_key(value_at(nxt[0], p.path)) for p in swept)
        assert key not in keys
        keys.add(key)
        runs.append({"id": str(len(runs)), "state": "finished", "config": nxt[0]})
    assert len(keys) == size


bounded = st.sampled_from(["uniform", "int", "log"])


@settings(max_examples=80, deadline=None)
@given(kind=bounded, lo=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3), seed=st.integers(0, 99))
def test_random_samples_stay_within_bounds(kind, lo, width, seed):
    if kind == "int":
        spec = {"min": int(lo), "max": int(lo) + max(1, int(width))}
    elif kind == "log":
        spec = {
            "distribution": "log_uniform_values",
            "min": abs(lo) + 1e-3,
            "max": abs(lo) + 1e-3 + width,
        }
    else:
        spec = {"distribution": "uniform", "min": lo, "max": lo + width}
    cfg = load_config({"method": "random", "parameters": {"p": spec}})
    for config in suggest(cfg, [], n=20, seed=seed):
        assert spec["min"] <= config["p"] <= spec["max"]


# --- run_cap and metric.target ------------------------------------------------------------


def finished(config: dict, loss: float, state: str = "finished") -> dict:
    return {"id": "r", "state": state, "config": config, "history": [{"loss": loss}]}


def test_run_cap_stops_suggestions_and_trims_a_batch():
    cfg = {"method": "random", "run_cap": 3, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    assert len(suggest(cfg, [], n=10)) == 3
    runs = [finished({"x": 0.5}, 1.0, "failed")] * 2
    assert len(suggest(cfg, runs, n=10)) == 1
    assert suggest(cfg, runs * 2) == []


@pytest.mark.parametrize(
    ("goal", "loss", "done"),
    [
        ("minimize", 0.05, True),
        ("minimize", 0.2, False),
        ("maximize", 0.2, True),
        ("maximize", 0.05, False),
    ],
)
def test_target_reached_by_a_finished_run_ends_the_sweep(goal, loss, done):
    cfg = {
        "method": "bayes",
        "metric": {"name": "loss", "goal": goal, "target": 0.1},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    runs = [finished({"x": 0.5}, loss)]
    assert (suggest(cfg, runs, seed=0) == []) is done


def test_target_reached_by_a_running_run_does_not_end_the_sweep():
    cfg = {
        "method": "random",
        "metric": {"name": "loss", "target": 0.1},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    assert suggest(cfg, [finished({"x": 0.5}, 0.0, "running")], seed=0)


def test_bad_n_is_an_error_naming_it():
    cfg = {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    with pytest.raises(ValueError, match="n:"):
        suggest(cfg, [], n=-1)
    assert suggest(cfg, [], n=0) == []


def test_raw_yaml_config_is_accepted():
    text = (
        "method: random\nparameters:\n  lr:\n    distribution: log_uniform_values\n"
        "    min: 1e-5\n    max: 1e-1\n"
    )
    (config,) = suggest(text, [], seed=0)
    assert 1e-5 <= config["lr"] <= 1e-1
