"""One parameter row of the sweep-config form (``builder.py``): name, kind, the fields that
kind needs, a remove button, and the error label beside them."""

from __future__ import annotations

import html

import ipywidgets as widgets

from sweepnb.notebook.fields import KINDS, PLACEHOLDER, RowValues, param_spec

_FIELDS_OF_KIND = {
    "values": ("text",),
    "constant": ("text",),
    "yaml": ("text",),
    "int": ("low", "high"),
    "float": ("low", "high"),
    "log": ("low", "high"),
}
HELP = "kind: list of values, int/float/log range (min, max), constant, or a YAML parameter spec"


def error_label() -> widgets.HTML:
    label = widgets.HTML(value="")
    label.add_class("sweepnb-error")
    return label


def show_error(label: widgets.HTML, message: str | None) -> None:
    label.value = f'<span style="color:#c62828">{html.escape(message)}</span>' if message else ""


class ParameterRow:
    """One parameter of the form: name, kind, the fields that kind needs, a remove button."""

    def __init__(self, name: str = "", values: RowValues | None = None):
        values = values or RowValues("values")
        self.name = widgets.Text(value=name, placeholder="name", layout={"width": "140px"})
        self.kind = widgets.Dropdown(options=KINDS, value=values.kind, layout={"width": "130px"})
        self.text = widgets.Text(value=values.text, layout={"width": "260px"})
        self.low = widgets.Text(value=values.low, placeholder="min", layout={"width": "100px"})
        self.high = widgets.Text(value=values.high, placeholder="max", layout={"width": "100px"})
        self.remove = widgets.Button(
            description="✕", tooltip="remove this parameter", layout={"width": "36px"}
        )
        self.remove.add_class("sweepnb-remove-parameter")
        self.error = error_label()
        self.widget = widgets.HBox(
            [self.name, self.kind, self.text, self.low, self.high, self.remove, self.error]
        )
        self.kind.observe(lambda _change: self._show_kind_fields(), names="value")
        self._show_kind_fields()

    @property
    def inputs(self) -> list[widgets.Widget]:
        """The widgets whose edits change the config."""
        return [self.name, self.kind, self.text, self.low, self.high]

    def spec(self) -> dict:
        """This row's parameter config (raises FieldError naming the key)."""
        key = f"parameters.{self.name.value.strip() or '?'}"
        return param_spec(
            self.kind.value, text=self.text.value, low=self.low.value, high=self.high.value, key=key
        )

    def _show_kind_fields(self) -> None:
        shown = _FIELDS_OF_KIND[self.kind.value]
        for field in ("text", "low", "high"):
            getattr(self, field).layout.display = None if field in shown else "none"
        self.text.placeholder = PLACEHOLDER.get(self.kind.value, "")
        # a YAML spec is long ({distribution: q_log_uniform_values, min: ..., q: ...}): room for
        # all of it, and the field grows with the form
        wide = self.kind.value == "yaml"
        self.text.layout.width = "auto" if wide else "260px"
        self.text.layout.flex = "1 1 auto" if wide else None
        self.text.layout.min_width = "420px" if wide else None

    @property
    def blank(self) -> bool:
        """Nothing typed in this row yet (a new form's first row)."""
        return not any(w.value.strip() for w in (self.name, self.text, self.low, self.high))
