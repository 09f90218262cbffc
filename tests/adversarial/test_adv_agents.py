"""Agents against faults in their runs' processes (issue 16 points 1, 3-5; issue 14 points 5, 8;
issue 13's first interrupt): one dead worker costs one run, a user's Ctrl-C is told apart from
early termination and retried, a program's whole process tree belongs to its run, ``sys.exit``
ends only its run, and a first SIGINT to the process group lets the running runs finish.

Every test runs real processes (loky workers, ``sweepnb agent`` subprocesses, programs) on a
real SQLite store; waits poll the store or the process table with a generous limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from helpers import WAIT, grid, wait_for

import sweepnb
from sweepnb.runtime.agent import run_agent

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cli_agent(sid: str, db: Path, *extra: str, cwd: Path) -> subprocess.Popen:
    """``sweepnb agent`` in a session of its own, so the test can signal its process group."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SWEEPNB_STORE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "sweepnb", "agent", sid, "--store", str(db), *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# -- 1. one dead worker costs one run ----------------------------------------------------------


def die_at_step_5_for_x_2(config):
    for step in range(20):
        sweepnb.log({"loss": float(step)})
        time.sleep(0.05)
        if config["x"] == 2 and step == 5:
            os._exit(1)


def test_a_worker_that_dies_crashes_only_its_own_run_with_four_jobs(store):
    sid = sweepnb.sweep(grid(12), store=store)
    result = sweepnb.agent(sid, die_at_step_5_for_x_2, count=12, n_jobs=4, store=store, quiet=True)
    runs = store.get_runs(sid)
    states = sorted(r["state"] for r in runs)
    assert states == ["crashed"] + ["finished"] * 11
    (crashed,) = [r for r in runs if r["state"] == "crashed"]
    assert crashed["config"]["x"] == 2
    assert all(len(r["history"]) == 20 for r in runs if r["state"] == "finished")
    assert sorted(r["config"]["x"] for r in runs) == list(range(12))  # the count was kept
    assert result.counts == {"crashed": 1, "finished": 11}


# -- 2. a user's stop is not an early termination, and is retried ------------------------------


def test_a_grid_point_interrupted_at_step_41_is_killed_and_run_again_by_retry_failed(store):
    sid = sweepnb.sweep(grid(3), store=store)

    def interrupted_once(config):
        for step in range(60):
            sweepnb.log({"loss": float(step)})
            if config["x"] == 1 and step == 40:
                raise KeyboardInterrupt  # Ctrl-C at step 41 of 60

    run_agent(sid, interrupted_once, store=store, quiet=True)
    (interrupted,) = [r for r in store.get_runs(sid) if r["config"]["x"] == 1]
    assert interrupted["state"] == "killed"  # not "stopped", the early-termination state
    assert len(interrupted["history"]) == 41

    def complete(config):
        for step in range(60):
            sweepnb.log({"loss": float(step)})

    run_agent(sid, complete, store=store, quiet=True)
    xs = sorted(r["config"]["x"] for r in store.get_runs(sid))
    assert xs == [0, 1, 2]  # without the flag the killed point is not run again
    run_agent(sid, complete, store=store, quiet=True, retry_failed=True)
    redone = [r for r in store.get_runs(sid) if r["config"]["x"] == 1 and r["state"] == "finished"]
    assert len(redone) == 1 and len(redone[0]["history"]) == 60


# -- 3. a program's whole process tree belongs to its run --------------------------------------

