"""Properties of load_config: never anything but ConfigError, valid configs load the same twice,
to_yaml/parse_yaml round-trip."""

from __future__ import annotations

import math
import warnings

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepnb.engine.config import DISTRIBUTIONS, load_config, parse_yaml, schema, to_yaml
from sweepnb.errors import ConfigError, SweepnbWarning

# Example counts keep the file near 15 s on a loaded 2-core CI machine; each run of the suite
# explores new examples (no fixed seed), so coverage accumulates across CI runs.
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=30)  # valid configs are costly to generate

# Words a sweep config is made of, so random dicts reach deep into validation.
KEYS = [
    "method", "parameters", "metric", "early_terminate", "seed", "run_cap", "command", "program",
    "name", "goal", "target", "impute", "impute_while_running", "type", "min_iter", "max_iter",
    "s", "eta", "strict", "distribution", "values", "value", "probabilities", "min", "max", "q",
    "mu", "sigma", "a", "b", "controller", "metrics", "scheduler", "engine", "x", "lr", "1a", "",
]  # fmt: skip
WORDS = ["grid", "random", "bayes", "custom", "minimize", "maximize", "hyperband", "worst",
         "false", *DISTRIBUTIONS]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6))
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)
small_json = st.recursive(
    scalars.filter(lambda v: not (isinstance(v, float) and math.isnan(v))),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
odd_values = st.one_of(
    st.binary(max_size=4),
    st.tuples(scalars, scalars),
    st.frozensets(st.integers(), max_size=3),
    st.dictionaries(st.integers(), scalars, max_size=2),
    st.complex_numbers(allow_nan=False),
)
anything = st.recursive(
    st.one_of(scalars, odd_values),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def _load_quietly(source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepnbWarning)
        return load_config(source)


def _outcome(source):
    try:
        return _load_quietly(source)
    except ConfigError as err:
        assert err.errors and all(isinstance(e, str) and e for e in err.errors)
        if isinstance(source, dict):
            _assert_messages_start_with_a_key_path(err.errors, source)
        return err


def _assert_messages_start_with_a_key_path(errors, source):
    # a message names a key the user wrote, or one the config lacks (method, parameters, metric)
    keys = [k or "''" for k in source if isinstance(k, str)] + [
        "config",
        "method",
        "parameters",
        "metric",
    ]
    for message in errors:
        assert any(message.startswith((f"{k}:", f"{k}.", f"{k}[")) for k in keys), message


@SETTINGS
@given(anything)
def test_load_config_raises_only_config_error_on_anything(source):
    _outcome(source)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"method": st.sampled_from(["grid", "random", "bayes", "ax"])},
        optional={
            "parameters": st.dictionaries(keys, json_like, max_size=4),
            "metric": json_like,
            "early_terminate": json_like,
            "run_cap": scalars,
            "seed": scalars,
        },
    )
)
def test_load_config_raises_only_config_error_on_config_shaped_dicts(source):
    _outcome(source)


@SETTINGS
@given(st.text(max_size=200))
def test_load_config_raises_only_config_error_on_any_text(text):
    _outcome(text)


# A strategy for valid parameters (every form, nested groups) ------------------------------

bound = st.floats(min_value=-50, max_value=50, allow_nan=False)


@st.composite
def interval(draw, low=-50.0, integers=False):
    if integers:
        a = draw(st.integers(min_value=int(low), max_value=50))
        return a, a + draw(st.integers(min_value=1, max_value=20))
    a = draw(st.floats(min_value=low, max_value=50, allow_nan=False))
    b = a + draw(st.floats(min_value=0.01, max_value=50))
    return a, b


