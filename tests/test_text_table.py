"""``analysis.text_table.frame_text`` prints a frame exactly as pandas' ``to_string(index=False)``:
on awkward values (missing metrics, NaN and infinities, tiny and huge numbers, long and unicode
names, tabs and line breaks, mixed object columns) and on ``sweepnb show``'s own frame."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from sweepnb.analysis.tables import sweep_detail
from sweepnb.analysis.text_table import _text, _Unsupported, frame_text
from sweepnb.cli import main
from sweepnb.engine.metric import Metric, best_run
from sweepnb.store import Store

FLOATS = [
    float("nan"),
    float("inf"),
    -float("inf"),
    0.0,
    -0.0,
    1e-9,
    1e7,
    123456789.123,
    2.5,
    10.0,
    1 / 3,
    -7.25,
    1e-6,
    1e6,
    999999.9999999,
]
TEXTS = [
    "",
    "é",
    "日本語",
    "a\tb",
    "x\ny\r",
    "'q'",
    "x" * 70,
    "y" * 59,
    "z" * 61,
    None,
    "NaN",
    "trail ",
    "€" * 64,
]
OBJECTS = [
    None,
    True,
    False,
    1,
    -3,
    2.5,
    float("nan"),
    "s",
    "a\tb",
    np.float64(0.1),
    np.int64(3),
    np.bool_(True),
    1e-9,
    10**20,
    "x" * 80,
    float("inf"),
]
NAMES = ["id", "loss", "a\tb", "x" * 65, "why it ended", "é", "lr", "optimizer.lr"]


def random_frame(rng: random.Random) -> pd.DataFrame:
    rows = rng.randint(1, 6)
    columns = {}
    for j in range(rng.randint(1, 5)):
        kind = rng.choice("fisob")
        pool = {
            "f": FLOATS,
            "i": [0, -5, 10**12, 7, 42],
            "s": TEXTS,
            "o": OBJECTS,
            "b": [True, False],
        }[kind]
        columns[f"{rng.choice(NAMES)}{j}"] = [rng.choice(pool) for _ in range(rows)]
    return pd.DataFrame(columns)


@pytest.mark.parametrize("max_colwidth", [60, None, 5, 2])
def test_random_frames_print_as_pandas_prints_them(max_colwidth):
    rng = random.Random(max_colwidth or 0)
    fast = 0
    for _ in range(400):
        frame = random_frame(rng)
        expected = frame.to_string(index=False, max_colwidth=max_colwidth)
        assert frame_text(frame, max_colwidth) == expected, frame.to_dict("list")
        try:
            _text(frame, max_colwidth)
            fast += 1
        except _Unsupported:
            pass
    assert fast > 300  # the frames were printed by frame_text's own code, not pandas'


def test_float_columns_switch_to_exponents_as_pandas_does():
    for values in (
        [1e-7, 1.0],
        [1e7, 0.5, 1.123456],
        [float("nan")] * 3,
        [1.5, float("inf")],
        [0.1, 0.25],
        [100.0, 2.0],
        [-0.0, 0.0],
        [1e300, -1e-300],
    ):
        frame = pd.DataFrame({"v": values})
        assert _text(frame, 60) == frame.to_string(index=False, max_colwidth=60)


def test_columns_it_does_not_know_are_printed_by_pandas():
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime([0, 86400], unit="s"),
            "n": pd.array([1, None], dtype="Int64"),
            "c": pd.Categorical(["a", "b"]),
            "x": [pd.NA, 1],
        }
    )
    with pytest.raises(_Unsupported):
        _text(frame, 60)
    assert frame_text(frame, 60) == frame.to_string(index=False, max_colwidth=60)
    assert frame_text(frame.head(0)) == frame.head(0).to_string(index=False)
    with pd.option_context("display.precision", 3):
        frame = pd.DataFrame({"v": [1 / 3]})
        assert frame_text(frame) == frame.to_string(index=False) == "    v\n0.333"


def awkward_sweep(tmp_path) -> tuple[Store, str]:
    """A sweep with missing metrics, NaN, a huge int, unicode, tabs, long values, nested and
    unswept parameters, failed and crashed runs."""
    store = Store(tmp_path / "s.db")
    cfg = {
        "method": "random",
        "metric": {"name": "val loss", "goal": "minimize"},
        "parameters": {
            "lr": {"values": [1e-9, 0.5, 3]},
            "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
            "label": {"values": ["é\tlong " * 12, None, True]},
        },
    }
    sid = store.create_sweep(cfg)
    runs = [
        (
            {"lr": 1e-9, "optimizer": {"name": "adam"}, "label": "é\tlong " * 12},
            [{"val loss": 0.25}],
            "finished",
        ),
        ({"lr": 0.5, "optimizer": {"name": "sgd"}, "label": None}, [], "failed"),
        (
            {"lr": 3, "optimizer": {"name": "日本"}, "label": True},
            [{"val loss": float("nan"), "acc": "n/a"}],
            "crashed",
        ),
        ({"lr": 0.5, "extra": 10**12}, [{"val loss": 1e7, "acc": 0.9}], "finished"),
    ]
    for config, history, state in runs:
        store.add_run(
            sid, config, state=state, history=history, summary=history[-1] if history else {}
        )
    return store, sid


def test_show_frame_of_an_awkward_sweep_prints_as_pandas_prints_it(tmp_path):
    _, frame = sweep_detail(*awkward_sweep(tmp_path))
    assert frame_text(frame, 60) == frame.to_string(index=False, max_colwidth=60)


def test_show_prints_the_line_and_table_pandas_printed(tmp_path, capsys):
    # what `sweepnb show` printed before it formatted the table itself and read the best run
    # from the frame: the summary line with best_run's own reading of every run, to_string
    store, sid = awkward_sweep(tmp_path)
    line, frame = sweep_detail(store, sid)
    runs = store.get_runs(sid)
    best = best_run(Metric.of(store.get_sweep(sid)["config"]), runs)
    assert best is not None and line.endswith(f"best val loss = {best[1]:.6g}")
    assert main(["show", sid, "--store", str(tmp_path / "s.db")]) == 0
    expected = line + "\n" + frame.to_string(index=False, max_colwidth=60) + "\n"
    assert capsys.readouterr().out == expected
