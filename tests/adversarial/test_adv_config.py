"""Adversarial configs (issue 14 points 2, 3, 4 and 8; issue 16 point 6): a config either fails
to load with a ConfigError naming the key, or loads and can be run.

Each case here failed before the fix: a hang, an OverflowError from the loader, or a config that
loaded and then crashed every agent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from sweepnb import engine
from sweepnb.engine.config import load_config, parse_yaml
from sweepnb.engine.stopping import hyperband
from sweepnb.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::sweepnb.SweepnbWarning")

ROOT = Path(__file__).resolve().parents[2]
LOSS = {"name": "loss"}


def laughs(levels: int) -> str:
    """A sweep config whose values are `levels` nested aliases, each 9 of the one before."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    body = "\n".join(f"  {line}" for line in lines)
    return f"extra:\n{body}\nmethod: grid\nparameters:\n  x:\n    values: *a{levels}\n"


def one_error(source) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(source)
    assert len(caught.value.errors) == 1, caught.value.errors
    return caught.value.errors[0]


# -- YAML: aliases ("billion laughs") --------------------------------------------------------


def test_nested_aliases_are_refused_before_they_expand():
    # 9**6 = 531,441 values: it loaded (slowly) before; 12 levels hung
    error = one_error(laughs(6))
    assert error.startswith("YAML line ")
    assert "aliases expand to more than 10,000 values" in error


def test_an_alias_inside_its_own_anchor_is_a_config_error():
    with pytest.raises(ConfigError, match="alias inside its own anchor"):
        parse_yaml("a: &a [1, *a]")


def test_sweep_command_refuses_a_billion_laughs_at_once(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(12))
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "sweep", str(path), "--store", str(tmp_path / "s.db")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,  # before the fix this never ended (killed after 60 s in the issue)
        check=False,
    )
    assert done.returncode != 0
    assert "aliases expand to more than 10,000 values" in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_command_prints_one_line_for_a_huge_number(tmp_path):
    # OverflowError from math.fsum printed a traceback before
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"method: random\nparameters:\n  x:\n    values: [1, 2]\n"
        f"    probabilities: [1{'0' * 400}, 0]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "sweep", str(path), "--store", str(tmp_path / "s.db")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "parameters.x.probabilities[0]: an integer of about 401 digits" in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_cell_magic_refuses_nested_aliases(ip):
    with pytest.raises(UsageError, match="aliases expand to more than 10,000 values"):
        ip.run_cell_magic("sweep", "", laughs(6))


def test_builder_yaml_field_refuses_nested_aliases():
    from sweepnb.notebook.fields import FieldError, param_spec

    anchors = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    anchors += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
    spec = "{" + ", ".join(anchors) + ", values: *a6}"
    with pytest.raises(FieldError, match="^parameters.p: .*aliases expand to more than"):
        param_spec("yaml", text=spec, key="parameters.p")


# -- YAML: duplicate keys ----------------------------------------------------------------------


def test_a_duplicate_top_level_key_names_the_key_and_both_lines():
    error = one_error("method: grid\nparameters: {x: {values: [1]}}\nmethod: random\n")
    assert error == "method: duplicate key on lines 1 and 3"


def test_a_duplicate_nested_key_names_its_path(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "method: random\nparameters:\n  lr:\n    min: 0.1\n    max: 1.0\n    min: 0.5\n"
    )
    assert one_error(path) == f"parameters.lr.min: duplicate key on lines 4 and 6 of {path}"


def test_a_duplicate_key_in_a_flow_mapping_is_one_line():
    error = one_error("method: grid\nparameters: {x: {values: [1], values: [2]}}\n")
    assert error == "parameters.x.values: duplicate key twice on line 2"


def test_every_duplicate_is_reported():
    with pytest.raises(ConfigError) as caught:
        load_config("method: grid\nmethod: grid\nparameters: {x: {value: 1, value: 2}}\n")
    assert caught.value.errors == [
        "method: duplicate key on lines 1 and 2",
        "parameters.x.value: duplicate key twice on line 3",
    ]


def test_sweep_cell_magic_refuses_a_duplicate_key(ip):
    # the lines of the cell as the user sees them: the %%sweep line is line 1
    with pytest.raises(UsageError, match="method: duplicate key on lines 2 and 3"):
        ip.run_cell_magic("sweep", "", "method: grid\nmethod: random\nparameters: {x: {value: 1}}")


# -- numbers: the issues' inputs ---------------------------------------------------------------


def params(**spec) -> dict:
    return {"method": "random", "metric": LOSS, "parameters": {"x": spec}}