@st.composite
def leaf(draw, discrete_only=False):
    kind = draw(
        st.sampled_from(["values", "value", "int", "q_uniform"] if discrete_only else DISTRIBUTIONS)
    )
    values = st.lists(small_json, min_size=1, max_size=4)
    if kind == "values" or kind == "categorical":
        return {"values": draw(values)}
    if kind == "value" or kind == "constant":
        return {"value": draw(small_json)}
    if kind in ("int", "int_uniform"):
        low, high = draw(interval(integers=True))
        return {"min": low, "max": high}
    if kind == "categorical_w_probabilities":
        weights = draw(
            st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=4).filter(any)
        )
        items = st.lists(small_json, min_size=len(weights), max_size=len(weights))
        return {"values": draw(items), "probabilities": [w / sum(weights) for w in weights]}
    spec = {"distribution": kind}
    if kind in ("uniform", "q_uniform", "log_uniform", "q_log_uniform", "inv_log_uniform"):
        spec["min"], spec["max"] = draw(interval())
    if kind.endswith("_values"):
        spec["min"], spec["max"] = draw(interval(low=0.001))
    if kind.startswith("q_"):
        spec["q"] = draw(st.sampled_from([1, 2, 0.5, 0.1]))
    if "normal" in kind:
        spec["sigma"] = draw(st.floats(min_value=0, max_value=5))
    if "beta" in kind:
        spec["a"] = draw(st.floats(min_value=0.1, max_value=5))
    return spec


def _no_nan(value) -> bool:
    return not (isinstance(value, float) and math.isnan(value))


names = st.sampled_from(
    ["lr", "batch_size", "optimizer", "a.b-c", "_x", "layers", "Drop-out", "x1"]
)


def parameter_tree(discrete_only=False):
    return st.recursive(
        leaf(discrete_only),
        lambda inner: st.dictionaries(names, inner, min_size=1, max_size=3).map(
            lambda children: {"parameters": children}
        ),
        max_leaves=6,
    )


@st.composite
def valid_config(draw):
    method = draw(st.sampled_from(["grid", "random", "bayes"]))
    tree = parameter_tree(discrete_only=method == "grid")
    params = draw(st.dictionaries(names, tree, min_size=1, max_size=4))
    cfg = {"method": method, "parameters": params, "metric": {"name": "loss"}}
    if method == "bayes":
        params["_searched"] = {"min": 0.0, "max": 1.0}
    if draw(st.booleans()):
        cfg["early_terminate"] = {"type": "hyperband", "min_iter": draw(st.integers(1, 5))}
    if draw(st.booleans()):
        cfg["seed"] = draw(st.integers(min_value=0, max_value=2**32))
    return cfg


def _leaves(params):
    for spec in params.values():
        if "parameters" in spec:
            yield from _leaves(spec["parameters"])
        else:
            yield spec


@FEWER
@given(valid_config())
def test_valid_config_loads_with_every_leaf_filled(cfg):
    loaded = _load_quietly(cfg)
    leaves = list(_leaves(loaded["parameters"]))
    assert leaves and all(spec["distribution"] in DISTRIBUTIONS for spec in leaves)
    assert loaded["metric"]["goal"] == "minimize"


SHIPPED_SCHEMA = jsonschema.Draft7Validator(schema())


@FEWER
@given(valid_config())
def test_loaded_config_is_valid_under_the_shipped_schema(cfg):
    # what an editor checks a sweep.yaml against must accept what sweepnb accepts
    SHIPPED_SCHEMA.validate(_load_quietly(cfg))


@FEWER
@given(valid_config())
def test_loading_twice_changes_nothing(cfg):
    once = _load_quietly(cfg)
    assert _load_quietly(once) == once


@FEWER
@given(valid_config())
def test_loaded_config_survives_yaml(cfg):
    once = _load_quietly(cfg)
    assert _load_quietly(to_yaml(once)) == once


yaml_data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.sampled_from(["1e-5", "1E5", "-2e-3", "008", "yes", "null", "~", "2024-01-01", ".inf"]),
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(yaml_data)
def test_to_yaml_then_parse_yaml_gives_the_data_back(data):
    assert parse_yaml(to_yaml(data)) == data