BACKGROUND = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
open(sys.argv[1], "w").write(str(child.pid))  # the child inherits our stdout and stderr
"""

SLEEPER = """
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(300)
"""


def program_sweep(tmp_path: Path, text: str, n: int, store: Any) -> str:
    program = tmp_path / "train.py"
    program.write_text(text)
    cfg = grid(n, program=str(program))
    cfg["command"] = ["${interpreter}", "${program}", str(tmp_path / "pid-${args_no_hyphens}")]
    return sweepnb.sweep(cfg, store=store)


def test_a_background_child_left_by_a_program_is_ended_with_its_run(tmp_path, store):
    sid = program_sweep(tmp_path, BACKGROUND, 1, store)
    run_agent(sid, store=store, quiet=True)
    (run,) = store.get_runs(sid)
    assert run["state"] == "finished"
    (pid_file,) = tmp_path.glob("pid-*")
    child = int(pid_file.read_text())
    wait_for("the program's background child to end", lambda: not alive(child))


def test_a_program_dies_with_its_agent_even_when_the_agent_is_sigkilled(tmp_path):
    db = tmp_path / "s.db"
    sid = program_sweep(tmp_path, SLEEPER, 1, sweepnb.Store(db))
    agent = cli_agent(sid, db, cwd=tmp_path)
    try:
        pid_file = wait_for("the program's pid", lambda: next(tmp_path.glob("pid-*"), None))
        program = int(wait_for("the pid written", pid_file.read_text))
        agent.kill()
        agent.communicate(timeout=WAIT)
        wait_for("the program to die with its agent", lambda: not alive(program))
    finally:
        agent.kill()
        if "program" in locals() and alive(program):
            os.kill(program, signal.SIGKILL)


# -- 4. sys.exit ends only its run; a failing agent says so ------------------------------------


def test_sys_exit_ends_only_its_run_with_its_code_and_the_agent_goes_on(store):
    sid = sweepnb.sweep(grid(4), store=store)

    def exits(config):
        sweepnb.log({"loss": float(config["x"])})
        if config["x"] == 0:
            sys.exit(0)
        if config["x"] == 1:
            sys.exit(3)
        if config["x"] == 2:
            sys.exit()

    result = run_agent(sid, exits, store=store, quiet=True)
    runs = {r["config"]["x"]: r for r in store.get_runs(sid)}
    assert [runs[x]["state"] for x in range(4)] == ["finished", "failed", "finished", "finished"]
    assert runs[1]["error"] == "SystemExit: 3"
    assert len(result.runs) == 4


def test_sys_exit_in_parallel_agents_does_not_escape(store):
    sid = sweepnb.sweep(grid(4), store=store)

    def exits(config):
        sweepnb.log({"loss": 1.0})
        sys.exit(5 if config["x"] == 1 else 0)

    result = sweepnb.agent(sid, exits, n_jobs=2, store=store, quiet=True)
    assert result.counts == {"failed": 1, "finished": 3}


def test_an_agent_stopped_by_the_failure_policy_exits_non_zero_from_the_cli(tmp_path):
    db = tmp_path / "s.db"
    program = tmp_path / "train.py"
    program.write_text("import sys; sys.exit(1)\n")
    cfg = grid(20, program=str(program))
    cfg["command"] = ["${interpreter}", "${program}"]
    sid = sweepnb.sweep(cfg, store=sweepnb.Store(db))
    agent = cli_agent(sid, db, cwd=tmp_path)
    _, err = agent.communicate(timeout=WAIT * 2)
    assert "failed runs" in err
    assert agent.returncode == 1
    assert len(sweepnb.Store(db).get_runs(sid)) < 20


def test_the_api_result_says_the_failure_policy_stopped_the_agent(store):
    sid = sweepnb.sweep(grid(20), store=store)
    result = sweepnb.agent(sid, lambda: 1 / 0, store=store, quiet=True)
    assert result.gave_up and "failed runs" in result.reason
    finished = sweepnb.agent(sid, lambda: sweepnb.log({"loss": 0.0}), count=2, store=store)
    assert not finished.gave_up


# -- 5. a first SIGINT to the process group lets the running runs finish -----------------------

STEPPER = """
import sys, time
import sweepnb
sweepnb.init()
for step in range(30):
    sweepnb.log({"loss": float(step)})
    time.sleep(0.1)
