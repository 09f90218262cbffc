"""A sweep-config form built from core ipywidgets (`%sweep` with no argument).

The form turns into a plain W&B sweep config: method, metric, run_cap, early termination (any
registered rule, with the fields it declares) and one row per parameter. Every edit re-validates the config with `sweepnb.config.load_config`,
shows each problem beside its field, refreshes a YAML preview and enables "Create sweep" only when
the config is valid::

    from sweepnb.notebook.builder import SweepBuilder
    form = SweepBuilder()
    form.metric_name.value = "loss"
    form.rows[0].name.value = "lr"
    form.rows[0].kind.value = "log"
    form.rows[0].low.value, form.rows[0].high.value = "1e-4", "0.1"
    form.config()     # {'method': 'random', 'metric': {...}, 'parameters': {'lr': {...}}}
    form.create()     # the new sweep id

Reading the text fields is done by the pure functions of `sweepnb.notebook.fields`, tested
without widgets. Only core widgets are used (Text, Dropdown,
Button, HTML, HBox, VBox), which every front end renders, Colab included.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from sweepnb.engine import search, stopping
from sweepnb.errors import ConfigError, SweepnbError
from sweepnb.notebook.builder_row import HELP, ParameterRow, error_label, show_error
from sweepnb.notebook.fields import (
    FieldError,
    RowValues,
    error_field,
    format_scalar,
    parse_number,
    row_from_spec,
)

GOALS = ("minimize", "maximize")


def config_yaml(config: dict) -> str:
    """The YAML text of a config, in the form `sweepnb sweep` reads back unchanged."""
    from sweepnb.engine.config import to_yaml

    return to_yaml(config)


def validate(config: dict) -> list[str]:
    """Every problem `load_config` finds in `config` (an empty list when it is valid)."""
    import warnings

    from sweepnb.engine.config import load_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_config(config)
        except ConfigError as exc:
            return list(exc.errors)
    return []


# ---------------------------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------------------------


class SweepBuilder:
    """The sweep-config form. `config()` is the config it describes; `create()` creates the sweep.

    `config` pre-fills the form (a dict, YAML text or a path). Top-level keys the form has no
    field for (`program`, `command`, `name`, `seed`, ...) are kept unchanged. `on_create` is
    called with the new sweep id.
    """

    def __init__(
        self,
        config: dict | str | None = None,
        *,
        store: Any = None,
        on_create: Callable[[str], None] | None = None,
    ):
        self.store = store
        self.on_create = on_create
        self.sweep_id: str | None = None
        self.rows: list[ParameterRow] = []
        self._extra: dict = {}
        self._metric_extra: dict = {}
        self._early_extra: dict = {}
        self._refreshing = False
        self._created: dict | None = None  # the config the last created sweep came from
        self._editing = config is not None  # `%sweep --edit`: say what is wrong, kindly
        self._build_widgets()
        self._fill(_as_dict(config) if config is not None else None)
        self._on_edit()

    # -- building ----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.method = widgets.Dropdown(
            options=tuple(search.METHODS), value="random", description="method"
        )
        self.method_help = widgets.HTML(value="")
        self.run_cap = widgets.Text(value="", placeholder="no cap", description="run_cap")
        self.metric_name = widgets.Text(value="", placeholder="e.g. loss", description="metric")
        self.goal = widgets.Dropdown(options=GOALS, value="minimize", description="goal")
        self.early_terminate = widgets.Dropdown(
            options=(("off", "off"), *((name, name) for name in stopping.RULES)),
            value="off",
            description="early stop",
        )
        # one Text per field each rule declares, shown while that rule is chosen
        self.rule_fields: dict[str, dict[str, widgets.Text]] = {
            name: {
                f.name: widgets.Text(
                    value="" if f.default is None else format_scalar(f.default),
                    description=f.name,
                    tooltip=f.help,
                )
                for f in stopping.describe(name).fields
            }
            for name in stopping.RULES
        }
        self.add_button = widgets.Button(description="Add parameter", icon="plus")
        self.add_button.add_class("sweepnb-add-parameter")
        self.create_button = widgets.Button(description="Create sweep", button_style="success")
        self.create_button.add_class("sweepnb-create")
        self.status = widgets.HTML(value="")
        self.status.add_class("sweepnb-status")
        self.preview = widgets.HTML(value="")
        self.preview.add_class("sweepnb-preview")
        self.field_errors = {
            key: error_label()
            for key in ("method", "run_cap", "metric", "early_terminate", "general")
        }
        self._rows_box = widgets.VBox([])
        self.add_button.on_click(lambda _b: self.add_parameter())
        self.create_button.on_click(lambda _b: self.create())
        for w in (
            self.method,
            self.run_cap,
            self.metric_name,
            self.goal,
            self.early_terminate,
            *self._field_widgets(),
        ):
            w.observe(self._on_edit, names="value")
        e = self.field_errors
        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>New sweep</b>"),
                widgets.HBox([self.method, self.method_help, e["method"]]),
                widgets.HBox([self.metric_name, self.goal, e["metric"]]),
                widgets.HBox([self.run_cap, e["run_cap"]]),
                widgets.HBox([self.early_terminate, *self._field_widgets(), e["early_terminate"]]),
                widgets.HTML(f"<b>Parameters</b> <small>({HELP})</small>"),
                self._rows_box,
                widgets.HBox([self.add_button, e["general"]]),
                widgets.HBox([self.create_button, self.status]),
                self.preview,
            ]
        )
        self.widget.add_class("sweepnb-builder")

    def _fill(self, config: dict | None) -> None:
        """Put a config's values into the fields (the `%sweep --edit` path)."""
        if not config:
            self.add_parameter()
            return
        config = dict(config)
        if config.get("method") in search.METHODS:
            self.method.value = config.pop("method")
        metric = dict(config.pop("metric", None) or {})
        self.metric_name.value = str(metric.pop("name", ""))
        if metric.get("goal") in GOALS:
            self.goal.value = metric.pop("goal")
        self._metric_extra = metric
        if "run_cap" in config:
            self.run_cap.value = format_scalar(config.pop("run_cap"))
        early = dict(config.pop("early_terminate", None) or {})
        rule = early.pop("type", None)
        if rule in self.rule_fields:
            self.early_terminate.value = rule
            for name, text in self.rule_fields[rule].items():
                text.value = format_scalar(early.pop(name)) if name in early else ""
        self._early_extra = early
        for name, spec in (config.pop("parameters", None) or {}).items():
            values = row_from_spec(spec) if isinstance(spec, dict) else RowValues("yaml", str(spec))
            self.add_parameter(name, values)
        self._extra = config

    # -- rows ----------------------------------------------------------------------------

    def add_parameter(self, name: str = "", values: RowValues | None = None) -> ParameterRow:
        """Append a parameter row (the "Add parameter" button)."""
        row = ParameterRow(name, values)
        for w in row.inputs:
            w.observe(self._on_edit, names="value")
        row.remove.on_click(lambda _b: self.remove_parameter(row))
        self.rows.append(row)
        self._rows_box.children = [r.widget for r in self.rows]
        self.refresh()
        return row

    def remove_parameter(self, row: ParameterRow) -> None:
        """Drop a parameter row (its "✕" button)."""
        self.rows.remove(row)
        self._rows_box.children = [r.widget for r in self.rows]
        self.refresh()

    # -- reading the form ----------------------------------------------------------------------

    def config(self) -> dict:
        """The config the form describes, as YAML would hold it. Raises ConfigError if invalid."""
        config, errors = self._read()
        problems = [msg for msg in errors.values() if msg] + (
            validate(config) if not errors else []
        )
        if problems:
            raise ConfigError(problems)
        return config

    def yaml(self) -> str:
        """The YAML text of `config()`."""
        return config_yaml(self.config())

    @property
    def errors(self) -> dict[str, str]:
        """Current problems by field: `method`, `metric`, `run_cap`, `early_terminate`,
        `param:<name>` (or `row:<index>` for an unnamed row) and `general`."""
        config, errors = self._read()
        if errors:
            return errors
        names = list(config.get("parameters", {}))
        found: dict[str, str] = {}
        for message in validate(config):
            key = error_field(message, names)
            if key.startswith("param:"):
                key = f"row:{names.index(key[6:])}"
            found[key] = f"{found[key]}; {message}" if key in found else message
        return found

    def _read(self) -> tuple[dict, dict[str, str]]:
        """The config from the fields plus the fields that cannot be read (by field key)."""
        errors: dict[str, str] = {}
        config: dict = {"method": self.method.value}
        if self.metric_name.value.strip():
            config["metric"] = {
                "name": self.metric_name.value.strip(),
                "goal": self.goal.value,
                **self._metric_extra,
            }
        if self.run_cap.value.strip():
            _read_into(
                config,
                "run_cap",
                errors,
                "run_cap",
                lambda: parse_number(self.run_cap.value, "run_cap", integer=True),
            )
        rule = self.early_terminate.value
        if rule in self.rule_fields:
            config["early_terminate"] = early = {"type": rule, **self._early_extra}
            for f in stopping.describe(rule).fields:
                text = self.rule_fields[rule][f.name].value
                if text.strip():  # empty: the rule's default (or its own error) applies
                    _read_into(early, f.name, errors, "early_terminate", _field_reader(f, text))
        config["parameters"] = params = {}
        for index, row in enumerate(self.rows):
            name = row.name.value.strip()
            if not name:
                errors[f"row:{index}"] = "parameter name is missing"
            elif name in params:
                errors[f"row:{index}"] = f"parameters.{name}: appears twice"
            else:
                _read_into(params, name, errors, f"row:{index}", row.spec)
        config.update({k: v for k, v in self._extra.items() if k not in config})
        return config, errors

    # -- reacting ----------------------------------------------------------------------------

    @property
    def min_iter(self) -> widgets.Text:
        """Hyperband's min_iter field (kept by name: the form's most used rule)."""
        return self.rule_fields["hyperband"]["min_iter"]

    @property
    def eta(self) -> widgets.Text:
        """Hyperband's eta field."""
        return self.rule_fields["hyperband"]["eta"]

    def _field_widgets(self) -> list[widgets.Text]:
        return [text for fields in self.rule_fields.values() for text in fields.values()]

    def _on_edit(self, _change: Any = None) -> None:
        self._show_rule_fields()
        self.refresh()

    def _show_rule_fields(self) -> None:
        chosen = self.early_terminate.value
        for rule, fields in self.rule_fields.items():
            for text in fields.values():
                text.layout.display = None if rule == chosen else "none"
        method = self.method.value
        about = search.describe(method).description if method in search.METHODS else ""
        self.method_help.value = f"<small>{html.escape(about)}</small>"

    def refresh(self) -> None:
        """Re-validate: errors beside their fields, YAML preview, Create enabled only if valid."""
        if self._refreshing:
            return
        self._refreshing = True
        try:
            errors = self.errors
            for key, label in self.field_errors.items():
                show_error(label, errors.get(key))
            for index, row in enumerate(self.rows):
                # a row nothing was typed into yet is not an error to shout about
                quiet = row.blank and errors.get(f"row:{index}") == "parameter name is missing"
                show_error(row.error, None if quiet else errors.get(f"row:{index}"))
            config, _ = self._read()
            unchanged = self._created is not None and config == self._created
            self.create_button.disabled = bool(errors) or unchanged
            if errors:
                self._valid_yaml = getattr(self, "_valid_yaml", "")
                shown = self._valid_yaml or "(nothing valid yet)"
                self.preview.value = (
                    "<small>the fields marked in red are not valid yet; the last valid "
                    f"config:</small><pre style='color:#777'>{html.escape(shown)}</pre>"
                )
            else:
                self._valid_yaml = config_yaml(config)
                self.preview.value = f"<pre>{html.escape(self._valid_yaml)}</pre>"
            self.status.value = self._status(errors, unchanged)
        finally:
            self._refreshing = False

    def _status(self, errors: dict[str, str], unchanged: bool) -> str:
        """The line beside the button: what was created, and what the form's state means."""
        if unchanged:
            return (
                f"Created sweep <code>{self.sweep_id}</code> (now the current sweep): "
                "run it with <code>%agent FUNCTION</code>"
            )
        if self.sweep_id is not None:
            changed = f"Sweep <code>{self.sweep_id}</code> was created from an earlier version"
            return changed + (
                "; fix the fields in red to create another"
                if errors
                else "; Create sweep makes a new one from this form"
            )
        if errors and self._editing:
            return (
                "<span style='color:#8a5a00'>this config has problems (in red): fix them, "
                "then Create sweep</span>"
            )
        return ""

    def create(self) -> str | None:
        """Create the sweep (the "Create sweep" button); show and return its id. A second click
        on an unchanged form returns the sweep it created (never a twin)."""
        try:
            config = self.config()
            if self._created is not None and config == self._created:
                return self.sweep_id
            from sweepnb import api

            self.create_button.disabled = True  # a double click lands here once
            sweep_id = api.sweep(config, store=self.store)
        except SweepnbError as exc:
            self.create_button.disabled = False
            self.status.value = f'<span style="color:#c62828">{html.escape(str(exc))}</span>'
            return None
        self.sweep_id, self._created = sweep_id, config
        self.refresh()
        if self.on_create is not None:
            self.on_create(sweep_id)
        return sweep_id

    # -- display ---------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        try:
            text = self.yaml()
        except ConfigError as exc:
            text = str(exc)
        return {**bundle, "text/plain": f"Sweep config form:\n{text}"}

    def __repr__(self) -> str:
        return f"SweepBuilder(method={self.method.value!r}, parameters={len(self.rows)})"


def _read_into(
    target: dict, key: str, errors: dict[str, str], field: str, read: Callable[[], Any]
) -> None:
    """target[key] = read(), or record the FieldError message under `field`."""
    try:
        target[key] = read()
    except FieldError as exc:
        errors[field] = str(exc)


def _field_reader(f: Any, text: str) -> Callable[[], Any]:
    """Parse a rule field's text by its kind ("int" or "number"), naming its key on error."""
    key = f"early_terminate.{f.name}"
    if f.kind == "int":
        return lambda: parse_number(text, key, integer=True)
    return lambda: _integral(parse_number(text, key))


def _integral(value: float) -> int | float:
    """3.0 -> 3 so the YAML reads `eta: 3`."""
    return int(value) if float(value).is_integer() else value


def _as_dict(config: dict | str) -> dict:
    """A config given to pre-fill the form: a dict, YAML text or a path to a YAML file."""
    if isinstance(config, dict):
        return config
    from sweepnb.engine.config import parse_yaml

    path = Path(config)
    if "\n" not in config and path.suffix in (".yaml", ".yml", ".json") and path.is_file():
        config = path.read_text()
    return parse_yaml(config)
