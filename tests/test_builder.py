"""The sweep-config form, driven without a browser: set `.value`, `.click()`, read the config."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sweepnb.engine.config import load_config
from sweepnb.notebook.builder import SweepBuilder
from sweepnb.notebook.fields import (
    FieldError,
    error_field,
    format_scalar,
    param_spec,
    parse_scalar,
    parse_values,
    row_from_spec,
)
from sweepnb.store import Store

# -- pure parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        (" -2 ", -2),
        ("0.5", 0.5),
        ("1e-5", 1e-5),
        ("true", True),
        ("False", False),
        ("null", None),
        ("adam", "adam"),
        ("'3'", "3"),
        ('"a, b"', "a, b"),
    ],
)
def test_parse_scalar_reads_numbers_bools_null_and_strings(text, value):
    assert parse_scalar(text) == value
    assert type(parse_scalar(text)) is type(value)


@pytest.mark.parametrize("value", [3, 0.001, 1e-5, True, None, "adam", "3", "a, b", "", " x"])
def test_format_scalar_round_trips_through_parse_scalar(value):
    assert parse_scalar(format_scalar(value)) == value


def test_parse_values_splits_on_commas_outside_quotes():
    assert parse_values('0.1, 1, adam, "x, y"', "k") == [0.1, 1, "adam", "x, y"]


@pytest.mark.parametrize(("text", "message"), [("", "at least one value"), ("1,,2", "empty value")])
def test_parse_values_rejects_empty_items_naming_the_key(text, message):
    with pytest.raises(FieldError, match=rf"^parameters\.a\.values: .*{message}"):
        parse_values(text, "parameters.a.values")


def test_param_spec_builds_each_kind():
    key = "parameters.p"
    assert param_spec("values", text="1, 2", key=key) == {"values": [1, 2]}
    assert param_spec("constant", text="sgd", key=key) == {"value": "sgd"}
    assert param_spec("int", low="1", high="8", key=key) == {
        "distribution": "int_uniform",
        "min": 1,
        "max": 8,
    }
    assert param_spec("float", low="0", high="1", key=key) == {
        "distribution": "uniform",
        "min": 0.0,
        "max": 1.0,
    }
    assert param_spec("log", low="1e-4", high="0.1", key=key) == {
        "distribution": "log_uniform_values",
        "min": 1e-4,
        "max": 0.1,
    }
    assert param_spec("yaml", text="{distribution: normal, mu: 0}", key=key) == {
        "distribution": "normal",
        "mu": 0,
    }


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("int", {"low": "1.5", "high": "3"}, r"parameters\.p\.min: '1\.5' is not an integer"),
        ("float", {"low": "0", "high": "abc"}, r"parameters\.p\.max: 'abc' is not a number"),
        ("log", {"low": "", "high": "1"}, r"parameters\.p\.min: missing"),
        ("yaml", {"text": "[1, 2]"}, r"parameters\.p: a YAML spec must be a mapping"),
    ],
)
def test_param_spec_errors_name_the_field(kind, fields, message):
    with pytest.raises(FieldError, match=message):
        param_spec(kind, key="parameters.p", **fields)


@pytest.mark.parametrize(
    "spec",
    [
        {"values": [1, 2, "a"]},
        {"value": 0.5},
        {"min": 1, "max": 5},
        {"min": 0.1, "max": 1.0},
        {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
        {"values": [[1, 2], [3]]},
        {"parameters": {"x": {"value": 1}}},
    ],
)
def test_row_from_spec_then_param_spec_gives_the_same_loaded_parameter(spec):
    row = row_from_spec(spec)
    rebuilt = param_spec(row.kind, text=row.text, low=row.low, high=row.high, key="parameters.p")
    wrap = {"method": "random", "parameters": {"p": None}}
    assert load_config({**wrap, "parameters": {"p": rebuilt}}) == load_config(
        {**wrap, "parameters": {"p": spec}}
    )


def test_row_from_spec_uses_a_yaml_row_for_distributions_without_a_kind():
    assert row_from_spec({"distribution": "normal", "mu": 0, "sigma": 2}).kind == "yaml"


def test_error_field_routes_messages_to_their_field():
    names = ["lr", "lr_decay"]
    assert error_field("parameters.lr_decay.min: bad", names) == "param:lr_decay"
    assert error_field("parameters.lr: min 5 is not less than max 3", names) == "param:lr"
    assert error_field("run_cap: 0 is less than or equal to the minimum of 0", names) == "run_cap"
    assert error_field("metric.goal: 'maximise' is not one of", names) == "metric"
    assert error_field("something else entirely", names) == "general"


# -- the form ----------------------------------------------------------------------------------


def fill_row(row, name, kind, text="", low="", high=""):
    row.name.value = name
    row.kind.value = kind
    row.text.value, row.low.value, row.high.value = text, low, high


@pytest.fixture
def form(tmp_path):
    return SweepBuilder(store=str(tmp_path / "sweeps.db"))


def test_new_form_has_one_empty_row_and_create_disabled(form):
    assert len(form.rows) == 1
    assert form.errors == {"row:0": "parameter name is missing"}
    assert form.create_button.disabled
    assert form.rows[0].error.value == ""  # issue 13: no error shouted before anything is typed


def test_filled_form_produces_the_config(form):
    form.method.value = "bayes"
    form.metric_name.value = "val_loss"
    form.goal.value = "minimize"
    form.run_cap.value = "20"
    fill_row(form.rows[0], "lr", "log", low="1e-4", high="0.1")
    form.add_button.click()
    fill_row(form.rows[1], "optimizer", "values", text="adam, sgd")
    form.add_button.click()
    fill_row(form.rows[2], "layers", "int", low="1", high="4")
    form.add_button.click()
    fill_row(form.rows[3], "epochs", "constant", text="10")
    assert form.errors == {}
    assert not form.create_button.disabled
    assert form.config() == {
        "method": "bayes",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "run_cap": 20,
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.1},
            "optimizer": {"values": ["adam", "sgd"]},
            "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
            "epochs": {"value": 10},
        },
    }


def test_hyperband_fields_make_early_terminate(form):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "x", "float", low="0", high="1")
    assert form.min_iter.layout.display == "none"
    form.early_terminate.value = "hyperband"
    assert form.min_iter.layout.display is None and form.eta.layout.display is None
    form.min_iter.value = "2"
    form.eta.value = "2"
    assert form.config()["early_terminate"] == {"type": "hyperband", "min_iter": 2, "eta": 2}
    form.early_terminate.value = "off"
    assert "early_terminate" not in form.config()


def test_invalid_bounds_show_the_config_error_beside_the_row(form):
    fill_row(form.rows[0], "lr", "float", low="5", high="3")
    errors = form.errors
    assert list(errors) == ["row:0"]
    assert errors["row:0"].startswith("parameters.lr")
    assert "5" in form.rows[0].error.value and "3" in form.rows[0].error.value
    assert form.create_button.disabled
    form.rows[0].high.value = "8"
    assert form.errors == {}
    assert form.rows[0].error.value == ""
    assert not form.create_button.disabled


def test_unreadable_field_names_its_key(form):
    fill_row(form.rows[0], "lr", "float", low="abc", high="3")
    assert form.errors == {"row:0": "parameters.lr.min: 'abc' is not a number"}
    assert "is not a number" in form.rows[0].error.value


def test_run_cap_error_from_load_config_appears_beside_run_cap(form):
    fill_row(form.rows[0], "x", "values", text="1, 2")
    form.run_cap.value = "0"
    assert set(form.errors) == {"run_cap"}
    assert "run_cap" in form.field_errors["run_cap"].value
    assert form.create_button.disabled


def test_bayes_without_metric_is_an_error(form):
    fill_row(form.rows[0], "x", "float", low="0", high="1")
    form.method.value = "bayes"
    assert form.errors
    assert form.create_button.disabled
    form.metric_name.value = "loss"
    assert form.errors == {}


def test_duplicate_names_are_flagged(form):
    fill_row(form.rows[0], "x", "values", text="1")
    form.add_button.click()
    fill_row(form.rows[1], "x", "values", text="2")
    assert form.errors == {"row:1": "parameters.x: appears twice"}


def test_remove_button_drops_its_row(form):
    fill_row(form.rows[0], "a", "values", text="1")
    form.add_button.click()
    fill_row(form.rows[1], "b", "values", text="2")
    form.rows[0].remove.click()
    assert [row.name.value for row in form.rows] == ["b"]
    assert list(form.config()["parameters"]) == ["b"]


def test_kind_shows_only_its_fields(form):
    row = form.rows[0]
    row.kind.value = "int"
    assert row.text.layout.display == "none" and row.low.layout.display is None
    row.kind.value = "values"
    assert row.text.layout.display is None and row.high.layout.display == "none"


def test_yaml_preview_follows_every_edit(form):
    fill_row(form.rows[0], "dropout", "float", low="0.1", high="0.5")
    assert "dropout" in form.preview.value
    form.rows[0].name.value = "keep_prob"
    assert "keep_prob" in form.preview.value and "dropout" not in form.preview.value
    assert yaml.safe_load(form.yaml()) == form.config()


def test_create_button_creates_the_sweep_and_reports_its_id(form, tmp_path):
    created = []
    form.on_create = created.append
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "lr", "log", low="0.001", high="0.1")
    form.create_button.click()
    assert created == [form.sweep_id]
    assert re.fullmatch(r"[a-z0-9]{8}", form.sweep_id)
    assert form.sweep_id in form.status.value
    stored = Store(str(tmp_path / "sweeps.db")).get_sweep(form.sweep_id)
    assert stored["config"] == load_config(form.config())


EDITED = """\
program: train.py
method: random
metric:
  name: acc
  goal: maximize
  target: 0.99