def stopping(**settings) -> dict:
    cfg = params(values=[1, 2])
    cfg["early_terminate"] = settings
    return cfg


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (  # math.fsum raised OverflowError
            params(values=[1, 2], probabilities=[10**400, 0]),
            "parameters.x.probabilities[0]: an integer of about 401 digits is too large",
        ),
        (  # math.fsum raised OverflowError (found by test_config_robustness)
            params(values=[1, 2], probabilities=[1e308, 1e308]),
            "parameters.x: probabilities [1e+308, 1e+308] sum to more than any float, not 1",
        ),
        (  # max_iter / eta raised OverflowError
            stopping(type="hyperband", max_iter=10**400, s=2),
            "early_terminate.max_iter: an integer of about 401 digits is too large",
        ),
        (
            stopping(type="hyperband", max_iter=81, eta=10**400, s=-1e100),
            "early_terminate.eta: an integer of about 401 digits is too large",
        ),
        (  # loaded, then hyperband.bands raised OverflowError in every agent
            stopping(type="hyperband", min_iter=5, eta=4763418),
            "early_terminate.eta: 4763418 must be at most 1000",
        ),
        (
            stopping(type="hyperband", min_iter=1e300),
            "early_terminate.min_iter: 1e+300 must be at most 1000000000",
        ),
        (  # loaded, then e^(1000 + ...) made every suggestion raise
            params(distribution="q_log_normal", mu=1000, sigma=1, q=1),
            "parameters.x: mu 1000 with sigma 1 is too large: e^(mu + 7·sigma) overflows",
        ),
        (  # loaded, then each agent claimed a run and left it running
            {"method": "grid", "command": [{"a": "b"}], "parameters": {"x": {"values": [1]}}},
            "command[0]: {'a': 'b'} is not a string or a number or true or false",
        ),
    ],
    ids=[
        "probabilities",
        "probabilities-sum",
        "max_iter",
        "eta-and-s",
        "eta",
        "min_iter",
        "q_log_normal",
        "command",
    ],
)
def test_the_issues_inputs_are_config_errors_naming_the_key(cfg, message):
    assert one_error(cfg).startswith(message)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"distribution": "log_uniform", "min": 0, "max": 800},
            "parameters.x: max 800 is too large: e^max overflows",
        ),
        (
            {"distribution": "inv_log_uniform", "min": -800, "max": 0},
            "parameters.x: min -800 is too small: e^-min overflows",
        ),
        (
            {"distribution": "q_uniform", "min": 0, "max": 1e10, "q": 1e-300},
            "parameters.x: q 1e-300 is too small for values up to 1e+10: value / q overflows",
        ),
        (
            {"distribution": "uniform", "min": -1.7e308, "max": 1.7e308},
            "parameters.x: min -1.7e+308 must be at least -1e+300",
        ),
        (
            {"min": 0, "max": 2**60},
            "parameters.x: max 1152921504606846976 is beyond ±2**53",
        ),
        (
            {"distribution": "normal", "mu": 1e300, "sigma": 1e300},
            "parameters.x: mu 1e+300 with sigma 1e+300 reaches beyond ±1e+300",
        ),
    ],
    ids=["log_uniform", "inv_log_uniform", "q", "uniform-span", "int", "normal"],
)
def test_parameters_whose_values_would_overflow_are_refused(spec, message):
    # each loaded before and then sampled inf or nan, or raised in the agent
    assert one_error(params(**spec)).startswith(message)


def test_a_huge_metric_target_is_refused():
    # loaded, then every suggestion raised OverflowError reading the target
    cfg = params(values=[1])
    cfg["metric"] = {"name": "loss", "target": 10**400}
    assert one_error(cfg).startswith("metric.target: an integer of about 401 digits")


def test_a_non_integer_median_count_is_refused_at_load():
    # loaded, then should_stop raised ConfigError in every agent
    error = one_error(stopping(type="median", min_iter=3.0))
    assert error == "early_terminate.min_iter: 3.0 is not an integer"


def test_an_integer_of_thousands_of_digits_is_a_config_error():
    # its repr raises ValueError (Python's int string limit), so the message must not use it
    error = one_error(params(values=[1, 10**5000]))
    assert error.startswith("parameters.x.values[1]: an integer of about 5001 digits")


def test_hyperband_bands_never_raise_on_a_huge_integer_eta():
    # what the loader now refuses must not crash the rule either (it is also called directly)
    found = hyperband.bands({"min_iter": 5, "eta": 4763418})
    assert found[:2] == [5, 5 * 4763418] and len(found) == hyperband.MIN_ITER_BANDS


def test_bayes_suggests_after_runs_that_logged_values_near_the_float_limits():
    # found by tests/test_config_robustness.py: the power transform's likelihood was NaN for
    # every exponent, and numpy's nanargmax raised "All-NaN slice encountered"
    cfg = load_config(
        {"method": "bayes", "metric": LOSS, "parameters": {"x": {"min": 0, "max": 1}}}
    )
    logged = [("finished", 0.0), ("finished", -1.297693134862316e308), ("finished", 1e308)]
    logged.append(("failed", 0.0))  # imputed as the worst value, 1e308
    runs = [
        {"id": str(i), "state": state, "config": {"x": i % 2}, "history": [{"loss": loss}]}
        for i, (state, loss) in enumerate(logged)
    ]
    (config,) = engine.suggest(cfg, runs, seed=1)
    assert config["x"] in (0, 1)
