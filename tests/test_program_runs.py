"""Program runs end to end: `sweepnb agent` in a subprocess runs a real training script.

The script joins its run through the environment (``sweepnb.init()``), logs to the store, and
misbehaves on demand: crashes, SIGKILLs itself, never logs the metric, ignores SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import sweepnb
from sweepnb.runtime.agent import run_agent

ROOT = Path(__file__).resolve().parent.parent
SHELL_TEXT = "a; rm -rf x $(touch pwned) `touch pwned2` > out"

TRAIN = """
import argparse, os, signal, sys, time
import sweepnb

parser = argparse.ArgumentParser()
parser.add_argument("--mode")
parser.add_argument("--x", type=float)
parser.add_argument("--text")
args = parser.parse_args()
run = sweepnb.init(config={"extra": 7})
if args.mode == "nolog":
    sys.exit(0)
sweepnb.log({"loss": args.x, "text": args.text, "extra": run.config.extra,
             "mode_seen": run.config.mode, "argc": len(sys.argv), "pid": os.getpid()})
if args.mode == "crash":
    print("boom: the model diverged", file=sys.stderr)
    sys.exit(3)
if args.mode == "sigkill":
    os.kill(os.getpid(), signal.SIGKILL)
if args.mode == "wait":
    time.sleep(600)
if args.mode == "hang":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.05)
"""


def write_sweep(tmp_path: Path, modes: list[str]) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    cfg = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "mode": {"values": modes},
            "x": {"value": 0.5},
            "text": {"value": SHELL_TEXT},
        },
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def cli(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEPNB_AGENT_DISABLE_FLAPPING": "true"}
    env.pop("SWEEPNB_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "sweepnb", *args, "--store", "s.db"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """One CLI agent over five misbehaving program runs (shared: each run starts a Python)."""
    tmp_path = tmp_path_factory.mktemp("programs")
    write_sweep(tmp_path, ["ok", "crash", "sigkill", "nolog"])
    created = cli(tmp_path, "sweep", "sweep.yaml")
    assert created.returncode == 0, created.stderr
    sweep_id = created.stdout.split("Created sweep with ID: ")[1].split()[0]
    agent = cli(tmp_path, "agent", sweep_id)
    store = sweepnb.Store(tmp_path / "s.db")
    runs = {r["config"]["mode"]: r for r in store.get_runs(sweep_id)}
    return tmp_path, sweep_id, agent, runs


def test_the_agent_command_runs_every_program_run_and_exits_0(finished_sweep):
    _, _, agent, runs = finished_sweep
    assert agent.returncode == 0, agent.stderr
    assert sorted(runs) == ["crash", "nolog", "ok", "sigkill"]
    assert "no more runs" in agent.stderr


def test_the_program_joins_its_run_and_logs_to_the_store(finished_sweep):
    _, _, _, runs = finished_sweep
    ok = runs["ok"]
    assert ok["state"] == "finished"
    (row,) = ok["history"]
    assert row["loss"] == 0.5
    assert row["mode_seen"] == "ok"  # the swept config reached sweepnb.init() in the program
    assert row["extra"] == 7  # and the program's own defaults were merged under it


def test_a_shell_looking_value_stays_one_argv_element(finished_sweep):
    tmp_path, _, _, runs = finished_sweep
    row = runs["ok"]["history"][0]
    assert row["text"] == SHELL_TEXT
    assert row["argc"] == 4  # train.py --mode=ok --text=... --x=0.5
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_a_crashing_program_fails_with_the_tail_of_its_stderr(finished_sweep):
    _, _, _, runs = finished_sweep
    crash = runs["crash"]
    assert crash["state"] == "failed"
    assert "exit code 3" in crash["error"]
    assert "boom: the model diverged" in crash["error"]
    assert crash["history"]  # what it logged before failing is kept


def test_a_program_killed_by_a_signal_it_was_not_sent_crashed(finished_sweep):
    _, _, _, runs = finished_sweep
    assert runs["sigkill"]["state"] == "crashed"
    assert "SIGKILL" in runs["sigkill"]["error"]


def test_a_program_that_never_logs_the_metric_finishes_without_a_value(finished_sweep):
    tmp_path, sweep_id, _, runs = finished_sweep
    assert runs["nolog"]["state"] == "finished"
    assert runs["nolog"]["history"] == []
    df = sweepnb.runs(sweep_id, store=tmp_path / "s.db")
    assert df.set_index("id").loss.isna()[runs["nolog"]["id"]]


def test_show_lists_runs_best_first_with_why_they_ended(finished_sweep):
    tmp_path, sweep_id, _, runs = finished_sweep
    shown = cli(tmp_path, "show", sweep_id)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    order = [line.split()[0] for line in lines[2:]]
    # ok, crash and sigkill all logged loss 0.5 (ties keep creation order); nolog has none
    assert order == [runs[m]["id"] for m in ("ok", "crash", "sigkill", "nolog")]
    assert "boom: the model diverged" in lines[3]
    assert "killed by signal SIGKILL" in lines[4]


def test_cancel_terminates_a_program_that_ignores_sigterm(tmp_path, monkeypatch):
    write_sweep(tmp_path, ["hang"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    store = sweepnb.Store(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(str(tmp_path / "sweep.yaml"), store=store)
    result = {}
    agent = threading.Thread(
        target=lambda: result.update(
            r=run_agent(sweep_id, None, store=store, kill_delay=1.0, heartbeat=0.2, quiet=True)
        )
    )
    agent.start()
    for _ in range(1200):  # until the program has logged (it then ignores SIGTERM forever)
        runs = store.get_runs(sweep_id)
        if runs and runs[0]["history"]:
            break
        time.sleep(0.1)
    sweepnb.cancel(sweep_id, store=store)
    agent.join(timeout=120)
    (run,) = store.get_runs(sweep_id)
    assert run["state"] == "stopped"
    assert "the sweep was cancelled" in run["error"]
    assert "exit code -9" in run["error"]  # SIGTERM was ignored, SIGKILL ended it
    assert result["r"].reason == "sweep is cancelled"


def test_ctrl_c_stops_the_program_run_and_the_agent_exits_cleanly(tmp_path):
    write_sweep(tmp_path, ["wait", "ok"])
    store = sweepnb.Store(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(str(tmp_path / "sweep.yaml"), store=store)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    agent = subprocess.Popen(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id, "--store", "s.db"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = None
    for _ in range(1200):  # until the program has logged its pid (it then sleeps)
        runs = store.get_runs(sweep_id)
        if runs and "pid" in runs[0]["summary"]:
            child = runs[0]["summary"]["pid"]
            break
        time.sleep(0.1)
    agent.send_signal(signal.SIGINT)
    _, err = agent.communicate(timeout=120)
    assert agent.returncode == 130, err
    (run,) = store.get_runs(sweep_id)  # the agent claimed nothing after the interrupt
    assert run["state"] == "killed"
    assert "interrupted" in err
    with pytest.raises(ProcessLookupError):  # the program did not outlive its agent
        os.kill(child, 0)
