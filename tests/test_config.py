"""Sweep config loading: W&B's inference and defaults, validation messages, YAML and files.

Cases follow the W&B reference (wandb-sweeps.md §1.4-1.7 and §3) unless marked as a
deliberate difference (DESIGN.md §6, the module docstring of sweepnb.config).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from sweepnb.engine.config import (
    DISTRIBUTIONS,
    load_config,
    parse_yaml,
    schema,
    to_yaml,
)
from sweepnb.errors import ConfigError, SweepnbWarning


def _params(parameters: dict, method: str = "random", **extra) -> dict:
    return {"method": method, "parameters": parameters, **extra}


def _errors(cfg) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    return info.value.errors


def _one_error(cfg) -> str:
    errors = _errors(cfg)
    assert len(errors) == 1, errors
    return errors[0]


def _param(spec: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepnbWarning)
        return load_config(_params({"x": spec}))["parameters"]["x"]


# ---------------------------------------------------------------------------------------------
# Inference (reference §1.4) and defaults (§1.5)


@pytest.mark.parametrize(
    ("spec", "distribution"),
    [
        ({"values": [1, 2, 3]}, "categorical"),
        ({"values": ["a", None, [1, 2], {"k": 1}]}, "categorical"),
        ({"values": [1, 2], "probabilities": [0.3, 0.7]}, "categorical_w_probabilities"),
        ({"value": 0.5}, "constant"),
        ({"value": None}, "constant"),
        ({"min": 1, "max": 10}, "int_uniform"),
        ({"min": 1.0, "max": 10.0}, "uniform"),
        ({"min": 0.0, "max": 1}, "uniform"),  # 0.0 is not an integer
        ({"min": 1, "max": 2.5}, "uniform"),  # mixed: the engine's inference, not the client's
        ({"min": 1, "max": 10, "distribution": "uniform"}, "uniform"),
        ({"distribution": "normal"}, "normal"),
        ({"distribution": "categorical", "values": [1]}, "categorical"),
    ],
)
def test_distribution_is_inferred_in_wandb_order(spec, distribution):
    assert _param(spec)["distribution"] == distribution


@pytest.mark.parametrize(
    ("spec", "filled"),
    [
        ({"distribution": "normal"}, {"distribution": "normal", "mu": 0.0, "sigma": 1.0}),
        (
            {"distribution": "log_normal", "mu": 2},
            {"distribution": "log_normal", "mu": 2, "sigma": 1.0},
        ),
        (
            {"distribution": "q_normal"},
            {"distribution": "q_normal", "q": 1.0, "mu": 0.0, "sigma": 1.0},
        ),
        (
            {"distribution": "q_log_normal", "q": 2},
            {"distribution": "q_log_normal", "q": 2, "mu": 0.0, "sigma": 1.0},
        ),
        ({"distribution": "beta"}, {"distribution": "beta", "a": 1, "b": 1}),
        (
            {"distribution": "q_beta", "a": 2.5},
            {"distribution": "q_beta", "a": 2.5, "b": 1, "q": 1.0},
        ),
        (
            {"distribution": "q_uniform", "min": 0, "max": 1},
            {"distribution": "q_uniform", "min": 0, "max": 1, "q": 1.0},
        ),
        (
            {"min": 1e-5, "max": 1, "distribution": "log_uniform_values"},
            {"distribution": "log_uniform_values", "min": 1e-5, "max": 1},
        ),
        ({"values": [1, 2]}, {"distribution": "categorical", "values": [1, 2]}),
        ({"value": "adam"}, {"distribution": "constant", "value": "adam"}),
    ],
)
def test_distribution_defaults_are_filled(spec, filled):
    assert _param(spec) == filled


EVERY_DISTRIBUTION = {
    "constant": {"value": 1},
    "categorical": {"values": [1, 2]},
    "categorical_w_probabilities": {"values": [1, 2], "probabilities": [0.5, 0.5]},
    "int_uniform": {"min": 1, "max": 4},
    "uniform": {"min": 0.0, "max": 1.0},
    "q_uniform": {"min": 0, "max": 10, "q": 2},
    "log_uniform": {"min": -5, "max": 0},
    "log_uniform_values": {"min": 1e-5, "max": 1.0},
    "q_log_uniform": {"min": 0, "max": 5},
    "q_log_uniform_values": {"min": 32, "max": 256, "q": 8},
    "inv_log_uniform": {"min": 0, "max": 5},
    "inv_log_uniform_values": {"min": 0.01, "max": 1.0},
    "normal": {},
    "q_normal": {},
    "log_normal": {},
    "q_log_normal": {},
    "beta": {"a": 2, "b": 3},
    "q_beta": {"q": 0.1},
}


def test_schema_knows_all_17_distributions_plus_probabilities():
    assert set(DISTRIBUTIONS) == set(EVERY_DISTRIBUTION)
    assert len(DISTRIBUTIONS) == 18


@pytest.mark.parametrize("distribution", sorted(EVERY_DISTRIBUTION))
def test_every_distribution_loads_when_named(distribution):
    spec = {"distribution": distribution, **EVERY_DISTRIBUTION[distribution]}
    assert _param(spec)["distribution"] == distribution


def test_nested_parameters_are_filled_at_every_depth():
    cfg = load_config(
        _params(
            {
                "opt": {
                    "parameters": {
                        "lr": {"min": 0.1, "max": 1.0},
                        "inner": {"parameters": {"m": {"value": 3}}},
                    }
                }
            }
        )
    )
    opt = cfg["parameters"]["opt"]
    assert set(opt) == {"parameters"}
    assert opt["parameters"]["lr"] == {"distribution": "uniform", "min": 0.1, "max": 1.0}
    assert opt["parameters"]["inner"]["parameters"]["m"] == {"distribution": "constant", "value": 3}


def test_metric_defaults_are_filled():
    cfg = load_config(_params({"x": {"value": 1}}, metric={"name": "loss"}))
    assert cfg["metric"] == {
        "name": "loss",
        "goal": "minimize",
        "impute": "worst",
        "impute_while_running": "false",
    }


def test_metric_values_given_are_kept():
    metric = {
        "name": "acc",
        "goal": "maximize",
        "target": 0.99,
        "impute": "best",
        "impute_while_running": "latest",
    }
    assert load_config(_params({"x": {"value": 1}}, metric=metric))["metric"] == metric


def test_hyperband_defaults_are_eta_3_and_strict():
    cfg = load_config(
        _params(
            {"a": {"min": 0.0, "max": 1.0}},
            metric={"name": "loss"},
            early_terminate={"type": "hyperband", "min_iter": 3},
        )
    )
    assert cfg["early_terminate"] == {"type": "hyperband", "min_iter": 3, "eta": 3, "strict": True}
    assert cfg["parameters"]["a"]["distribution"] == "uniform"


def test_no_metric_is_added_when_absent():
    assert "metric" not in load_config(_params({"x": {"value": 1}}))


def test_seed_and_other_wandb_keys_are_kept():
    extra = {
        "seed": 7,
        "run_cap": 5,
        "program": "train.py",
        "command": ["${env}", "${interpreter}", "${program}", "${args}", 1],
        "name": "n",
        "description": "d",
        "project": "p",
        "entity": "e",
        "controller": {"type": "local"},
        "apiVersion": "v1",
        "kind": "sweep",
        "job": "j",
        "image_uri": "img",
    }
    cfg = load_config(_params({"x": {"value": 1}}, **extra))
    assert {k: cfg[k] for k in extra} == extra


def test_result_is_a_new_dict_and_input_is_not_changed():
    source = _params(
        {"x": {"values": [1, 2]}, "g": {"parameters": {"y": {"min": 0, "max": 3}}}},
        metric={"name": "l"},
    )
    before = json.loads(json.dumps(source))
    cfg = load_config(source)
    assert source == before
    cfg["parameters"]["x"]["values"].append(3)
    assert source["parameters"]["x"]["values"] == [1, 2]


def test_loading_a_loaded_config_changes_nothing():
    cfg = load_config(
        _params(
            {
                "c": {"values": [1, 2], "probabilities": [0.5, 0.5]},
                "g": {"parameters": {"y": {"distribution": "normal"}}},
            },
            method="bayes",
            metric={"name": "l"},
            early_terminate={"type": "hyperband", "max_iter": 27, "s": 2},
        )
    )
    assert load_config(cfg) == cfg


def test_tuples_and_numpy_values_become_plain_python():
    np = pytest.importorskip("numpy")
    cfg = load_config(
        _params({"x": {"values": (np.float64(0.5), np.int64(3))}, "y": {"value": np.arange(2)}})
    )
    values = cfg["parameters"]["x"]["values"]
    assert values == [0.5, 3] and [type(v) for v in values] == [float, int]
    assert cfg["parameters"]["y"]["value"] == [0, 1]


def test_importing_sweepnb_does_not_load_the_validator_or_numpy():
    # every agent worker and program run imports sweepnb; only load_config needs jsonschema
    code = (
        "import sys, sweepnb, sweepnb.engine.config; "
        "print(sorted(m for m in ('jsonschema', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# Validation messages (reference §1.4-1.7, §3)


def test_min_not_less_than_max_names_the_parameter():
    assert (
        _one_error(_params({"lr": {"min": 5, "max": 3}}))
        == "parameters.lr: min 5 is not less than max 3"
    )


def test_min_equal_to_max_is_rejected():
    assert (
        _one_error(_params({"lr": {"min": 1.0, "max": 1.0}}))
        == "parameters.lr: min 1.0 is not less than max 1.0"
    )


def test_min_max_rule_applies_to_values_distributions():
    cfg = _params({"lr": {"distribution": "log_uniform_values", "min": 0.1, "max": 0.01}})
    assert _one_error(cfg) == "parameters.lr: min 0.1 is not less than max 0.01"


def test_misspelled_goal_is_an_error_unlike_wandb():
    cfg = _params({"x": {"value": 1}}, metric={"name": "loss", "goal": "maximise"})
    assert _one_error(cfg) == "metric.goal: 'maximise' is not one of ['minimize', 'maximize']"


def test_unknown_method_is_an_error():
    assert _one_error(_params({"x": {"value": 1}}, method="ax")) == (
        "method: 'ax' is not one of ['grid', 'random', 'bayes']"
    )


def test_custom_method_scheduler_and_metrics_are_rejected_clearly():
    cfg = _params(
        {"x": {"value": 1}},
        method="custom",
        scheduler={"engine": "wandb"},
        metrics=[{"name": "a"}, {"name": "b"}],
    )
    errors = _errors(cfg)
    assert len(errors) == 3
    assert any(e.startswith("method: 'custom'") and "not supported" in e for e in errors)
    assert any(e.startswith("scheduler: ") and "not supported" in e for e in errors)
    assert any(e.startswith("metrics: ") and "not supported" in e for e in errors)


def test_misspelled_key_in_a_parameter_gives_one_message():
    assert _one_error(_params({"lr": {"min": 0.1, "maxx": 3.0}})) == (
        "parameters.lr: unknown key 'maxx' (did you mean 'max'?)"
    )


def test_misspelled_key_is_matched_against_every_parameter_key():
    assert _one_error(_params({"c": {"values": [1, 2], "probabilites": [0.5, 0.5]}})) == (
        "parameters.c: unknown key 'probabilites' (did you mean 'probabilities'?)"
    )


def test_distribution_without_its_required_keys():
    assert _one_error(_params({"lr": {"distribution": "uniform"}})) == (
        "parameters.lr: distribution 'uniform' needs min and max"
    )


def test_stray_key_with_a_named_distribution():
    error = _one_error(
        _params({"lr": {"distribution": "uniform", "min": 0, "max": 1, "values": [1]}})
    )
    assert error == "parameters.lr: unknown key 'values' for distribution 'uniform'"


def test_value_and_values_together_are_invalid():
    assert (
        _one_error(_params({"x": {"value": 1, "values": [1, 2]}}))
        == "parameters.x: unknown key 'value'"
    )


def test_unknown_distribution_suggests_the_close_name():
    error = _one_error(_params({"lr": {"distribution": "unifrom", "min": 0, "max": 1}}))
    assert (
        error
        == "parameters.lr: distribution 'unifrom' is not a known distribution (did you mean 'uniform'?)"
    )


def test_wrong_type_of_bound_names_the_key():
    assert (
        _one_error(_params({"lr": {"min": "a", "max": 1.0}}))
        == "parameters.lr: min 'a' is not a number"
    )


def test_bool_bounds_are_not_numbers():
    assert (
        _one_error(_params({"lr": {"min": True, "max": 3}}))
        == "parameters.lr: min True is not a number"
    )


@pytest.mark.parametrize("low", [1.0, 1.5])
def test_int_uniform_needs_integer_bounds(low):
    error = _one_error(_params({"n": {"distribution": "int_uniform", "min": low, "max": 3}}))
    assert error == f"parameters.n: min {low} is not an integer"


def test_settings_without_distribution_ask_for_one():
    error = _one_error(_params({"x": {"mu": 0, "sigma": 2}}))
    assert error.startswith("parameters.x: 'mu', 'sigma' need a distribution")


def test_empty_parameter_cannot_be_inferred():
    assert _one_error(_params({"x": {}})).startswith("parameters.x: cannot tell the distribution")


def test_parameter_that_is_not_a_mapping():
    assert _one_error(_params({"x": 3})).startswith("parameters.x: 3 is not a mapping")


def test_empty_values_is_rejected():
    assert _one_error(_params({"x": {"values": []}})) == "parameters.x: values must not be empty"


def test_negative_sigma_and_zero_q_are_rejected():
    errors = _errors(
        _params(
            {
                "a": {"distribution": "normal", "sigma": -1},
                "b": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0},
            }
        )
    )
    assert errors == [
        "parameters.a: sigma -1 must be at least 0",
        "parameters.b: q 0 must be greater than 0",
    ]


def test_log_uniform_values_needs_a_positive_min():
    error = _one_error(_params({"lr": {"distribution": "log_uniform_values", "min": 0, "max": 1}}))
    assert error == "parameters.lr: min 0 must be greater than 0"


def test_infinite_bounds_are_rejected():
    error = _one_error(_params({"lr": {"min": 0.0, "max": math.inf}}))
    assert error == "parameters.lr: max inf is not a finite number"


def test_probabilities_must_sum_to_one():
    assert _one_error(_params({"c": {"values": [1, 2], "probabilities": [0.5, 0.6]}})) == (
        "parameters.c: probabilities sum to 1.1, not 1"
    )


def test_probabilities_sum_uses_a_relative_tolerance():
    assert _param({"values": [1, 2, 3], "probabilities": [0.333333, 0.333333, 0.333334]})
    with pytest.raises(ConfigError):
        _param({"values": [1, 2], "probabilities": [0.5, 0.4999]})


def test_probabilities_must_be_finite():
    error = _one_error(_params({"c": {"values": [1, 2], "probabilities": [math.nan, 1.0]}}))
    assert error == "parameters.c: probabilities [nan, 1.0] are not all finite numbers"


def test_probabilities_must_match_values_in_length():
    assert _one_error(_params({"c": {"values": [1, 2], "probabilities": [1.0]}})) == (
        "parameters.c: 2 values but 1 probabilities (need one each)"
    )


def test_probabilities_must_not_be_negative():
    error = _one_error(_params({"c": {"values": [1, 2], "probabilities": [1.5, -0.5]}}))
    assert error == "parameters.c: probabilities[1] -0.5 must be at least 0"


def test_categorical_with_probabilities_must_not_name_categorical():
    error = _one_error(
        _params(
            {"c": {"distribution": "categorical", "values": [1, 2], "probabilities": [0.5, 0.5]}}
        )
    )
    assert error.startswith("parameters.c: probabilities cannot go with distribution 'categorical'")


@pytest.mark.parametrize(
    "spec",
    [
        {"min": 0.0, "max": 1.0},
        {"distribution": "normal"},
        {"distribution": "log_uniform_values", "min": 1e-3, "max": 1},
    ],
)
def test_grid_rejects_continuous_parameters(spec):
    error = _one_error(_params({"lr": spec}, method="grid"))
    assert error.startswith(
        f"parameters.lr: distribution '{_param(spec)['distribution']}' cannot be used with method grid"
    )


def test_grid_rejects_probabilities():
    error = _one_error(
        _params({"c": {"values": [1, 2], "probabilities": [0.5, 0.5]}}, method="grid")
    )
    assert error.startswith("parameters.c: probabilities cannot be used with method grid")


@pytest.mark.parametrize(
    "spec, count",
    [
        ({"distribution": "int_uniform", "min": 0, "max": 10**12}, "1e+12"),
        ({"distribution": "q_uniform", "min": 0, "max": 1, "q": 1e-6}, "1e+06"),
    ],
)
def test_grid_refuses_a_range_too_long_to_enumerate(spec, count):
    # listing 10**12 values would end in a MemoryError at the first suggestion
    error = _one_error(_params({"n": spec}, method="grid"))
    assert error.startswith(f"parameters.n: {count} grid values are more than a grid can enumerate")


def test_grid_takes_a_range_of_a_hundred_thousand_values():
    spec = {"distribution": "int_uniform", "min": 1, "max": 10**5}
    assert load_config(_params({"n": spec}, method="grid"))["parameters"]["n"] == spec


def test_grid_accepts_discrete_parameters_at_any_depth():
    cfg = _params(
        {
            "a": {"values": [1, 2]},
            "b": {"value": 3},
            "c": {"min": 1, "max": 3},
            "d": {"parameters": {"e": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5}}},
        },
        method="grid",
    )
    assert load_config(cfg)["method"] == "grid"


def test_grid_rejects_a_continuous_nested_parameter_by_its_full_path():
    error = _one_error(
        _params({"opt": {"parameters": {"lr": {"min": 0.1, "max": 1.0}}}}, method="grid")
    )
    assert error.startswith("parameters.opt.parameters.lr: distribution 'uniform'")


def test_bayes_needs_a_metric():
    assert _one_error(_params({"x": {"min": 0.0, "max": 1.0}}, method="bayes")).startswith(
        "metric: method bayes needs a metric"
    )


def test_bayes_needs_a_parameter_that_is_not_constant():
    error = _one_error(_params({"x": {"value": 1}}, method="bayes", metric={"name": "loss"}))
    assert error == "parameters: method bayes needs at least one parameter that is not constant"


def test_early_terminate_needs_a_metric():
    cfg = _params({"x": {"value": 1}}, early_terminate={"type": "hyperband", "min_iter": 1})
    assert _one_error(cfg).startswith("early_terminate: needs a metric")


def test_median_loads_with_its_own_defaults_only():
    cfg = load_config(
        _params({"x": {"value": 1}}, metric={"name": "l"}, early_terminate={"type": "median"})
    )
    assert cfg["early_terminate"] == {"type": "median", "min_iter": 3, "min_runs": 3}


def test_hyperband_defaults_are_not_given_to_median():
    rule = {"type": "median", "min_iter": 5}
    cfg = load_config(_params({"x": {"value": 1}}, metric={"name": "l"}, early_terminate=rule))
    assert "eta" not in cfg["early_terminate"] and "strict" not in cfg["early_terminate"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"type": "hyperband"}, "early_terminate: hyperband needs min_iter, or max_iter and s"),
        (
            {"type": "hyperband", "max_iter": 27},
            "early_terminate: hyperband needs min_iter, or max_iter and s",
        ),
        (
            {"type": "asha", "min_iter": 3},
            "early_terminate.type: 'asha' is not one of ['hyperband', 'median']",
        ),
        (
            {"type": "median", "min_runs": 0},
            "early_terminate.min_runs: 0 must be at least 1",
        ),
        (
            {"type": "median", "min_iters": 3},
            "early_terminate.min_iters: unknown key (did you mean 'min_iter'?)",
        ),
        (
            {"type": "median", "eta": 3},
            "early_terminate.eta: unknown key",
        ),
        ({"min_iter": 3}, "early_terminate.type: is required"),
        ({"type": "hyperband", "min_iter": 0}, "early_terminate.min_iter: 0 must be at least 1"),
        (
            {"type": "hyperband", "min_iter": 3, "eta": 1},
            "early_terminate.eta: 1 must be greater than 1",
        ),
        (
            {"type": "hyperband", "min_iter": 3, "strict": "yes"},
            "early_terminate.strict: 'yes' is not true or false",
        ),
        (
            {"type": "hyperband", "min_iter": 3, "bracket": 1},
            "early_terminate.bracket: unknown key",
        ),
        (
            "hyperband",
            "early_terminate: must be a mapping with a type, e.g. {type: hyperband, min_iter: 3}",
        ),
    ],
)
def test_early_terminate_validation(rule, message):
    assert (
        _one_error(_params({"x": {"value": 1}}, metric={"name": "l"}, early_terminate=rule))
        == message
    )


@pytest.mark.parametrize(("max_iter", "s"), [(2, 1), (27, 0)])
def test_hyperband_without_any_bracket_is_rejected(max_iter, s):
    rule = {"type": "hyperband", "max_iter": max_iter, "s": s}
    error = _one_error(_params({"x": {"value": 1}}, metric={"name": "l"}, early_terminate=rule))
    assert error.startswith(
        f"early_terminate: max_iter {max_iter} with s {s} and eta 3 gives no bracket"
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"max_iter": 27, "s": 2.5}, "early_terminate.s: 2.5 is not a whole number"),
        ({"min_iter": 3, "eta": math.inf}, "early_terminate.eta: inf is not a finite number"),
    ],
)
def test_hyperband_numbers_wandb_would_crash_on(rule, message):
    cfg = _params(
        {"x": {"value": 1}}, metric={"name": "l"}, early_terminate={"type": "hyperband", **rule}
    )
    assert _one_error(cfg) == message


@pytest.mark.parametrize(("max_iter", "s", "eta"), [(81, 3, 3), (4, 5, 3), (5, 2, 2), (3, 1, 3)])
def test_hyperband_with_a_bracket_loads(max_iter, s, eta):
    rule = {"type": "hyperband", "max_iter": max_iter, "s": s, "eta": eta}
    assert (
        load_config(_params({"x": {"value": 1}}, metric={"name": "l"}, early_terminate=rule))[
            "early_terminate"
        ]["eta"]
        == eta
    )


@pytest.mark.parametrize(
    ("run_cap", "message"),
    [
        (0, "run_cap: 0 must be greater than 0"),
        (-1, "run_cap: -1 must be greater than 0"),
        (1.5, "run_cap: 1.5 is not an integer"),
        ("1", "run_cap: '1' is not an integer"),
    ],
)
def test_run_cap_must_be_a_positive_integer(run_cap, message):
    assert _one_error(_params({"x": {"value": 1}}, run_cap=run_cap)) == message


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (-1, "seed: -1 must be at least 0"),
        (1.5, "seed: 1.5 is not an integer"),
        (True, "seed: True is not an integer"),
    ],
)
def test_seed_must_be_a_non_negative_integer(seed, message):
    errors = _errors(_params({"x": {"value": 1}}, seed=seed))
    assert errors[0] == message


def test_controller_type_must_be_local_or_cloud():
    assert _one_error(_params({"x": {"value": 1}}, controller={"type": "remote"})) == (
        "controller.type: 'remote' is not one of ['local', 'cloud']"
    )


def test_command_must_be_a_list():
    assert _one_error(_params({"x": {"value": 1}}, command="python train.py")) == (
        "command: 'python train.py' is not a list"
    )


def test_unknown_top_level_key_suggests_the_close_one():
    assert _one_error(_params({"x": {"value": 1}}, metirc={"name": "l"})) == (
        "metirc: unknown key (did you mean 'metric'?)"
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("parameters", ["lr"], "parameters: ['lr'] is not a mapping"),
        ("metric", "loss", "metric: 'loss' is not a mapping"),
        ("metric", {"name": "l", "target": "high"}, "metric.target: 'high' is not a number"),
        (
            "metric",
            {"name": "l", "impute": "mean"},
            "metric.impute: 'mean' is not one of ['latest', 'best', 'worst']",
        ),
        ("program", 3, "program: 3 is not a string"),
        ("kind", "job", "kind: 'job' is not one of ['sweep']"),
    ],
)
def test_top_level_values_are_checked(key, value, message):
    cfg = {"method": "random", "parameters": {"x": {"value": 1}}, key: value}
    assert _one_error(cfg) == message


def test_metric_needs_a_name_and_no_other_keys():
    errors = _errors(_params({"x": {"value": 1}}, metric={"goal": "minimize", "nme": "l"}))
    assert errors == ["metric.name: is required", "metric.nme: unknown key (did you mean 'name'?)"]


@pytest.mark.parametrize("name", ["1a", "a b", "é"])
def test_parameter_names_follow_wandb_pattern_at_every_depth(name):
    assert _one_error(_params({name: {"value": 1}})).startswith(
        f"parameters.{name}: invalid parameter name"
    )
    nested = _params({"g": {"parameters": {name: {"value": 1}}}})
    assert _one_error(nested).startswith(f"parameters.g.parameters.{name}: invalid parameter name")


def test_dotted_and_dashed_names_are_allowed():
    assert set(load_config(_params({"a.b-c": {"value": 1}, "_x": {"value": 2}}))["parameters"]) == {
        "a.b-c",
        "_x",
    }


def test_method_and_parameters_are_required():
    assert _errors({}) == ["method: is required", "parameters: is required"]


def test_parameters_must_not_be_empty():
    assert _one_error(_params({})) == "parameters: must not be empty"


def test_nested_group_takes_only_parameters():
    error = _one_error(_params({"g": {"parameters": {"x": {"value": 1}}, "value": 3}}))
    assert error.startswith("parameters.g: unknown key 'value' next to nested parameters")


def test_all_problems_are_reported_at_once():
    cfg = {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "maximise"},
        "parameters": {
            "lr": {"min": 5, "max": 3},
            "opt": {"parameters": {"m": {"distribution": "nope"}}},
        },
        "run_cap": 0,
    }
    errors = _errors(cfg)
    assert sorted(e.split(":")[0] for e in errors) == [
        "metric.goal",
        "parameters.lr",
        "parameters.opt.parameters.m",
        "run_cap",
    ]


def test_error_text_lists_every_problem():
    with pytest.raises(ConfigError) as info:
        load_config(_params({"a": {"min": 2, "max": 1}, "b": {"values": []}}))
    text = str(info.value)
    assert "2 problems" in text
    assert "parameters.a: min 2 is not less than max 1" in text
    assert "parameters.b: values must not be empty" in text


@pytest.mark.parametrize(
    ("distribution", "low", "high"),
    [("log_uniform", -9.9, -5.3), ("q_log_uniform", 0, 3), ("inv_log_uniform", 0, 2)],
)
def test_deprecated_log_distributions_warn_naming_the_parameter(distribution, low, high):
    cfg = _params(
        {"opt": {"parameters": {"lr": {"distribution": distribution, "min": low, "max": high}}}}
    )
    with pytest.warns(
        SweepnbWarning, match=rf"parameters\.opt\.parameters\.lr: {distribution} is deprecated"
    ) as seen:
        loaded = load_config(cfg)
    assert loaded["parameters"]["opt"]["parameters"]["lr"]["distribution"] == distribution
    assert "exponents" in str(seen[0].message)


def test_non_json_values_are_rejected_with_their_path():
    error = _one_error(_params({"x": {"value": {1, 2}}}))
    assert error == "parameters.x.value: {1, 2} (set) is not a JSON value"


def test_non_string_keys_are_rejected():
    assert (
        _one_error({"method": "grid", "parameters": {1: {"value": 1}}})
        == "parameters: key 1 is not a string"
    )


@pytest.mark.parametrize("source", [None, 3, 2.5, ["method", "grid"], b"method: grid"])
def test_source_of_the_wrong_type_is_a_config_error(source):
    assert _one_error(source).startswith("config: a sweep config must be")


# ---------------------------------------------------------------------------------------------
# YAML text and files


GRID_YAML = """\
method: grid
metric:
  name: loss