seed: 7
run_cap: 12
early_terminate:
  type: hyperband
  min_iter: 3
  eta: 2
parameters:
  lr:
    distribution: log_uniform_values
    min: 1.0e-05
    max: 0.1
  batch:
    values: [16, 32, 64]
  noise:
    distribution: normal
    mu: 0
    sigma: 0.5
  opt:
    parameters:
      momentum: {min: 0.5, max: 0.99}
command: [python, train.py, "${args}"]
"""


def test_edit_prefills_the_form_and_keeps_the_config_unchanged(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(EDITED)
    form = SweepBuilder(str(path))
    assert form.method.value == "random"
    assert form.metric_name.value == "acc" and form.goal.value == "maximize"
    assert form.run_cap.value == "12"
    assert [(r.name.value, r.kind.value) for r in form.rows] == [
        ("lr", "log"),
        ("batch", "values"),
        ("noise", "yaml"),
        ("opt", "yaml"),
    ]
    assert form.config() == yaml.safe_load(EDITED)


def test_edit_then_change_keeps_the_untouched_keys():
    form = SweepBuilder(EDITED)
    form.rows[1].text.value = "8, 16"
    config = form.config()
    assert config["parameters"]["batch"] == {"values": [8, 16]}
    assert config["program"] == "train.py" and config["seed"] == 7


def test_form_yaml_loads_like_the_form_config(form):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "name", "values", text='"008", true, "null", 1e-5')
    assert load_config(form.yaml()) == load_config(form.config())
    assert form.config()["parameters"]["name"]["values"] == ["008", True, "null", 1e-5]


def test_text_fallback_shows_the_yaml(form):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "lr", "float", low="0.1", high="0.2")
    bundle = form._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "lr:" in bundle["text/plain"]


def sweepnb_command() -> list[str]:
    """The installed `sweepnb` script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("sweepnb")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from sweepnb.cli import main; sys.exit(main())"]


