"""The single-process agent loop: run functions, record outcomes, failure policy, stopping."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import sweepnb
from sweepnb.errors import SweepnbError, SweepNotFound
from sweepnb.runtime import termination
from sweepnb.runtime.agent import FailurePolicy, run_agent

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"values": [1, 2, 3, 4]}, "opt": {"parameters": {"lr": {"value": 0.1}}}},
}


def make_sweep(store, cfg=GRID) -> str:
    return sweepnb.sweep(cfg, store=store)


def states(store, sweep_id) -> list[str]:
    return [r["state"] for r in store.get_runs(sweep_id, history=False)]


# -- running functions -------------------------------------------------------------------------


def test_a_function_without_arguments_reads_sweepnb_config(store):
    sid = make_sweep(store)

    def train():
        with sweepnb.init(config={"epochs": 2, "x": -1}) as run:
            for epoch in range(run.config.epochs):
                sweepnb.log({"loss": sweepnb.config.x * sweepnb.config.opt.lr, "epoch": epoch})

    result = run_agent(sid, train, store=store, quiet=True)
    assert result.counts == {"finished": 4}
    runs = store.get_runs(sid)
    assert sorted(r["config"]["x"] for r in runs) == [1, 2, 3, 4]  # swept values beat defaults
    assert all(len(r["history"]) == 2 for r in runs)


def test_a_function_with_one_argument_gets_the_config(store):
    sid = make_sweep(store)
    seen = []

    def train(config):
        seen.append(config.opt.lr)
        sweepnb.log({"loss": config["x"]})

    run_agent(sid, train, count=2, store=store, quiet=True)
    assert seen == [0.1, 0.1]


def test_an_exception_fails_the_run_with_its_traceback_and_the_agent_goes_on(store):
    sid = make_sweep(store)

    def train(config):
        sweepnb.log({"loss": config.x})
        if config.x == 2:
            raise ValueError("bad x")

    result = run_agent(sid, train, store=store, quiet=True, policy=FailurePolicy())
    runs = store.get_runs(sid)
    failed = [r for r in runs if r["state"] == "failed"]
    assert [r["config"]["x"] for r in failed] == [2]
    assert "ValueError: bad x" in failed[0]["error"]
    assert result.counts == {"finished": 3, "failed": 1}


def test_count_caps_the_runs_of_one_agent(store):
    sid = make_sweep(store)
    result = run_agent(sid, lambda: sweepnb.log({"loss": 1}), count=3, store=store, quiet=True)
    assert len(result.runs) == 3
    assert result.reason == "count 3 reached"
    assert store.get_sweep(sid)["state"] == "running"


def test_an_exhausted_grid_finishes_the_sweep(store, capsys):
    sid = make_sweep(store)
    result = run_agent(sid, lambda: sweepnb.log({"loss": 1}), store=store)
    assert store.get_sweep(sid)["state"] == "finished"
    assert "no more runs" in result.reason
    assert "no more runs" in capsys.readouterr().err  # the agent says why it stopped


def test_a_paused_sweep_gives_no_run(store):
    sid = make_sweep(store)
    sweepnb.pause(sid, store=store)
    result = run_agent(sid, lambda: None, store=store, quiet=True)
    assert result.runs == {}
    assert result.reason == "sweep is paused"


def test_stop_lets_the_running_run_finish_and_ends_the_agent(store):
    sid = make_sweep(store)

    def train():
        sweepnb.stop(sid, store=store)
        for _ in range(3):
            sweepnb.log({"loss": 1.0})

    result = run_agent(sid, train, store=store, quiet=True)
    assert states(store, sid) == ["finished"]
    assert result.reason == "sweep is finished"


def test_cancel_stops_the_running_function_at_its_next_log(store):
    sid = make_sweep(store)

    def train():
        sweepnb.log({"loss": 1.0})
        sweepnb.cancel(sid, store=store)
        for _ in range(500):
            sweepnb.log({"loss": 1.0})
            time.sleep(0.01)
        raise AssertionError("never reached: the run is cancelled")

    result = run_agent(sid, train, store=store, quiet=True)
    (run,) = store.get_runs(sid)
    assert run["state"] == "stopped"
    assert result.reason == "sweep is cancelled"


def test_ctrl_c_kills_the_run_and_returns_cleanly(store):
    sid = make_sweep(store)

    def train():
        sweepnb.log({"loss": 1.0})
        raise KeyboardInterrupt

    result = run_agent(sid, train, store=store, quiet=True)
    assert states(store, sid) == ["killed"]
    assert "interrupted" in result.reason
    assert list(result.runs.values()) == ["killed"]


def test_ctrl_c_before_init_still_kills_the_claimed_run(store):
    sid = make_sweep(store)

    def train():
        raise KeyboardInterrupt

    run_agent(sid, train, store=store, quiet=True)
    assert states(store, sid) == ["killed"]


def test_unknown_sweep_is_an_error_before_anything_is_written(store):
    with pytest.raises(SweepNotFound, match="nope1234"):
        run_agent("nope1234", lambda: None, store=store)


def test_a_program_sweep_without_program_is_an_error(store):
    sid = make_sweep(store)
    with pytest.raises(SweepnbError, match="no 'program'"):
        run_agent(sid, None, store=store)
    assert states(store, sid) == []


def test_entity_project_sweep_ids_are_accepted(store):
    sid = make_sweep(store)
    result = run_agent(
        f"me/demo/{sid}",
        lambda: sweepnb.log({"loss": 1}),
        count=1,
        store=store,
        quiet=True,
        project="demo",
        entity="me",
    )
    assert len(result.runs) == 1


# -- no run is left running --------------------------------------------------------------------


def test_the_next_claim_marks_runs_of_dead_processes_crashed(store):
    sid = make_sweep(store)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    import socket

    orphan = store.add_run(
        sid, {"x": 1, "opt": {"lr": 0.1}}, host=socket.gethostname(), pid=int(dead.stdout)
    )
    run_agent(sid, lambda: sweepnb.log({"loss": 1}), count=1, store=store, quiet=True)
    record = store.get_run(orphan)
    assert record["state"] == "crashed"
    assert "process is gone" in record["error"]


def test_the_heartbeat_keeps_a_quiet_run_alive(store):
    sid = make_sweep(store)
    beats = []

    def train():
        run = sweepnb.init()
        first = store.get_run(run.id, history=False)["heartbeat"]
        time.sleep(0.5)
        beats.append(store.get_run(run.id, history=False)["heartbeat"] - first)

    run_agent(sid, train, count=1, store=store, quiet=True, heartbeat=0.1)
    assert beats[0] > 0


# -- failure policy (reference §6) -------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def outcomes_until_stop(failures: list[bool], **kw) -> tuple[int, str | None]:
    """Feed run outcomes to a policy; (runs consumed, reason) when it trips."""
    clock = Clock()
    policy = FailurePolicy(clock=clock, **kw)
    for i, failed in enumerate(failures, 1):
        clock.now += 100.0  # far past the first 60 s: only the initial-failure rule applies
        reason = policy.record(failed)
        if reason:
            return i, reason
    return len(failures), None


def test_three_failures_in_the_first_minute_stop_the_agent():
    policy = FailurePolicy(clock=Clock(), max_initial_failures=5)
    assert policy.record(True) is None
    assert policy.record(True) is None
    assert "3 failed runs in the first 60 seconds" in policy.record(True)


def test_five_failures_in_a_row_at_the_start_stop_the_agent():
    n, reason = outcomes_until_stop([True] * 10, max_initial_failures=5)
    assert n == 5
    assert "5 failed runs in a row" in reason


def test_one_success_first_delays_the_stop_to_the_sixth_run():
    n, reason = outcomes_until_stop([False] + [True] * 10, max_initial_failures=5)
    assert (n, reason is not None) == (6, True)


def test_after_two_successes_failures_never_stop_the_agent():
    _, reason = outcomes_until_stop([False, False] + [True] * 20, max_initial_failures=5)
    assert reason is None


def test_flapping_can_be_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("SWEEPNB_AGENT_DISABLE_FLAPPING", "true")
    policy = FailurePolicy(clock=Clock(), max_initial_failures=5)
    assert [policy.record(True) for _ in range(4)] == [None] * 4


def test_an_agent_whose_runs_all_fail_stops_with_the_reason(store, capsys):
    sid = make_sweep(store, {**GRID, "parameters": {"x": {"values": list(range(10))}}})

    def train():
        raise RuntimeError("broken")

    result = run_agent(sid, train, store=store)
    assert len(result.runs) == 3
    assert "3 failed runs in the first 60 seconds" in result.reason
    err = capsys.readouterr().err
    assert "RuntimeError: broken" in err and "shutting down" in err


# -- early termination -------------------------------------------------------------------------


def test_hyperband_stops_runs_that_fall_behind(store, monkeypatch):
    monkeypatch.setattr(termination, "CHECK_INTERVAL", 0.0)
    cfg = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
        "parameters": {"x": {"values": [1, 5, 9]}},
    }
    sid = make_sweep(store, cfg)

    def train(config):
        for _ in range(8):
            sweepnb.log({"loss": config.x})
            time.sleep(0.1)

    run_agent(sid, train, store=store, quiet=True)
    runs = {r["config"]["x"]: r for r in store.get_runs(sid)}
    assert runs[1]["state"] == "finished"
    assert runs[9]["state"] == "stopped"
    assert runs[9]["stop_reason"]["rule"] == "hyperband"
    assert len(runs[9]["history"]) < 8


def test_agent_result_repr_says_what_happened(store):
    sid = make_sweep(store)
    result = run_agent(sid, lambda: sweepnb.log({"loss": 1}), count=2, store=store, quiet=True)
    assert repr(result) == f"AgentResult(sweep '{sid}': 2 finished; ended: count 2 reached)"
    assert os.getpid() == store.get_runs(sid, history=False)[0]["pid"]


def test_the_progress_bar_shows_runs_done_and_the_best_so_far(store, capsys):
    sid = make_sweep(store)
    run_agent(
        sid,
        lambda config: sweepnb.log({"loss": 10 - config.x}),
        store=store,
        quiet=True,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "4run" in err.replace(" ", "")
    assert "best loss=6" in err


def test_an_early_terminated_run_stays_stopped_and_is_not_retried(store):
    sid = sweepnb.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [0, 1]}}},
        store=store,
    )

    def stopped_by_the_sweep(config):
        if config["x"] == 0:
            run = sweepnb.run
            store.request_stop(run.id, {"rule": "median", "message": "below the median"})
        for _ in range(500):
            sweepnb.log({"loss": 1.0})
            time.sleep(0.01)

    run_agent(sid, stopped_by_the_sweep, count=1, store=store, quiet=True)
    assert [r["state"] for r in store.get_runs(sid)] == ["stopped"]
    run_agent(sid, lambda: sweepnb.log({"loss": 0.0}), store=store, quiet=True, retry_failed=True)
    assert sorted(r["config"]["x"] for r in store.get_runs(sid)) == [0, 1]