parameters:
  lr:
    values: [1e-5, 1E5, -2e-3, 1.0e-3, 1.e-2]
  batch:
    values: [16, 32]
"""


def test_yaml_text_loads_with_exponent_numbers_as_floats():
    cfg = load_config(GRID_YAML)
    assert cfg["parameters"]["lr"]["values"] == [1e-5, 1e5, -2e-3, 1e-3, 1e-2]
    assert all(type(v) is float for v in cfg["parameters"]["lr"]["values"])


def test_quoted_exponent_stays_a_string():
    assert parse_yaml("a: '1e-5'\nb: 1e-5") == {"a": "1e-5", "b": 1e-5}


def test_yaml_dates_stay_strings():
    assert parse_yaml("name: 2024-01-31") == {"name": "2024-01-31"}


def test_yaml_syntax_error_gives_the_line():
    error = _one_error("method: grid\nparameters:\n  x: [1, 2\n")
    assert error.startswith("YAML line ")
    assert "line 4" in error or "line 3" in error


def test_yaml_python_tags_are_refused():
    error = _one_error("method: !!python/object/apply:os.system ['echo hi']\n")
    assert error.startswith("YAML line 1")


def test_yaml_that_is_not_a_mapping():
    assert _one_error("- method\n- grid\n").startswith("config: a sweep config must be a mapping")


def test_yaml_binary_is_not_json():
    assert _one_error("method: grid\nparameters: {x: {value: !!binary aGk=}}\n") == (
        "parameters.x.value: b'hi' (bytes) is not a JSON value"
    )


def test_one_line_yaml_text_is_not_taken_for_a_path():
    assert (
        load_config("{method: random, parameters: {x: {value: a.yaml}}}")["parameters"]["x"][
            "value"
        ]
        == "a.yaml"
    )


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_file_by_str_or_path(tmp_path, suffix):
    path = tmp_path / f"sweep{suffix}"
    path.write_text(GRID_YAML)
    assert load_config(str(path)) == load_config(path) == load_config(GRID_YAML)


def test_file_that_is_not_a_mapping_is_named(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    error = _one_error(path)
    assert error.startswith("config: a sweep config must be a mapping") and error.endswith(
        str(path)
    )


def test_json_file(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(_params({"x": {"min": 0, "max": 3}})))
    assert load_config(path)["parameters"]["x"] == {
        "distribution": "int_uniform",
        "min": 0,
        "max": 3,
    }


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_file_with_a_byte_order_mark_loads(tmp_path, suffix):
    path = tmp_path / f"bom{suffix}"
    path.write_text(json.dumps(_params({"x": {"value": 1}})), encoding="utf-8-sig")
    assert load_config(path)["parameters"]["x"]["value"] == 1


def test_crlf_line_endings_load():
    assert load_config(GRID_YAML.replace("\n", "\r\n")) == load_config(GRID_YAML)


def test_json_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"method": "grid",\n "parameters": }')
    error = _one_error(path)
    assert error.startswith(f"{path} line 2, column")


def test_yaml_file_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("method: grid\n  parameters: x\n")
    assert _one_error(path).startswith(f"{path} line 2")


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert _one_error(str(missing)) == f"{missing}: no such config file"
    assert _one_error(missing) == f"{missing}: no such config file"


def test_directory_is_not_a_config_file(tmp_path):
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert _one_error(folder).startswith(f"{folder}: cannot read the config file")


# ---------------------------------------------------------------------------------------------
# to_yaml


def test_to_yaml_keeps_key_order_and_is_readable():
    cfg = load_config(GRID_YAML)
    text = to_yaml(cfg)
    assert text.splitlines()[:3] == ["method: grid", "metric:", "  name: loss"]
    assert "values: [16, 32]" in text
    assert parse_yaml(text) == cfg


def test_to_yaml_quotes_strings_that_look_like_numbers():
    data = {"values": ["1e-5", "008", "true", "null", "1.5"]}
    assert parse_yaml(to_yaml(data)) == data


def test_to_yaml_round_trips_nested_values_and_special_floats():
    data = {"a": {"value": {"k": [1, [2, 3], None]}}, "b": math.inf, "c": -1e-300, "d": 10**20}
    assert parse_yaml(to_yaml(data)) == data


def test_to_yaml_of_a_loaded_file_reloads_to_the_same_config():
    path = Path(__file__).parent / "data" / "wandb-configs" / "wandb-sweeps-nested-cli.yaml"
    cfg = load_config(path)
    assert load_config(to_yaml(cfg)) == cfg


# ---------------------------------------------------------------------------------------------
# The schema file


def test_schema_is_a_valid_draft7_schema_shipped_with_the_package():
    jsonschema = pytest.importorskip("jsonschema")
    doc = schema()
    jsonschema.Draft7Validator.check_schema(doc)
    assert doc["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert {"method", "parameters", "metric", "early_terminate", "seed", "run_cap"} <= set(
        doc["properties"]
    )


def test_schema_copy_cannot_change_validation():
    schema()["properties"]["method"]["enum"].append("ax")
    assert _one_error(_params({"x": {"value": 1}}, method="ax")).startswith("method: 'ax'")