def test_form_yaml_is_accepted_by_the_cli_unchanged(form, tmp_path):
    pytest.importorskip("sweepnb.cli")
    form.method.value = "grid"
    form.metric_name.value = "acc"
    form.goal.value = "maximize"
    fill_row(form.rows[0], "lr", "values", text="0.1, 0.01, 1e-3")
    form.add_button.click()
    fill_row(form.rows[1], "depth", "int", low="1", high="3")
    path = tmp_path / "form.yaml"
    path.write_text(form.yaml())
    db = tmp_path / "cli.db"
    env = {**os.environ, "SWEEPNB_STORE": str(db)}
    done = subprocess.run(
        [*sweepnb_command(), "sweep", str(path), "--store", str(db)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sweeps = Store(str(db)).list_sweeps()
    assert len(sweeps) == 1
    assert sweeps[0]["id"] in done.stdout
    assert Store(str(db)).get_sweep(sweeps[0]["id"])["config"] == load_config(form.config())


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [("eta", "1", "early_terminate"), ("min_iter", "abc", "early_terminate.min_iter: 'abc'")],
)
def test_hyperband_errors_appear_beside_early_termination(form, field, text, message):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "x", "float", low="0", high="1")
    form.early_terminate.value = "hyperband"
    getattr(form, field).value = text
    assert set(form.errors) == {"early_terminate"}
    assert message in form.errors["early_terminate"]
    assert html.escape(message, quote=True) in form.field_errors["early_terminate"].value
    assert form.create_button.disabled


