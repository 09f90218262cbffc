"""A runs frame as text, exactly as ``frame.to_string(index=False, max_colwidth=N)`` prints it.

pandas formats cell by cell through several layers (~5 µs a cell: 0.9 s for ``sweepnb show`` at
20,000 runs); this does the same steps for the column types a runs frame holds (text, int64,
float64, bool, and object columns of None, bool, numbers and text) in a few lines each. Anything
else (dates, categories, nullable integers, an option changed from pandas' default, an empty
frame) is printed by pandas itself, so the text never differs from ``to_string``:
``tests/test_text_table.py`` compares both on awkward frames.

>>> import pandas as pd
>>> print(frame_text(pd.DataFrame({"id": ["a", "bc"], "loss": [0.5, float("nan")]})))
id  loss
 a   0.5
bc   NaN
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

# pandas' own rules (pandas/io/formats/format.py): a cell with a decimal point, whose trailing
# zeros a float column trims alike
_DECIMAL = re.compile(r"^\s*[+-]?[0-9]+\.[0-9]*$")
_ESCAPES = (("\t", r"\t"), ("\r", r"\r"), ("\n", r"\n"))
# the display options this formatting assumes: pandas' defaults
_DEFAULTS = {
    "display.precision": 6,
    "display.float_format": None,
    "display.chop_threshold": None,
    "display.colheader_justify": "right",
    "display.unicode.east_asian_width": False,
}


class _Unsupported(Exception):
    """A column this module does not format: pandas prints the frame."""


def frame_text(frame: pd.DataFrame, max_colwidth: int | None = None) -> str:
    """``frame.to_string(index=False, max_colwidth=max_colwidth)``, faster on big frames."""
    try:
        return _text(frame, max_colwidth)
    except _Unsupported:
        return frame.to_string(index=False, max_colwidth=max_colwidth)


def _text(frame: pd.DataFrame, max_colwidth: int | None) -> str:
    if frame.empty or not frame.columns.is_unique or isinstance(frame.columns, pd.MultiIndex):
        raise _Unsupported
    if any(pd.get_option(name) != value for name, value in _DEFAULTS.items()):
        raise _Unsupported
    columns = []
    for name in frame.columns:
        # a header is the name with tabs and line breaks escaped; pandas also strips a leading
        # space that every header shares: such names are left to it
        if not isinstance(name, str) or not name or name.startswith(" "):
            raise _Unsupported
        cells, numeric = _cells(frame[name])
        header = (" " if numeric else "") + _escape(name)
        columns.append(_column(header, cells, max_colwidth))
    # pandas' adjoin: one space between columns, each of one width already
    return "\n".join(" ".join(line) for line in zip(*columns))


def _column(header: str, cells: list[str], max_colwidth: int | None) -> list[str]:
    """The header and cells of one column, cut and aligned as pandas does: its
    ``_make_fixed_width`` twice (cells cut to ``max_colwidth`` with "...", right-justified to the
    widest, then at least as wide as the header, within ``max_colwidth``), and adjoin's
    left-justification to the column's width."""
    widest = max(map(len, cells))
    width = widest if max_colwidth is None else min(widest, max_colwidth)
    if widest > width:
        keep = max(width - 3, 0)
        placeholder = "..."[: width - keep]
        cells = [x[:keep] + placeholder if len(x) > width else x for x in cells]
    width = max(width, len(header))
    if max_colwidth is not None:
        width = min(width, max_colwidth)
    column = max(width, len(header))
    if column == width:
        return [header.rjust(column), *(x.rjust(width) for x in cells)]
    return [header.rjust(column), *(x.rjust(width).ljust(column) for x in cells)]


def _cells(series: pd.Series) -> tuple[list[str], bool]:
    """A column's cells before alignment, and whether pandas counts its type as numeric (its
    header then gets a leading space)."""
    dtype = series.dtype
    numpy = isinstance(dtype, np.dtype)
    if numpy and dtype == np.float64:
        return _float_cells(series.to_numpy()), True
    if numpy and dtype == np.int64:
        return [f"{x:d}" for x in series.tolist()], True
    if numpy and dtype == np.bool_:
        return [str(x) for x in series.tolist()], True
    text_dtype = isinstance(dtype, pd.StringDtype) and _is_nan(dtype.na_value)
    if (numpy and dtype == object) or text_dtype:
        values = series.tolist()
        joined = "".join(x for x in values if type(x) is str)
        if "\t" not in joined and "\r" not in joined and "\n" not in joined:
            # the common case: no text to escape
            return [x if type(x) is str else _object_cell(x) for x in values], False
        return [_object_cell(x) for x in values], False
    raise _Unsupported


def _float_cells(values: np.ndarray) -> list[str]:
    """pandas' FloatArrayFormatter: 6 decimals, the trailing zeros every number has cut alike
    (one kept after the point); 6 digits of exponent when a value would read as 0 or a big one
    makes the column too wide."""
    numbers_ = values.tolist()
    cells = _trim_zeros(["NaN" if math.isnan(x) else f"{x:.6f}" for x in numbers_])
    too_long = max(map(len, cells)) > 12  # precision + 6
    magnitudes = np.abs(values[~np.isnan(values)])
    large = bool((magnitudes > 1e6).any())
    small = bool(((magnitudes < 1e-6) & (magnitudes > 0)).any())
    if small or (too_long and large):
        # no cell of this form has trailing zeros pandas trims (its pattern has no exponent)
        return ["NaN" if math.isnan(x) else f"{x:.6e}" for x in numbers_]
    return cells


def _trim_zeros(cells: list[str]) -> list[str]:
    """pandas' ``_trim_zeros_float`` on fixed-point cells: a cell is a decimal number unless it
    is NaN or infinite, and all of them lose the trailing zeros they share."""
    decimal = [_DECIMAL.match(x) is not None for x in cells]
    if not any(decimal):
        return cells
    cut = min(len(x) - len(x.rstrip("0")) for x, d in zip(cells, decimal) if d)
    if cut:
        cells = [x[:-cut] if d else x for x, d in zip(cells, decimal)]
    return [x + "0" if d and x.endswith(".") else x for x, d in zip(cells, decimal)]


def _object_cell(x: Any) -> str:
    """One cell of an object (or text) column, as pandas' generic formatter writes it."""
    if x is None:
        return "None"
    if isinstance(x, str):
        return _escape(x)
    if isinstance(x, (bool, np.bool_)):
        return str(x)
    if isinstance(x, (float, np.floating)):
        if math.isnan(x):
            return "NaN"
        text = f"{x: .6f}".rstrip("0")  # pandas' _trim_zeros_single_float
        return text + "0" if text.endswith(".") else text
    if isinstance(x, numbers.Integral):
        return str(x)
    raise _Unsupported  # a date, a pd.NA, a list...: pandas' rules


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _escape(text: str) -> str:
    for char, escaped in _ESCAPES:
        text = text.replace(char, escaped)
    return text
