"""Issue 14, values: what log() and the summary accept, and reads that no stored value can break.

Each test here failed on the code before the fix: a run that logged ``10**400`` broke ``ls``,
``show``, ``runs()`` and ``best_run()`` for the whole store.
"""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

import sweepnb
from sweepnb.cli import main as cli_main
from sweepnb.store import Store

CFG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}},
}


def run_one(store_url: str, sweep_id: str, train) -> None:
    sweepnb.agent(sweep_id, train, count=1, store=store_url)


def test_log_refuses_an_int_too_large_for_a_float_naming_the_key(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)
    seen = {}

    def train():
        sweepnb.init()
        with pytest.raises(ValueError, match=r"'loss' is an integer of about 401 digits"):
            sweepnb.log({"loss": 10**400})
        with pytest.raises(ValueError, match=r"'nested/a/1'"):
            sweepnb.log({"nested": {"a": [1, -(10**400)]}})
        with pytest.raises(ValueError, match=r"summary: 'big'"):
            sweepnb.run.summary["big"] = 10**400
        # the run goes on: the refusal costs nothing already logged
        sweepnb.log({"loss": 0.25, "n": 2**1000, "np": np.float32(1.5), "nan": float("nan")})
        sweepnb.run.summary["note"] = "kept"
        seen["ok"] = True

    run_one(url, sid, train)
    assert seen == {"ok": True}
    (run,) = Store(url).get_runs(sid)
    assert run["state"] == "finished"
    row = run["history"][0]
    assert row["loss"] == 0.25 and row["n"] == 2**1000 and row["np"] == 1.5
    assert math.isnan(row["nan"])
    assert run["summary"]["note"] == "kept" and "big" not in run["summary"]


def test_an_uncaught_refusal_fails_only_its_run_and_the_store_stays_readable(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)

    def bad():
        sweepnb.init()
        sweepnb.log({"loss": 10**400})

    def good():
        sweepnb.init()
        sweepnb.log({"loss": 0.5})

    run_one(url, sid, bad)
    run_one(url, sid, good)
    frame = sweepnb.runs(sid, store=url)
    assert sorted(frame["state"]) == ["failed", "finished"]
    assert sweepnb.best_run(sid, store=url)["metric"]["value"] == 0.5
    assert cli_main(["ls", "--store", url]) == 0
    assert cli_main(["show", sid, "--store", url]) == 0
    out = capsys.readouterr().out
    assert "ValueError: log(): 'loss' is an integer" in out


def damage(db_path, sid: str) -> None:
    """Write values an older sweepnb (or a hand edit) could have left: huge ints, broken JSON."""
    huge = "9" * 500
    with sqlite3.connect(db_path) as conn:
        ids = [
            r[0]
            for r in conn.execute("SELECT id FROM runs WHERE sweep_id=? ORDER BY created", (sid,))
        ]
        conn.execute(
            "UPDATE runs SET summary=? WHERE id=?", (f'{{"loss": {huge}, "acc": 1}}', ids[0])
        )
        conn.execute("UPDATE runs SET summary=? WHERE id=?", ('{"loss": 0.3', ids[1]))
        conn.execute("UPDATE runs SET config=? WHERE id=?", ("not json", ids[1]))
        conn.execute(
            'UPDATE history SET "values"=? WHERE run_id=? AND id=(SELECT MIN(id) FROM history WHERE run_id=?)',
            (f'{{"loss": -{huge}, "_step": 0}}', ids[2], ids[2]),
        )
        conn.execute(
            'UPDATE history SET "values"=? WHERE run_id=? AND id=(SELECT MAX(id) FROM history WHERE run_id=?)',
            ("{broken", ids[3], ids[3]),
        )


@pytest.fixture
def damaged(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)

    def train():
        run = sweepnb.init()
        for step in range(3):
            sweepnb.log({"loss": run.config.x + step})

    sweepnb.agent(sid, train, count=5, store=url)
    damage(tmp_path / "s.db", sid)
    return url, sid


def test_stored_bad_values_cost_one_cell_never_the_table(damaged, capsys, tmp_path):
    url, sid = damaged
    runs = Store(url).get_runs(sid)
    assert len(runs) == 5
    assert runs[0]["summary"] == {"loss": None, "acc": 1}  # the huge int alone is gone
    assert runs[1]["summary"] == {} and runs[1]["config"] == {}
    assert runs[2]["history"][0]["loss"] is None and len(runs[2]["history"]) == 3
    assert len(runs[3]["history"]) == 2  # the unreadable row is left out, the others stay
    frame = sweepnb.runs(sid, store=url)
    assert len(frame) == 5
    best = sweepnb.best_run(sid, store=url)
    assert best is not None and best["id"] in {r["id"] for r in runs}
    for args in (["ls"], ["show", sid], ["export", sid, "--format", "json"], ["export", sid]):
        assert cli_main([*args, "--store", url]) == 0, args
    exported = capsys.readouterr().out
    assert sid in exported


