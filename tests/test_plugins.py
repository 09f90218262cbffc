"""Plugin search methods and stopping rules: one module + one registry line each (issue 11).

A method or rule registered in ``METHODS`` / ``RULES`` (here with ``monkeypatch.setitem``, as a
module object defined in the test) is accepted by ``load_config``, the schema, the agent and
its early-termination monitor with nothing else edited. Real agents, real SQLite stores.
"""

from __future__ import annotations

import types

import pytest

import sweepnb
from sweepnb.engine import search, stopping
from sweepnb.engine.config import load_config, schema
from sweepnb.engine.config_schema import build_schema, shipped_schema
from sweepnb.engine.metric import history_values
from sweepnb.engine.stopping.rule import Field, is_running
from sweepnb.errors import ConfigError
from sweepnb.notebook.dashboard import planned_runs


def _toy_method() -> types.ModuleType:
    """Proposes x = 0, 10, 20, ... (ten times the number of runs so far)."""
    mod = types.ModuleType("toy_method")

    def suggest(cfg, runs, n, rng):
        return [{"x": 10 * (len(runs) + i)} for i in range(n)]

    def problems(cfg, leaves):
        return [] if "metric" in cfg else ["metric: method toy needs a metric"]

    mod.suggest, mod.problems = suggest, problems
    mod.planned_runs = lambda cfg: 7
    mod.NEEDS_HISTORY = False
    return mod


def _toy_rule() -> types.ModuleType:
    """Stops a running run as soon as its latest value is above ``limit``."""
    mod = types.ModuleType("toy_rule")

    def decide(settings, metric, runs):
        limit = settings["limit"]
        return {
            run["id"]: {"rule": "toy", "message": f"above {limit}"}
            for run in runs
            if is_running(run) and (metric.history(run) or [0])[-1] > limit
        }

    mod.decide = decide
    mod.SCHEMA = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["toy"]},
            "limit": {"type": "number", "default": 10},
        },
        "additionalProperties": False,
    }
    mod.checkpoints = lambda settings: range(1, 1000)  # judge at every logged value
    mod.FIELDS = (Field("limit", "number", 10, "stop above this"),)
    return mod


@pytest.fixture
def toy_method(monkeypatch):
    monkeypatch.setitem(search.METHODS, "toy", _toy_method())


@pytest.fixture
def toy_rule(monkeypatch):
    monkeypatch.setitem(stopping.RULES, "toy", _toy_rule())


def train(config) -> None:
    for value in CURVES[config.curve]:
        sweepnb.log({"loss": value})


CURVES = {"good": [5, 4, 3, 2, 1], "bad": [5, 50, 60, 70, 80]}


# -- the shipped schema is the registry's ------------------------------------------------------


def test_shipped_schema_json_is_what_the_builtin_registries_generate():
    # regenerate with: python -m sweepnb.engine.config_schema --write
    assert build_schema(shipped_schema()) == shipped_schema()


def test_schema_enums_list_the_registered_methods_and_rules():
    s = schema()
    assert s["properties"]["method"]["enum"] == ["grid", "random", "bayes"]
    assert s["properties"]["early_terminate"]["properties"]["type"]["enum"] == [
        "hyperband",
        "median",
    ]


# -- the protocol's defaults -------------------------------------------------------------------


def test_a_method_declaring_only_suggest_gets_the_defaults(monkeypatch):
    bare = types.ModuleType("bare")
    bare.suggest = lambda cfg, runs, n, rng: []
    monkeypatch.setitem(search.METHODS, "bare", bare)
    method = search.describe("bare")
    assert (method.needs_history, method.description) == (True, "")
    assert method.problems({}, []) == [] and method.planned_runs({}) is None


def test_a_rule_declaring_only_decide_is_time_driven_and_accepts_any_keys(monkeypatch):
    bare = types.ModuleType("bare")
    bare.decide = lambda settings, metric, runs: {}
    monkeypatch.setitem(stopping.RULES, "bare", bare)
    rule = stopping.describe("bare")
    assert rule.checkpoints({}) == () and rule.fields == () and rule.defaults == {}
    cfg = load_config(
        {
            "method": "random",
            "metric": {"name": "loss"},
            "parameters": {"x": {"value": 1}},
            "early_terminate": {"type": "bare", "anything": 1},
        }
    )
    assert cfg["early_terminate"] == {"type": "bare", "anything": 1}


def test_builtin_rules_declare_their_defaults_and_checkpoints():
    assert stopping.describe("hyperband").defaults == {"eta": 3, "strict": True}
    assert stopping.describe("median").defaults == {"min_iter": 3, "min_runs": 3}
    assert list(stopping.describe("hyperband").checkpoints({"type": "hyperband", "min_iter": 2}))[
        :3
    ] == [2, 6, 18]
    assert stopping.describe("median").checkpoints({"type": "median"})[:4] == [3, 6, 12, 24]