def test_form_prefilled_from_a_loaded_config_loads_back_the_same():
    """`%sweep --edit ID` starts from the stored (defaults-filled) config."""
    loaded = load_config(EDITED)
    form = SweepBuilder(loaded)
    assert [r.kind.value for r in form.rows] == ["log", "values", "yaml", "yaml"]
    assert load_config(form.config()) == loaded


def test_the_early_stop_choices_are_the_registered_rules(form):
    assert [value for _, value in form.early_terminate.options] == ["off", "hyperband", "median"]


def test_median_fields_come_from_the_rule_and_make_early_terminate(form):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "x", "float", low="0", high="1")
    median_fields = form.rule_fields["median"]
    assert set(median_fields) == {"min_iter", "min_runs"}
    assert median_fields["min_runs"].layout.display == "none"
    form.early_terminate.value = "median"
    assert median_fields["min_runs"].layout.display is None
    assert form.min_iter.layout.display == "none"  # hyperband's field is hidden
    median_fields["min_runs"].value = "5"
    assert form.config()["early_terminate"] == {"type": "median", "min_iter": 3, "min_runs": 5}
    assert not form.errors


def test_a_median_config_fills_its_fields_when_edited():
    from sweepnb.notebook.builder import SweepBuilder

    cfg = {
        "method": "random",
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "median", "min_iter": 4},
    }
    form = SweepBuilder(config=cfg)
    assert form.early_terminate.value == "median"
    assert form.rule_fields["median"]["min_iter"].value == "4"
    assert form.config()["early_terminate"]["min_iter"] == 4


# -- issue 13: the form's rough edges -----------------------------------------------------------


def test_a_second_click_on_an_unchanged_form_creates_no_twin(form, tmp_path):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "lr", "log", low="0.001", high="0.1")
    form.create_button.click()
    first = form.sweep_id
    assert form.create_button.disabled  # nothing changed since: nothing to create
    assert form.create() == first
    assert len(Store(str(tmp_path / "sweeps.db")).list_sweeps()) == 1
    form.rows[0].high.value = "0.2"  # a change: a new sweep may be created from it
    assert not form.create_button.disabled
    assert "earlier version" in form.status.value
    form.create_button.click()
    assert form.sweep_id != first
    assert len(Store(str(tmp_path / "sweeps.db")).list_sweeps()) == 2


def test_an_invalid_edit_after_create_replaces_the_created_line_and_keeps_valid_yaml(form):
    form.metric_name.value = "loss"
    fill_row(form.rows[0], "lr", "log", low="0.001", high="0.1")
    form.create_button.click()
    form.rows[0].low.value = "abc"
    assert "Created sweep" not in form.status.value and "fix the fields in red" in form.status.value
    assert "abc" not in form.preview.value and "0.001" in form.preview.value
    assert "not valid yet" in form.preview.value


def test_a_yaml_spec_field_is_wide_enough_for_its_value():
    form = SweepBuilder(
        {
            "method": "random",
            "parameters": {
                "lr": {"distribution": "q_log_uniform_values", "min": 1e-5, "max": 0.1, "q": 1e-5}
            },
        }
    )
    row = form.rows[0]
    assert row.kind.value == "yaml"
    assert row.text.layout.width == "auto" and row.text.layout.min_width == "420px"


def test_editing_an_invalid_config_says_what_to_do():
    form = SweepBuilder({"method": "bayes", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    assert form.create_button.disabled
    assert "this config has problems (in red): fix them" in form.status.value
