"""The public API: sweep, agent (n_jobs), runs, best_run, stop/cancel/pause/resume, prior runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import pytest

import sweepnb
from sweepnb.errors import ConfigError, SweepnbError, SweepNotFound
from sweepnb.runtime.parallel import split_count

ROOT = Path(__file__).resolve().parent.parent
GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"values": [3, 1, 2]}, "opt": {"parameters": {"lr": {"values": [0.1]}}}},
}


def square(config):
    sweepnb.log({"loss": config.x**2, "x_seen": config.x})


# -- creating sweeps ---------------------------------------------------------------------------


def test_sweep_accepts_yaml_text_a_path_and_a_callable(store, tmp_path):
    text = "method: random\nparameters:\n  lr: {min: 0.001, max: 0.1}\n"
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    ids = [
        sweepnb.sweep(text, store=store),
        sweepnb.sweep(str(path), store=store),
        sweepnb.sweep(
            lambda: {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}},
            store=store,
        ),
    ]
    assert len(set(ids)) == 3
    assert all(len(i) == 8 and i.isalnum() and i == i.lower() for i in ids)
    assert store.get_sweep(ids[0])["config"]["parameters"]["lr"]["distribution"] == "uniform"


def test_project_entity_name_and_program_are_recorded(store):
    sid = sweepnb.sweep(
        GRID, project="demo", entity="me", store=store, name="n1", program="train.py"
    )
    sweep = store.get_sweep(sid)
    assert (sweep["project"], sweep["entity"], sweep["name"]) == ("demo", "me", "n1")
    assert sweep["config"]["program"] == "train.py"


def test_a_bad_config_raises_and_writes_nothing(store):
    with pytest.raises(ConfigError, match="parameters.x"):
        sweepnb.sweep({"method": "grid", "parameters": {"x": {"min": 3, "max": 1}}}, store=store)
    assert store.list_sweeps() == []


def test_prior_runs_cover_grid_points_of_the_new_sweep(store):
    first = sweepnb.sweep(GRID, store=store)
    sweepnb.agent(first, square, count=2, store=store, quiet=True)
    second = sweepnb.sweep(GRID, store=store, prior_runs=[first])
    copied = store.get_runs(second)
    assert sorted(r["config"]["x"] for r in copied) == [1, 3]
    assert all(r["state"] == "finished" and r["history"] for r in copied)
    result = sweepnb.agent(second, square, store=store, quiet=True)
    assert len(result.runs) == 1  # only the uncovered point runs
    assert sorted(r["config"]["x"] for r in store.get_runs(second)) == [1, 2, 3]


def test_an_unknown_prior_run_writes_nothing(store):
    with pytest.raises(SweepNotFound, match="zzzz9999"):
        sweepnb.sweep(GRID, store=store, prior_runs=["zzzz9999"])
    assert store.list_sweeps() == []


# -- states (reference §5.5) -------------------------------------------------------------------


def test_pause_resume_stop_follow_wandb_rules(store):
    sid = sweepnb.sweep(GRID, store=store)
    sweepnb.pause(sid, store=store)
    assert store.get_sweep(sid)["state"] == "paused"
    sweepnb.resume(sid, store=store)
    sweepnb.stop(sid, store=store)
    assert store.get_sweep(sid)["state"] == "finished"
    with pytest.raises(SweepnbError, match="finished"):
        sweepnb.pause(sid, store=store)
    with pytest.raises(SweepnbError, match="finished"):
        sweepnb.cancel(sid, store=store)
    sweepnb.resume(sid, store=store)  # W&B resumes finished sweeps too
    assert store.get_sweep(sid)["state"] == "running"


def test_cancel_flags_every_running_run(store):
    sid = sweepnb.sweep(GRID, store=store)
    running = store.add_run(sid, {"x": 1})
    done = store.add_run(sid, {"x": 2}, state="finished")
    sweepnb.cancel(sid, store=store)
    assert store.get_sweep(sid)["state"] == "cancelled"
    assert store.get_run(running)["stop_requested"]
    assert not store.get_run(done)["stop_requested"]
    assert store.heartbeat(running)["stop"]


def test_state_changes_on_an_unknown_sweep_raise(store):
    with pytest.raises(SweepNotFound):
        sweepnb.stop("nope0000", store=store)


# -- results -----------------------------------------------------------------------------------


def test_runs_frame_has_params_dotted_metric_best_and_summary_columns(store):
    sid = sweepnb.sweep(GRID, store=store)

    def train(config):
        for loss in (5.0, config.x, 7.0):
            sweepnb.log({"loss": loss, "acc": 0.5})

    sweepnb.agent(sid, train, store=store, quiet=True)
    df = sweepnb.runs(sid, store=store)
    assert list(df.columns[:5]) == ["id", "state", "opt.lr", "x", "loss"]
    assert {"acc", "created", "runtime"} <= set(df.columns)
    assert dict(zip(df.x, df.loss)) == {3: 3.0, 1: 1.0, 2: 2.0}  # best value, not the last
    assert (df.runtime >= 0).all()


def test_best_run_follows_the_goal(store):
    cfg = {**GRID, "metric": {"name": "loss", "goal": "maximize"}}
    sid = sweepnb.sweep(cfg, store=store)
    assert sweepnb.best_run(sid, store=store) is None
    sweepnb.agent(sid, square, store=store, quiet=True)
    best = sweepnb.best_run(sid, store=store)
    assert best["config"]["x"] == 3
    assert best["metric"] == {"name": "loss", "goal": "maximize", "value": 9.0}


# -- parallel agents ---------------------------------------------------------------------------


def test_split_count_shares_runs_among_agents():
    assert split_count(10, 4) == [3, 3, 2, 2]
    assert split_count(1, 3) == [1]
    assert split_count(None, 2) == [None, None]


CELL_SOURCE = textwrap.dedent("""
    import os
    import sweepnb
    def train(config):
        sweepnb.log({"loss": config.x, "pid": os.getpid()})