def test_grid_declares_its_planned_runs_and_history_needs():
    grid = search.describe("grid")
    cfg = load_config({"method": "grid", "parameters": {"a": {"values": [1, 2, 3]}}})
    assert grid.planned_runs(cfg) == 3 and not grid.needs_history
    assert search.describe("bayes").needs_history


# -- a toy search method, end to end -----------------------------------------------------------


def test_a_registered_method_is_accepted_and_its_checks_run(toy_method):
    with pytest.raises(ConfigError) as info:
        load_config({"method": "toy", "parameters": {"x": {"value": 0}}})
    assert info.value.errors == ["metric: method toy needs a metric"]


def test_an_unregistered_method_is_refused_naming_the_key():
    with pytest.raises(ConfigError) as info:
        load_config({"method": "toy", "parameters": {"x": {"value": 0}}})
    assert info.value.errors[0].startswith("method: 'toy' is not one of")


def test_a_toy_method_drives_a_sweep_and_its_suggestions_are_the_run_configs(toy_method, store):
    cfg = {"method": "toy", "metric": {"name": "loss"}, "parameters": {"x": {"value": 0}}}
    sweep_id = sweepnb.sweep(cfg, store=store)
    sweepnb.agent(sweep_id, lambda config: sweepnb.log({"loss": config.x}), count=3, store=store)
    runs = store.get_runs(sweep_id)
    assert sorted(run["config"]["x"] for run in runs) == [0, 10, 20]
    assert {run["state"] for run in runs} == {"finished"}
    assert planned_runs(load_config(cfg)) == 7


# -- a toy stopping rule, end to end -----------------------------------------------------------


def _curves_sweep(early_terminate: dict) -> dict:
    return {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"curve": {"values": ["good", "bad"]}},
        "early_terminate": early_terminate,
    }


def test_a_registered_rule_gets_its_own_defaults_and_key_checks(toy_rule):
    cfg = load_config(_curves_sweep({"type": "toy"}))
    assert cfg["early_terminate"] == {"type": "toy", "limit": 10}
    with pytest.raises(ConfigError) as info:
        load_config(_curves_sweep({"type": "toy", "min_iter": 3}))
    assert info.value.errors == ["early_terminate.min_iter: unknown key"]


def test_a_toy_rule_stops_a_run_through_the_real_agent(toy_rule, store):
    sweep_id = sweepnb.sweep(_curves_sweep({"type": "toy", "limit": 10}), store=store)
    sweepnb.agent(sweep_id, train, count=2, store=store)
    runs = {run["config"]["curve"]: run for run in store.get_runs(sweep_id)}
    assert runs["good"]["state"] == "finished"
    assert runs["bad"]["state"] == "stopped"
    assert runs["bad"]["stop_reason"]["message"] == "above 10"
    assert history_values(runs["bad"], "loss") == [5, 50]  # judged at once, at the 2nd value


# -- the median rule, end to end ---------------------------------------------------------------

MEDIAN_CURVES = {
    "a": [10, 9, 8, 7, 6],
    "b": [9, 8, 7, 6, 5],
    # iteration 2: best 19 > median of the others' means over 2 values (9.5, 8.5) = 9
    "hopeless": [20, 19, 18, 17, 16],
}


def train_median(config) -> None:
    for value in MEDIAN_CURVES[config.curve]:
        sweepnb.log({"loss": value})


def test_median_stops_a_run_behind_the_median_through_the_real_agent(store):
    cfg = {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"curve": {"values": ["a", "b", "hopeless"]}},
        "early_terminate": {"type": "median", "min_iter": 2, "min_runs": 2},
    }
    sweep_id = sweepnb.sweep(cfg, store=store)
    sweepnb.agent(sweep_id, train_median, count=3, store=store)
    runs = {run["config"]["curve"]: run for run in store.get_runs(sweep_id)}
    assert {c: r["state"] for c, r in runs.items()} == {
        "a": "finished",
        "b": "finished",
        "hopeless": "stopped",
    }
    assert history_values(runs["hopeless"], "loss") == [20, 19]
    reason = runs["hopeless"]["stop_reason"]
    assert (reason["rule"], reason["iteration"], reason["threshold"]) == ("median", 2, 9)


def test_median_curves_mark_the_stopped_run_by_iteration(store):
    from sweepnb.analysis.plotdata import learning_curves_data

    test_median_stops_a_run_behind_the_median_through_the_real_agent(store)
    sweep = store.list_sweeps()[0]
    data = learning_curves_data(store.get_runs(sweep["id"]), sweep["config"])
    assert data.xlabel.startswith("iteration")
    stopped = [c for c in data.curves if c.state == "stopped"]
    assert len(stopped) == 1 and data.thresholds == [(2.0, 9.0)]