def test_dashboard_data_reads_a_damaged_sweep(damaged):
    from sweepnb.analysis import plotdata, runs_frame

    url, sid = damaged
    runs = Store(url).get_runs(sid)
    frame = runs_frame(Store(url).get_sweep(sid)["config"], runs)
    assert len(frame) == 5
    cfg = Store(url).get_sweep(sid)["config"]
    history = plotdata.history_data(frame, cfg)  # the dashboard's first panel, from that frame
    assert len(history.y) == 5 and not np.isnan(history.best[-1])
    curves = plotdata.learning_curves_data(runs, cfg)
    assert curves.curves  # damaged rows left out, the others drawn
    json.dumps([r["summary"] for r in runs])  # plain values all the way down


def test_a_numpy_long_double_is_logged_as_a_float_and_one_beyond_float_range_refused(tmp_path):
    # before: item() of a long double is a long double, so it passed log() and the end write
    # recursed forever in the JSON encoder: a RecursionError escaped sweepnb.agent()
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)

    def train():
        sweepnb.init()
        with pytest.raises(ValueError, match=r"log\(\): 'big' is .*too large for a float"):
            sweepnb.log({"big": np.longdouble("1e4000")})
        sweepnb.log({"loss": np.longdouble(0.5), "inf": np.longdouble("-inf")})

    run_one(url, sid, train)
    (run,) = Store(url).get_runs(sid)
    assert run["state"] == "finished"
    assert run["summary"]["loss"] == 0.5 and type(run["summary"]["loss"]) is float
    assert run["summary"]["inf"] == -math.inf and "big" not in run["summary"]


@pytest.mark.parametrize(
    "value, message",
    [
        (object(), r"summary: 'note' is of type object"),
        (1j, r"summary: 'note' is of type complex"),
        ({"a": {1, 2}}, r"summary: 'note/a' is of type set"),
    ],
)
def test_summary_refuses_an_object_without_a_json_form_naming_the_key(tmp_path, value, message):
    # before: the summary kept the object's repr text ("<object object at 0x...>")
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)

    def train():
        run = sweepnb.init()
        with pytest.raises(TypeError, match=message):
            run.summary["note"] = value
        with pytest.raises(TypeError, match=message):
            run.summary.update({"note": value})
        sweepnb.log({"loss": 1.0})

    run_one(url, sid, train)
    (run,) = Store(url).get_runs(sid)
    assert run["state"] == "finished" and "note" not in run["summary"]


@pytest.fixture
def damaged_config(damaged, tmp_path):
    url, sid = damaged
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("UPDATE sweeps SET config=? WHERE id=?", ("{broken", sid))
    return url, sid


def test_a_damaged_sweep_config_costs_its_cells_never_the_command(damaged_config, capsys):
    # before: export and runs() raised AttributeError ('NoneType' object has no attribute 'get')
    url, sid = damaged_config
    assert Store(url).get_sweep(sid)["config"] == {}
    assert len(sweepnb.runs(sid, store=url)) == 5
    for args in (["ls"], ["show", sid], ["export", sid], ["export", sid, "--format", "json"]):
        assert cli_main([*args, "--store", url]) == 0, args
    assert sid in capsys.readouterr().out


def test_the_dashboard_renders_a_damaged_sweep(damaged_config):
    from sweepnb.notebook.dashboard import Dashboard

    url, sid = damaged_config
    board = Dashboard(sid, url)
    bundle = board.render(*board.poll())
    assert sid in bundle["text/plain"]


def test_replacing_the_whole_summary_checks_its_values(tmp_path):
    # before: run.summary = {...} put a plain dict in place: 10**400 was written unchecked and
    # read back as None
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)

    def train():
        run = sweepnb.init()
        sweepnb.log({"loss": 1.0})
        with pytest.raises(ValueError, match=r"summary: 'huge' is an integer"):
            run.summary = {"huge": 10**400}
        run.summary = {"loss": 0.5, "acc": np.float32(0.75)}
        run.summary["later"] = 1
        with pytest.raises(ValueError, match=r"summary: 'big'"):
            run.summary["big"] = 10**400

    run_one(url, sid, train)
    (run,) = Store(url).get_runs(sid)
    assert run["state"] == "finished" and "huge" not in run["summary"]
    assert run["summary"]["acc"] == 0.75 and run["summary"]["later"] == 1


def test_a_value_the_store_cannot_encode_fails_its_run_never_the_agent(tmp_path):
    # before: the JSON encoder turned a long double into itself forever: a RecursionError
    # escaped sweepnb.agent() and the agent's other runs never started
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)
    calls = []

    def train():
        run = sweepnb.init()
        calls.append(run.id)
        sweepnb.log({"loss": 1.0})
        if len(calls) == 1:
            run.config.update({"precise": np.longdouble(2)})  # converted when set: 2.0
            run.config.update({"model": object()})  # refused when set (issue 23.6): TypeError

    sweepnb.agent(sid, train, count=2, store=url)
    runs = Store(url).get_runs(sid)
    assert len(calls) == 2
    assert sorted(r["state"] for r in runs) == ["failed", "finished"]
    (failed,) = [r for r in runs if r["state"] == "failed"]
    assert "config.model: a value of type object cannot be stored" in failed["error"]
    assert failed["config"]["precise"] == 2.0
