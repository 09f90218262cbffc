"""A config that loads can always be run (issue 14): properties over generated configs.

Configs are generated with extreme numbers (10**400, 1e308, inf, nan, denormals, 2**53 + 1,
wrong types) and made by perturbing the 23 real configs and the tests' fixtures. For each:
``load_config`` raises nothing but ConfigError, and a config that loads gives runs through
``engine.suggest`` (with no runs and with fake runs and histories) and decisions through
``engine.should_stop`` without raising anything. The end-to-end check at the bottom runs the
extremes through ``sweepnb.sweep`` and ``sweepnb.agent`` on a SQLite store.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sweepnb
from sweepnb import engine
from sweepnb.demo import DEMO_CONFIG
from sweepnb.engine.config import DISTRIBUTIONS, load_config, parse_yaml, schema, to_yaml
from sweepnb.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::sweepnb.SweepnbWarning")

# Example counts: ~4,000 configs over the file, kept near half a minute on a loaded 2-core CI
# machine (loading is cheap; running suggest, with a GP for bayes, is not). No fixed seed:
# coverage accumulates across CI runs.
LOADS = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RUNS = settings(LOADS, max_examples=400)

TESTS = Path(__file__).parent
FIXTURES = [
    *sorted((TESTS / "data" / "wandb-configs").glob("*.yaml")),
    *sorted((TESTS / "wandb_examples").rglob("sweep.yaml")),
]
REAL_CONFIGS = [parse_yaml(path.read_text(encoding="utf-8")) for path in FIXTURES] + [
    DEMO_CONFIG,
    {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}},
    {
        "method": "random",
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "median", "min_iter": 2, "min_runs": 1},
    },
]

# Numbers at and past every bound the loader sets, and next to the limits of a float.
EXTREMES = [
    10**400, -(10**400), 2**64, 2**64 - 1, 2**53 + 1, 2**53, -(2**53), 10**9, 10**9 + 1,
    1e308, -1e308, 1.7976931348623157e308, 1e300, -1e300, 1e-300, 5e-324, -5e-324,
    math.inf, -math.inf, math.nan, 0, -0.0, 1, -1, 0.5, 2, 3, 1.0001, 100, 101, 690, 691,
    709.8, 1000, 1001, 4763418, -1e100,
]  # fmt: skip
ODD = [None, True, False, "3", "", [], {}, [1, 2], {"a": "b"}, [[10**400]]]

numbers = st.sampled_from(EXTREMES) | st.floats() | st.integers(-(2**70), 2**70)
anything = numbers | st.sampled_from(ODD)
values = st.recursive(
    numbers | st.sampled_from(ODD) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=6,
)
SETTINGS_OF = {
    "min": numbers, "max": numbers, "mu": numbers, "sigma": numbers, "a": numbers,
    "b": numbers, "q": numbers, "value": values,
    "values": st.lists(values, min_size=1, max_size=4),
    "probabilities": st.lists(numbers, min_size=1, max_size=4),
}  # fmt: skip


FORM_KEYS = {
    form: [k for k in schema()["definitions"][form]["properties"] if k != "distribution"]
    for form in DISTRIBUTIONS
}


@st.composite
def parameter(draw) -> dict:
    """A parameter of some form with most of its keys, each maybe extreme or of a wrong type."""
    form = draw(st.sampled_from(DISTRIBUTIONS))
    spec = {}
    for key in FORM_KEYS[form]:
        if draw(st.integers(0, 4)):
            spec[key] = draw(
                SETTINGS_OF[key] | anything if draw(st.booleans()) else SETTINGS_OF[key]
            )
    if isinstance(spec.get("values"), list) and isinstance(spec.get("probabilities"), list):
        spec["probabilities"] = (spec["probabilities"] * 4)[: len(spec["values"])]
    if draw(st.integers(0, 3)):
        spec["distribution"] = form
    if draw(st.integers(0, 5)) == 0:
        spec[draw(st.sampled_from(sorted(SETTINGS_OF)))] = draw(anything)
    return spec


parameters = st.dictionaries(
    st.sampled_from(["x", "lr", "n", "opt"]),
    parameter() | st.builds(lambda ps: {"parameters": ps}, st.dictionaries(
        st.sampled_from(["y", "z"]), parameter(), min_size=1, max_size=2)),
    min_size=1,
    max_size=3,
)  # fmt: skip


@st.composite
def early_terminate(draw) -> dict:
    """A hyperband or median section with most of its keys, each maybe extreme."""
    rule = draw(st.sampled_from(["hyperband", "median"]))
    keys = ["min_iter", "max_iter", "s", "eta"] if rule == "hyperband" else ["min_iter", "min_runs"]
    section = {"type": rule}
    for key in keys:
        if draw(st.integers(0, 3)):
            section[key] = draw(numbers | anything)
    return section


@st.composite
def extreme_config(draw) -> dict:
    cfg = {
        "method": draw(st.sampled_from(["grid", "random", "bayes"])),
        "metric": {"name": "loss", "goal": draw(st.sampled_from(["minimize", "maximize"]))},
        "parameters": draw(parameters),
    }
    if draw(st.booleans()):
        cfg["metric"]["target"] = draw(numbers)
    if draw(st.booleans()):
        cfg["early_terminate"] = draw(early_terminate())
    for key in ("run_cap", "seed"):
        if draw(st.integers(0, 3)) == 0:
            cfg[key] = draw(numbers | anything)
    if draw(st.integers(0, 3)) == 0:
        cfg["command"] = draw(st.lists(anything | st.text(max_size=8), max_size=3))
    return cfg


# -- configs at the bounds: most load, with values at the edges of what they allow ----------

EDGES = {
    "uniform": {"min": [-1e300, -1e10, -5e-324, 0], "max": [5e-324, 1e-300, 1, 1e300]},
    "int_uniform": {"min": [-(2**53), -1, 0], "max": [1, 2**53]},
    "log_uniform_values": {"min": [5e-324, 1e-300, 1e-5], "max": [1, 1e300]},
    "inv_log_uniform_values": {"min": [5e-324, 1e-5], "max": [1, 1e300]},
    "log_uniform": {"min": [-1e300, -745, 0], "max": [1, 690]},
    "inv_log_uniform": {"min": [-690, 0], "max": [1, 1e300]},
    "normal": {"mu": [-1e299, 0, 1e299], "sigma": [0, 1e-300, 1, 1e298]},
    "log_normal": {"mu": [-1e300, -745, 0, 683], "sigma": [0, 1e-300, 1]},
    "beta": {"a": [0, 5e-324, 1e-300, 1, 1e300], "b": [0, 5e-324, 1, 1e300]},
}
Q_EDGES = [1e-300, 1e-9, 0.3, 1, 3, 1e300]
VALUE_EDGES = [1e308, -1e308, math.nan, math.inf, 2**1000, -(2**53), 5e-324, "", None, [], {}]


@st.composite
def edge_parameter(draw) -> dict:
    form = draw(st.sampled_from(DISTRIBUTIONS))
    if form == "constant":
        return {"value": draw(st.sampled_from(VALUE_EDGES))}
    if form.startswith("categorical"):
        items = draw(st.lists(st.sampled_from(VALUE_EDGES) | values, min_size=1, max_size=4))
        if form == "categorical":
            return {"values": items}
        weights = draw(st.sampled_from([[5e-324, 1], [1e-300, 1], [0.5, 0.5], [1, 0]]))
        return {"values": (items * 2)[:2], "probabilities": weights}
    spec = {"distribution": form}
    for key, pool in EDGES[form.removeprefix("q_")].items():
        spec[key] = draw(st.sampled_from(pool))
    if form.startswith("q_"):
        spec["q"] = draw(st.sampled_from(Q_EDGES))
    if draw(st.integers(0, 4)) == 0:  # one setting anywhere: near-valid
        spec[draw(st.sampled_from(sorted(spec)))] = draw(numbers)
    return spec


@st.composite
def edge_config(draw) -> dict:
    method = draw(st.sampled_from(["grid", "random", "bayes"]))
    leaf = edge_parameter() if method != "grid" else st.one_of(
        st.builds(lambda v: {"values": v}, st.lists(st.sampled_from(VALUE_EDGES), min_size=1, max_size=3)),
        st.builds(lambda lo: {"min": lo, "max": lo + 3}, st.sampled_from([-(2**53), 0, 2**53 - 3])),
        st.builds(lambda q: {"distribution": "q_uniform", "min": 0, "max": 1, "q": q},
                  st.sampled_from([0.3, 1, 3, 1e300])),
    )  # fmt: skip
    cfg = {
        "method": method,
        "metric": {"name": "loss", "goal": draw(st.sampled_from(["minimize", "maximize"]))},
        "parameters": draw(st.dictionaries(st.sampled_from(["x", "lr", "n"]), leaf, min_size=1, max_size=3)),
    }  # fmt: skip
    if draw(st.booleans()):
        cfg["metric"]["target"] = draw(st.sampled_from([-1.7e308, 1.7e308, 0, -(2**1000)]))
    rule = draw(st.sampled_from(["none", "min_iter", "max_iter", "median"]))
    if rule == "min_iter":
        cfg["early_terminate"] = {"type": "hyperband", "min_iter": draw(st.sampled_from([1, 10**9])),
                                  "eta": draw(st.sampled_from([1.0001, 2, 1000]))}  # fmt: skip
    elif rule == "max_iter":
        cfg["early_terminate"] = {"type": "hyperband", "max_iter": draw(st.sampled_from([1, 81, 10**9])),
                                  "s": draw(st.sampled_from([1, 3, 100])),
                                  "eta": draw(st.sampled_from([1.0001, 3, 1000]))}  # fmt: skip
    elif rule == "median":
        cfg["early_terminate"] = {"type": "median", "min_iter": draw(st.sampled_from([1, 10**9])),
                                  "min_runs": draw(st.sampled_from([1, 10**9]))}  # fmt: skip
    if draw(st.booleans()):
        cfg["run_cap"] = draw(st.sampled_from([1, 2, 10**9]))
    if draw(st.booleans()):
        cfg["seed"] = draw(st.sampled_from([0, 2**64 - 1]))
    return cfg


# -- perturbing the real configs ---------------------------------------------------------------


def paths(data, prefix=()) -> list[tuple]:
    """Every key path inside ``data`` (mappings and lists), parents before children."""
    out = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        out.append((*prefix, key))
        out.extend(paths(value, (*prefix, key)))
    return out


NEW_KEYS = ["min", "max", "q", "mu", "sigma", "eta", "s", "max_iter", "min_iter", "target"]


def perturb(cfg: dict, path: tuple, action: str, new, new_key: str) -> dict:
    """A copy of ``cfg`` with the value at ``path`` replaced, deleted, wrapped in a list, or
    (a mapping) given one more key."""
    cfg = copy.deepcopy(cfg)
    parent = cfg
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "replace":
        parent[last] = new
    elif action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][new_key] = new
    return cfg


@st.composite
def near_valid_config(draw) -> dict:
    cfg = draw(st.sampled_from(REAL_CONFIGS))
    for _ in range(draw(st.integers(1, 3))):
        where = paths(cfg)
        if not where:
            break
        path = draw(st.sampled_from(where))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "wrap", "add"]))
        cfg = perturb(cfg, path, action, draw(numbers | anything), draw(st.sampled_from(NEW_KEYS)))
    return cfg


# -- what must hold ---------------------------------------------------------------------------


def load_or_none(raw: dict) -> dict | None:
    """The loaded config, or None after a ConfigError (anything else fails the test)."""
    try:
        return load_config(raw)
    except ConfigError as err:
        assert err.errors and all(isinstance(e, str) and e for e in err.errors)
        return None


HISTORY_VALUES = [0.0, 1.5, -2, 1e308, -1e308, math.nan, math.inf, -math.inf, None, "x", True]
HISTORY_VALUES += [float(k) for k in range(8)]  # ordinary values, so bayes fits its model


def fake_runs(configs: list[dict], logged: list[tuple[str, list]]) -> list[dict]:
    """Runs of the given configs, each with a (state, logged values of the metric)."""
    runs = []
    for i, (config, (state, losses)) in enumerate(zip(configs, logged)):
        history = [{"loss": v, "_step": k} for k, v in enumerate(losses)]
        summary = {"loss": losses[-1]} if losses else {}
        runs.append({"id": f"r{i}", "state": state, "config": config, "history": history,
                     "summary": summary})  # fmt: skip
    return runs


def run_everything(cfg: dict, logged: list[tuple[str, list]]) -> None:
    """suggest with no runs, then with fake runs and histories, then should_stop: no exception."""
    first = engine.suggest(cfg, [], n=len(logged), seed=0)
    assert isinstance(first, list)
    if not first:
        return  # run_cap reached: nothing to run
    runs = fake_runs((first * len(logged))[: len(logged)], logged)
    assert isinstance(engine.suggest(cfg, runs, n=2, seed=1), list)
    stop = engine.should_stop(cfg, runs)
    assert set(stop) <= {r["id"] for r in runs if r["state"] == "running"}


STATES = ["finished"] * 4 + ["running", "failed", "crashed", "stopped"]
histories = st.lists(
    st.tuples(
        st.sampled_from(STATES),
        st.lists(st.sampled_from(HISTORY_VALUES) | st.floats(), min_size=1, max_size=6),
    ),
    min_size=2,
    max_size=8,
)


@LOADS
@given(extreme_config())
def test_load_config_raises_only_config_error_on_extreme_numbers(raw):
    load_or_none(raw)


@LOADS
@given(near_valid_config())
def test_load_config_raises_only_config_error_on_perturbed_real_configs(raw):
    loaded = load_or_none(raw)
    from_yaml = load_or_none(to_yaml(raw))  # the same config as YAML text loads the same
    assert (from_yaml is None) == (loaded is None)


@LOADS
@given(edge_config())
def test_load_config_raises_only_config_error_on_configs_at_the_bounds(raw):
    load_or_none(raw)


@RUNS
@given(edge_config(), histories)
def test_a_loaded_config_at_the_bounds_suggests_and_judges_without_raising(raw, history_values):
    cfg = load_or_none(raw)
    if cfg is not None:
        run_everything(cfg, history_values)


@RUNS
@given(near_valid_config(), histories)
def test_a_loaded_perturbed_real_config_suggests_and_judges_without_raising(raw, history_values):
    cfg = load_or_none(raw)
    if cfg is not None:
        run_everything(cfg, history_values)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_real_config_that_loads_suggests_and_judges(path):
    cfg = load_or_none(parse_yaml(path.read_text(encoding="utf-8")))
    if cfg is not None:
        logged = [[3.0, 2.0, 1.0], [1.0, math.nan], [], [5.0] * 4, [0.5], [2.0, 1e308]]
        run_everything(cfg, [(state, values) for state, values in zip(STATES[3:] * 2, logged)])


def test_a_few_aliases_still_load():
    text = (
        "method: random\n"
        "parameters:\n"
        "  lr: &lr {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}\n"
        "  opt:\n"
        "    parameters:\n"
        "      lr: *lr\n"
        "      base: &b {min: 0, max: 4}\n"
        "      more: {<<: *b, max: 8}\n"
    )
    nested = load_config(text)["parameters"]["opt"]["parameters"]
    assert nested["lr"]["max"] == 0.1 and nested["more"] == {
        "distribution": "int_uniform",
        "min": 0,
        "max": 8,
    }


def test_a_merge_key_overridden_is_not_a_duplicate():
    data = parse_yaml("base: &b {min: 0, max: 1}\nx: {<<: *b, max: 2}\n")
    assert data["x"] == {"min": 0, "max": 2}


# -- extreme but valid configs run ---------------------------------------------------------------

EXTREME = {
    "log_normal_edge": {"distribution": "log_normal", "mu": 680.0, "sigma": 1.0},
    "tiny_q": {"distribution": "q_uniform", "min": -1e290, "max": 1e290, "q": 1e-9},
    "wide_uniform": {"distribution": "uniform", "min": -1e300, "max": 1e300},
    "wide_int": {"min": -(2**53), "max": 2**53},
    "log_values": {"distribution": "log_uniform_values", "min": 5e-324, "max": 1e300},
    "beta": {"distribution": "q_beta", "a": 1e300, "b": 1e-300, "q": 1e-300},
    "deprecated_log": {"distribution": "log_uniform", "min": -1e300, "max": 690},
}


END_TO_END = {
    "random-hyperband": {
        "method": "random",
        "metric": {"name": "loss", "target": -1.7e308},
        "parameters": EXTREME,
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 1000},
        "run_cap": 10**9,
        "seed": 2**64 - 1,
    },
    "bayes-max_iter": {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "maximize"},
        "parameters": EXTREME,
        "early_terminate": {"type": "hyperband", "max_iter": 10**9, "s": 100, "eta": 1.0001},
    },
    "grid-median": {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {
            "x": {"values": [1e308, -1e308, 2**1000, {"deep": [5e-324]}]},
            "n": {"min": 2**53 - 1, "max": 2**53},
            "q": {"distribution": "q_uniform", "min": 0, "max": 1e300, "q": 1e300},
        },
        "early_terminate": {"type": "median", "min_iter": 10**9, "min_runs": 10**9},
        "command": ["${env}", 3, True, "${args}"],
    },
}


@pytest.mark.parametrize("name", sorted(END_TO_END))
def test_extreme_but_valid_configs_run_real_runs(name, store):
    seen = []

    def train():
        run = sweepnb.init()
        seen.append(dict(run.config))
        for step in range(3):
            sweepnb.log({"loss": float(step)})

    cfg = END_TO_END[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sweepnb.SweepnbWarning)
        sweep_id = sweepnb.sweep(cfg, store=store)
        sweepnb.agent(sweep_id, train, count=2, store=store, quiet=True)
    runs = store.get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    assert [set(config) for config in seen] == [set(cfg["parameters"])] * 2
    assert all(len(r["history"]) == 3 for r in runs)


def test_suggest_and_should_stop_accept_the_extremes_with_runs():
    cfg = load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss"},
            "parameters": EXTREME,
            "early_terminate": {"type": "hyperband", "max_iter": 10**9, "s": 100, "eta": 1.0001},
        }
    )
    runs = []
    for i, config in enumerate(engine.suggest(cfg, [], n=3, seed=0)):
        history = [{"loss": v} for v in (1e308, -1e308, float("nan"), float(i))]
        runs.append({"id": str(i), "state": "finished", "config": config, "history": history})
    runs[-1]["state"] = "running"
    assert len(engine.suggest(cfg, runs, seed=1)) == 1
    assert engine.should_stop(cfg, runs) in ([], ["2"])