"""


def stepper_sweep(tmp_path: Path, db: Path) -> str:
    program = tmp_path / "train.py"
    program.write_text(STEPPER)
    cfg = grid(6, program=str(program))
    cfg["command"] = ["${interpreter}", "${program}", "${args}"]
    return sweepnb.sweep(cfg, store=sweepnb.Store(db))


def two_running(store: Any, sid: str) -> list[dict]:
    runs = [r for r in store.get_runs(sid) if r["state"] == "running" and r["history"]]
    return runs if len(runs) == 2 else []


def test_a_first_sigint_to_the_agents_process_group_lets_both_running_runs_finish(tmp_path):
    db = tmp_path / "s.db"
    sid = stepper_sweep(tmp_path, db)
    store = sweepnb.Store(db)
    agent = cli_agent(sid, db, "--count", "6", "--jobs", "2", cwd=tmp_path)
    try:
        running = wait_for("two runs logging", lambda: two_running(store, sid))
        os.killpg(agent.pid, signal.SIGINT)  # Ctrl-C in a terminal: the foreground group
        _, err = agent.communicate(timeout=WAIT)
    finally:
        agent.kill()
    assert agent.returncode == 130, err
    assert "interrupt again" in err
    runs = store.get_runs(sid)
    assert {r["id"] for r in runs} == {r["id"] for r in running}  # no new run started
    assert [r["state"] for r in runs] == ["finished", "finished"]
    assert all(len(r["history"]) == 30 for r in runs)


def test_a_second_sigint_kills_the_running_runs_now(tmp_path):
    db = tmp_path / "s.db"
    sid = stepper_sweep(tmp_path, db)
    store = sweepnb.Store(db)
    agent = cli_agent(sid, db, "--count", "6", "--jobs", "2", cwd=tmp_path)
    try:
        wait_for("two runs logging", lambda: two_running(store, sid))
        os.killpg(agent.pid, signal.SIGINT)
        time.sleep(0.5)  # let the parent take the first interrupt before the second
        os.killpg(agent.pid, signal.SIGINT)
        _, err = agent.communicate(timeout=WAIT)
    finally:
        agent.kill()
    assert agent.returncode == 130, err
    runs = store.get_runs(sid)
    assert [r["state"] for r in runs] == ["killed", "killed"]
    assert all(len(r["history"]) < 30 for r in runs)


def test_a_program_that_finished_its_run_is_not_crashed_when_its_agent_died_first(tmp_path):
    """Issue 14.5: the agent died after its program wrote its whole history and ended cleanly,
    before recording the state: the reaper finds the program's own end and says finished."""
    from sweepnb.runtime.run import Run
    from sweepnb.store import Store

    store = Store(tmp_path / "s.db")
    sid = store.create_sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}
    )
    dead_pid = 2**22 + 12345  # no such process: the agent is gone
    complete = store.claim_run(sid, lambda s, r: {"x": 1}, host="h", pid=dead_pid, agent="a")
    cut = store.claim_run(sid, lambda s, r: {"x": 2}, host="h", pid=dead_pid, agent="a")
    # the program's side of a run (owner=False: its agent records the final state)
    program = Run(store=store, run_id=complete["id"], sweep_id=sid, config={"x": 1}, owner=False)
    for step in range(5):
        program.log({"loss": float(step)})
    program.end("finished")
    cut_program = Run(store=store, run_id=cut["id"], sweep_id=sid, config={"x": 2}, owner=False)
    cut_program.log({"loss": 1.0})
    cut_program.flush()  # killed mid-run: no end of its own
    store.reap(sid, stale_after=0, now=time.time() + 60)
    runs = {r["id"]: r for r in store.get_runs(sid)}
    assert runs[complete["id"]]["state"] == "finished"
    assert len(runs[complete["id"]]["history"]) == 5
    assert "its program had finished the run" in runs[complete["id"]]["error"]
    assert runs[cut["id"]]["state"] == "crashed"
