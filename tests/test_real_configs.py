"""The 23 real W&B sweep configs of the corpus (SOURCES.md): each loads and gives a first run,
except the two invalid ones, which fail naming the key."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest

from sweepnb import engine
from sweepnb.engine.config import DISTRIBUTIONS, load_config, to_yaml
from sweepnb.errors import ConfigError, SweepnbWarning

CORPUS = Path(__file__).parent / "data" / "wandb-configs"  # sources and licenses: SOURCES.md
INVALID = {
    "wandb-sweeps-ax-moo.yaml": "method: 'ax' is not one of ['grid', 'random', 'bayes']",
    "platalea-wandb-sweep.yaml": (
        "metric.goal: 'hello world wrt wandb sweep function' is not one of ['minimize', 'maximize']"
    ),
}
FILES = sorted(p.name for p in CORPUS.glob("*.yaml"))
VALID = [name for name in FILES if name not in INVALID]


def _load(name: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepnbWarning)
        return load_config(CORPUS / name)


def _first_suggestion(cfg: dict, seed: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepnbWarning)  # suggest may re-load the config
        suggestions = engine.suggest(cfg, [], seed=seed)
    assert len(suggestions) == 1
    return suggestions[0]


def _leaves(params: dict, prefix: str = ""):
    for name, spec in params.items():
        if "parameters" in spec:
            yield from _leaves(spec["parameters"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", spec


def _value_at(config: dict, dotted: str, params: dict):
    """The value of a leaf in a suggested nested config (names themselves may hold dots)."""
    for name, spec in params.items():
        if dotted == name:
            return config[name]
        if "parameters" in spec and dotted.startswith(name + "."):
            return _value_at(config[name], dotted[len(name) + 1 :], spec["parameters"])
    raise KeyError(dotted)


def test_corpus_has_23_files():
    assert len(FILES) == 23
    assert set(INVALID) <= set(FILES)


@pytest.mark.parametrize("name", VALID)
def test_real_config_loads_with_every_parameter_filled(name):
    cfg = _load(name)
    leaves = list(_leaves(cfg["parameters"]))
    assert leaves
    assert all(spec["distribution"] in DISTRIBUTIONS for _, spec in leaves)
    if "metric" in cfg:
        assert cfg["metric"]["goal"] in ("minimize", "maximize")
    if "early_terminate" in cfg:
        assert cfg["early_terminate"]["strict"] is True


@pytest.mark.parametrize("name", VALID)
def test_real_config_gives_a_first_suggestion_inside_its_space(name):
    cfg = _load(name)
    first = _first_suggestion(cfg, seed=0)
    assert set(first) == set(cfg["parameters"])
    for dotted, spec in _leaves(cfg["parameters"]):
        value = _value_at(first, dotted, cfg["parameters"])
        if spec["distribution"] == "constant":
            assert value == spec["value"]
        elif spec["distribution"] == "categorical":
            assert value in spec["values"]
        elif spec["distribution"] in ("int_uniform", "uniform", "log_uniform_values"):
            assert spec["min"] <= value <= spec["max"]


@pytest.mark.parametrize("name", VALID)
def test_real_config_survives_to_yaml(name):
    cfg = _load(name)
    assert _load_text(to_yaml(cfg)) == cfg


def _load_text(text: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepnbWarning)
        return load_config(text)


@pytest.mark.parametrize(("name", "message"), sorted(INVALID.items()))
def test_invalid_real_config_fails_naming_the_key(name, message):
    with pytest.raises(ConfigError) as info:
        load_config(CORPUS / name)
    assert message in info.value.errors


def test_ax_config_also_reports_its_other_foreign_keys():
    with pytest.raises(ConfigError) as info:
        load_config(CORPUS / "wandb-sweeps-ax-moo.yaml")
    keys = {e.split(":")[0] for e in info.value.errors}
    assert {"method", "metrics", "metric_constraints"} <= keys


def test_exponent_strings_in_real_configs_are_floats():
    lr = _load("docs-fine-tuning-sweep-config.yaml")["parameters"]["learning_rate"]
    assert lr["values"] == [1e-5, 9e-6, 5e-6, 3e-6, 1e-7]
    qr = _load("nl-causal-representations-sweep.yaml")["parameters"]["model.qr"]
    assert all(isinstance(v, float) for v in qr["values"])


def test_old_log_uniform_in_real_configs_warns_naming_the_parameter():
    with pytest.warns(
        SweepnbWarning, match=r"parameters\.learning_rate: log_uniform is deprecated"
    ):
        cfg = load_config(CORPUS / "dalle-mini-train-sweep.yaml")
    lr = cfg["parameters"]["learning_rate"]
    assert (lr["min"], lr["max"]) == (-9.9, -5.3)
    value = _first_suggestion(cfg, seed=1)["learning_rate"]
    assert math.exp(-9.9) <= value <= math.exp(-5.3)


def test_nested_real_config_is_filled_at_every_depth():
    params = _load("wandb-sweeps-nested-cli.yaml")["parameters"]
    beta = params["optimizer"]["parameters"]["nadam"]["parameters"]["beta"]
    assert beta == {"distribution": "categorical", "values": [0.9, 0.95]}


def test_integer_bounds_in_real_config_infer_int_uniform():
    params = _load("twgpt-wandb-sweep.yaml")["parameters"]
    assert params["model.n_layers"] == {"distribution": "int_uniform", "min": 4, "max": 9}


def test_hyperband_in_real_config_gets_defaults():
    rule = _load("magma-sweep.yaml")["early_terminate"]
    assert rule["type"] == "hyperband" and rule["eta"] == 3 and rule["strict"] is True