""")


def test_n_jobs_runs_a_notebook_defined_function_in_loky_processes(store):
    namespace: dict = {}
    # a function compiled outside any importable module, like one defined in a notebook cell
    exec(CELL_SOURCE, namespace)  # noqa: S102 (our own constant source)
    sid = sweepnb.sweep({**GRID, "parameters": {"x": {"values": list(range(8))}}}, store=store)
    result = sweepnb.agent(sid, namespace["train"], n_jobs=2, store=store, quiet=True)
    runs = store.get_runs(sid)
    assert sorted(r["config"]["x"] for r in runs) == list(range(8))
    assert result.counts == {"finished": 8}
    assert os.getpid() not in {r["summary"]["pid"] for r in runs}


def test_count_is_shared_by_the_jobs_and_threads_share_the_function(store):
    seen = []

    def train(config):
        seen.append(config.x)
        sweepnb.log({"loss": config.x})

    sid = sweepnb.sweep({**GRID, "parameters": {"x": {"values": list(range(10))}}}, store=store)
    with joblib.parallel_config(backend="threading"):
        result = sweepnb.agent(sid, train, count=5, n_jobs=2, store=store, quiet=True)
    assert len(result.runs) == 5
    assert sorted(seen) == sorted(r["config"]["x"] for r in store.get_runs(sid))


AGENT_SCRIPT = """
import pathlib, sys, time, sweepnb
sweep_id, store, ready, others = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4:]
ready.touch()
while not all(pathlib.Path(p).exists() for p in others):  # start together: both must claim
    time.sleep(0.05)
def train(config):
    time.sleep(0.02)
    sweepnb.log({"loss": config.a * 10 + config.b})
sweepnb.agent(sweep_id, train, store=store, quiet=True)
"""


def test_two_agent_processes_finish_a_24_point_grid_without_duplicates(store_url, tmp_path):
    cfg = {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"a": {"values": list(range(6))}, "b": {"values": list(range(4))}},
    }
    sid = sweepnb.sweep(cfg, store=store_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    flags = [str(tmp_path / f"ready-{i}") for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AGENT_SCRIPT, sid, store_url, flag, *flags], env=env
        )
        for flag in flags
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    store = sweepnb.Store(store_url)
    runs = store.get_runs(sid)
    points = [(r["config"]["a"], r["config"]["b"]) for r in runs]
    assert sorted(points) == [(a, b) for a in range(6) for b in range(4)]
    assert all(r["state"] == "finished" and r["history"] for r in runs)
    assert len({r["pid"] for r in runs}) == 2  # both agents took part
    assert store.get_sweep(sid)["state"] == "finished"


def test_after_ctrl_c_the_runs_of_the_interrupted_agents_end_killed(store):
    from sweepnb.runtime.parallel import stop_group_runs

    sid = sweepnb.sweep(GRID, store=store)
    ours = store.add_run(sid, {"x": 1}, agent="host-42-0")
    other = store.add_run(sid, {"x": 2}, agent="host-421-0")
    assert stop_group_runs(store, sid, "host-42") == [ours]
    assert store.get_run(ours)["state"] == "killed"  # the user's stop, not the rule's
    assert store.get_run(other)["state"] == "running"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"function": "train"}, TypeError, "function"),
        ({"count": "3"}, TypeError, "count"),
        ({"count": -1}, ValueError, "count"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
    ],
)
def test_agent_refuses_bad_arguments_before_claiming_a_run(store, kwargs, error, name):
    sweep_id = sweepnb.sweep(GRID, store=store)
    with pytest.raises(error, match=name):
        sweepnb.agent(sweep_id, **{"function": square, **kwargs}, store=store)
    assert store.get_runs(sweep_id) == []
