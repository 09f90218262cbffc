"""``Table``: W&B's table of rows, offline; logged as a CSV plus a small JSON of its columns.

Cells may hold numbers, strings, booleans, None, or media (an ``Image`` in a cell is written as
its own file and the CSV cell holds that file's path relative to the CSV).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sweepnb.compat.media_types import Media, _json_safe

DEFAULT_COLUMNS = ("Input", "Output", "Expected")  # W&B's columns when none are given


def _kind(value: Any) -> str | None:
    """The kind of a cell for the mixed-types check (None fits every column)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)) or (
        hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0
    ):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Media):
        return type(value).__name__
    return type(value).__name__


class Table(Media):
    """Rows of values with named columns (W&B's ``wandb.Table``), logged as CSV + JSON.

    >>> t = Table(columns=["x", "y"], data=[[1, 2.0], [2, 4.0]])
    >>> t.add_data(3, 6.0)
    >>> t.get_column("y")
    [2.0, 4.0, 6.0]
    """

    _type = "table-file"

    def __init__(
        self,
        columns: list | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
    ):
        if rows is not None and data is not None:
            raise ValueError("Table: pass data or rows (an older name for data), not both")
        data = rows if data is None else data
        if dataframe is None and hasattr(data, "itertuples") and hasattr(data, "columns"):
            dataframe, data = data, None  # W&B takes a DataFrame as data too
        if dataframe is not None:
            if data is not None:
                raise ValueError("Table: pass data or dataframe, not both")
            if not hasattr(dataframe, "columns") or not hasattr(dataframe, "itertuples"):
                raise TypeError(
                    f"Table: dataframe must be a pandas DataFrame, not {type(dataframe).__name__}"
                )
            columns = [str(c) for c in dataframe.columns] if columns is None else columns
            data = [list(row) for row in dataframe.itertuples(index=False, name=None)]
        if columns is None:
            if (
                data is not None
                and len(_rows(data))
                and len(_rows(data)[0]) != len(DEFAULT_COLUMNS)
            ):
                columns = [f"col{i}" for i in range(len(_rows(data)[0]))]
            else:
                columns = list(DEFAULT_COLUMNS)
        if isinstance(columns, str) or not hasattr(columns, "__iter__"):
            raise TypeError(f"Table: columns must be a list of names, not {columns!r}")
        self.columns = [str(c) for c in columns]
        duplicates = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if duplicates:
            raise ValueError(f"Table: columns has duplicate names {duplicates}")
        self.dtype = dtype
        self.optional = optional
        self.allow_mixed_types = allow_mixed_types
        self.data: list[list] = []
        for row in _rows(data) if data is not None else []:
            self.add_data(*row)

    # -- building ------------------------------------------------------------------------------

    def add_data(self, *row: Any) -> None:
        """Append one row: one value per column."""
        if len(row) != len(self.columns):
            raise ValueError(
                f"Table.add_data: row {len(self.data)} has {len(row)} values, the table has "
                f"{len(self.columns)} columns {self.columns}"
            )
        row = [_cell(v) for v in row]
        for name, value in zip(self.columns, row):
            self._check(name, value, len(self.data))
        self.data.append(row)

    def add_column(self, name: str, data: Any, optional: bool = False) -> None:
        """Add a column ``name`` with one value per existing row."""
        name = str(name)
        if name in self.columns:
            raise ValueError(f"Table.add_column: name {name!r} is already a column")
        values = [_cell(v) for v in list(data)]
        if self.data and len(values) != len(self.data):
            raise ValueError(
                f"Table.add_column: data has {len(values)} values, the table has "
                f"{len(self.data)} rows"
            )
        if not self.data:
            self.data = [[] for _ in values]
        self.columns.append(name)
        for i, (row, value) in enumerate(zip(self.data, values)):
            self._check(name, value, i)
            row.append(value)

    def add_row(self, *row: Any) -> None:
        """Same as ``add_data`` (W&B's older name)."""
        self.add_data(*row)

    def _check(self, column: str, value: Any, row: int) -> None:
        kind = _kind(value)
        if kind is None:
            if self.optional is False:
                raise ValueError(f"Table: column {column!r} row {row} is None (optional=False)")
            return
        if self.allow_mixed_types:
            return
        for other in self.data:
            if len(other) <= self.columns.index(column):
                break
            seen = _kind(other[self.columns.index(column)])
            if seen is not None:
                if seen != kind:
                    raise TypeError(
                        f"Table: column {column!r} row {row} is a {kind}, earlier rows are "
                        f"{seen}; pass allow_mixed_types=True to allow it"
                    )
                break

    # -- reading -------------------------------------------------------------------------------

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of column ``name`` (a list; ``convert_to="numpy"`` for an array)."""
        if name not in self.columns:
            raise KeyError(f"Table.get_column: no column {name!r} (columns: {self.columns})")
        i = self.columns.index(name)
        values = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.asarray(values)
        if convert_to is not None:
            raise ValueError(f"Table.get_column: convert_to {convert_to!r} is not 'numpy' or None")
        return values

    def get_dataframe(self):
        """The table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return (
            f"<sweepnb Table: {len(self.data)} rows x {len(self.columns)} columns {self.columns}>"
        )

    @classmethod
    def from_file(cls, path: Any) -> Table:
        """Read a logged table back (its ``.csv``, or the reference's ``.table.json``).

        >>> Table.from_file(sweepnb.media(run_id).path[0]).get_dataframe()  # doctest: +SKIP
        """
        import pandas as pd

        file = Path(path)
        if file.name.endswith(".table.json"):
            file = file.with_name(file.name.removesuffix(".table.json") + ".csv")
        if not file.is_file():
            raise FileNotFoundError(f"Table.from_file: path {str(file)!r} is not a file")
        frame = pd.read_csv(file)
        frame = frame.astype(object).where(frame.notna(), None)
        return cls(dataframe=frame, allow_mixed_types=True)

    # -- writing -------------------------------------------------------------------------------

    def write(self, folder: Path, stem: str) -> dict:
        import pandas as pd

        rows = []
        for r, row in enumerate(self.data):
            out = []
            for c, value in enumerate(row):
                if isinstance(value, Media):  # a cell's media: its own file, its path in the CSV
                    cells = folder / f"{stem}-cells"
                    cells.mkdir(exist_ok=True)
                    ref = value.write(cells, f"{r}-{c}")
                    value = f"{cells.name}/{ref['path']}"
                out.append(value)
            rows.append(out)
        file = folder / f"{stem}.csv"
        pd.DataFrame(rows, columns=self.columns).to_csv(file, index=False)
        meta = {"columns": self.columns, "nrows": len(rows), "ncols": len(self.columns)}
        (folder / f"{stem}.table.json").write_text(json.dumps(meta))
        return {"_type": self._type, "path": file.name, **meta}


def _rows(data: Any) -> list:
    if hasattr(data, "tolist") and not isinstance(data, list):
        data = data.tolist()
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(f"Table: data must be a list of rows, not {type(data).__name__}")
    rows = list(data)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
            raise TypeError(f"Table: data row {i} is a {type(row).__name__}, expected a list")
    return [list(row) for row in rows]


def _cell(value: Any) -> Any:
    if isinstance(value, Media) or value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if _looks_like_figure(value):
        from sweepnb.compat.media_types import Image

        return Image(value)
    return _json_safe(value)


def _looks_like_figure(value: Any) -> bool:
    return type(value).__name__ == "Figure" and hasattr(value, "savefig")
