"""Early termination end to end: hyperband ends runs while they train (issue 6).

Every test drives the real agent on a real SQLite store in ``tmp_path``. The sweep is a grid over
a curve name; the function (or program) logs that scripted learning curve. The expected stops
follow W&B's arithmetic (reference §3): at band b the threshold is the sorted b-th values of
all runs that reached b, at index int(count / eta); a running run strictly worse is stopped.
"""

from __future__ import annotations

import math
import os
import textwrap
import time
from pathlib import Path

import pytest

import sweepnb
from sweepnb.engine.metric import history_values
from sweepnb.engine.search import bayes
from sweepnb.runtime import termination
from sweepnb.runtime.agent import run_agent

# 10 values each; bands with min_iter 3, eta 3: 3, 9 (27 is never reached)
CURVES = {
    # the first run: nothing to compare with, it runs to the end
    "steady": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
    # band 3: values [8, 18] -> threshold sorted[int(2/3)] = 8; 18 > 8: stopped after 3
    "hopeless": [20, 19, 18, 17, 16, 15, 14, 13, 12, 11],
    # band 3: [8, 8, 18] -> threshold sorted[1] = 8; 8 is not > 8: survives;
    # band 9: [2, 5] -> threshold 2; 5 > 2: stopped after 9
    "fader": [10, 9, 8, 7, 6, 6, 6, 5, 5, 5],
    # band 3: [7, 8, 8, 18] -> 8, band 9: [1, 2, 5] -> 2; better at both: finishes
    "leader": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
}
ORDER = ["steady", "hopeless", "fader", "leader"]
HYPERBAND = {"type": "hyperband", "min_iter": 3, "eta": 3}


def sweep_config(early_terminate: dict | None = HYPERBAND, **extra) -> dict:
    cfg = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"curve": {"values": ORDER}},
        **extra,
    }
    if early_terminate is not None:
        cfg["early_terminate"] = early_terminate
    return cfg


def log_curve(config) -> None:
    """The function every test agent runs: log the scripted curve of ``config.curve``."""
    for value in CURVES[config.curve]:
        sweepnb.log({"loss": value})


def runs_by_curve(store, sweep_id: str) -> dict[str, dict]:
    return {run["config"]["curve"]: run for run in store.get_runs(sweep_id)}


def run_sweep(store, cfg: dict, function=log_curve, **kw) -> dict[str, dict]:
    sweep_id = sweepnb.sweep(cfg, store=store)
    run_agent(sweep_id, function, store=store, quiet=True, **kw)
    return runs_by_curve(store, sweep_id)


# -- function runs -----------------------------------------------------------------------------


def test_hyperband_stops_exactly_the_runs_behind_at_a_band(store):
    runs = run_sweep(store, sweep_config())
    assert {c: r["state"] for c, r in runs.items()} == {
        "steady": "finished",
        "hopeless": "stopped",
        "fader": "stopped",
        "leader": "finished",
    }


def test_a_stopped_run_ends_at_the_band_it_failed_with_its_history_kept(store):
    runs = run_sweep(store, sweep_config())
    lengths = {c: len(history_values(r, "loss")) for c, r in runs.items()}
    assert lengths == {"steady": 10, "hopeless": 3, "fader": 9, "leader": 10}
    assert history_values(runs["fader"], "loss") == CURVES["fader"][:9]


def test_the_stop_reason_names_band_threshold_and_value(store):
    runs = run_sweep(store, sweep_config())
    assert runs["hopeless"]["stop_reason"] == {
        "rule": "hyperband",
        "band": 3,
        "threshold": 8,
        "value": 18,
        "message": "Band 3: value 18 > threshold 8",
    }
    fader = runs["fader"]["stop_reason"]
    assert (fader["band"], fader["threshold"], fader["value"]) == (9, 2, 5)
    assert "RunStopped: Band 9" in runs["fader"]["error"]
    assert runs["leader"]["stop_reason"] is None and not runs["leader"]["stop_requested"]


def test_without_early_terminate_nothing_is_stopped(store):
    runs = run_sweep(store, sweep_config(early_terminate=None))
    assert {r["state"] for r in runs.values()} == {"finished"}
    assert all(len(history_values(r, "loss")) == 10 for r in runs.values())
    assert not any(r["stop_requested"] for r in runs.values())


def test_maximize_counts_only_valid_metric_values_as_iterations(store):
    cfg = sweep_config(metric={"name": "acc", "goal": "maximize"})

    def train(config):
        for value in CURVES[config.curve]:
            sweepnb.log({"epoch_started": True})  # rows without the metric are no iteration
            sweepnb.log({"acc": math.nan})  # neither is NaN
            sweepnb.log({"acc": -value})

    runs = run_sweep(store, cfg, train)
    assert runs["hopeless"]["state"] == "stopped"
    assert len(history_values(runs["hopeless"], "acc")) == 3
    assert len(runs["hopeless"]["history"]) == 9
    reason = runs["hopeless"]["stop_reason"]
    assert (reason["value"], reason["threshold"]) == (-18, -8)
    assert reason["message"] == "Band 3: value -18 < threshold -8"


def test_non_strict_judges_the_best_value_so_far(store):
    # the fader's best after 9 values is 5, still > threshold 2: stopped as in strict mode;
    # a run that peaked early survives where strict would stop it
    curves = {**CURVES, "fader": [10, 9, 1, 9, 9, 9, 9, 9, 9, 9]}
    cfg = sweep_config(early_terminate={**HYPERBAND, "strict": False})

    def train(config):
        for value in curves[config.curve]:
            sweepnb.log({"loss": value})

    runs = run_sweep(store, cfg, train)
    assert runs["fader"]["state"] == "finished"
    assert runs["hopeless"]["state"] == "stopped"


def test_a_function_may_poll_should_stop_and_return(store):
    sweep_id = sweepnb.sweep(
        sweep_config(parameters={"curve": {"values": ["steady"]}}), store=store
    )
    seen = {}

    def train():
        run = sweepnb.init()
        sweepnb.log({"loss": 1.0})
        store.request_stop(run.id, {"rule": "test", "message": "asked by another agent"})
        deadline = time.monotonic() + 30
        while not run.should_stop and time.monotonic() < deadline:
            time.sleep(0.01)  # the heartbeat brings the flag
        seen["should_stop"] = run.should_stop

    run_agent(sweep_id, train, store=store, quiet=True, heartbeat=0.05)
    (run,) = store.get_runs(sweep_id)
    assert seen == {"should_stop": True}
    assert run["state"] == "stopped"
    assert run["stop_reason"]["message"] == "asked by another agent"


def test_the_decision_uses_runs_other_agents_wrote_to_the_store(store):
    # a run another agent finished earlier: the hopeless run is judged against it
    sweep_id = sweepnb.sweep(
        sweep_config(parameters={"curve": {"values": ["hopeless"]}}), store=store
    )
    store.add_run(
        sweep_id,
        {"curve": "steady"},
        state="finished",
        history=[{"loss": v, "_step": i} for i, v in enumerate(CURVES["steady"])],
    )
    run_agent(sweep_id, log_curve, store=store, quiet=True)
    run = runs_by_curve(store, sweep_id)["hopeless"]
    assert (run["state"], len(run["history"])) == ("stopped", 3)


def test_parallel_agents_stop_a_run_behind_a_run_of_another_agent(store):
    import joblib

    cfg = sweep_config(parameters={"curve": {"values": ["steady", "hopeless"]}})
    sweep_id = sweepnb.sweep(cfg, store=store)

    def wait_for(condition) -> None:
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)

    def train(config):
        runs = lambda: store.get_runs(sweep_id, history=False)
        if config.curve == "steady":  # both runs in flight, in two agents, at once
            wait_for(lambda: len(runs()) == 2)
        else:
            wait_for(lambda: any(r["state"] == "finished" for r in runs()))
        log_curve(config)

    with joblib.parallel_config(backend="threading"):
        result = sweepnb.agent(sweep_id, train, n_jobs=2, store=store, quiet=True)
    runs = runs_by_curve(store, sweep_id)
    assert len(result.runs) == 2
    assert len({r["agent"] for r in runs.values()}) == 2  # one run in each agent
    assert runs["steady"]["state"] == "finished"
    assert (runs["hopeless"]["state"], len(runs["hopeless"]["history"])) == ("stopped", 3)


# -- program runs ------------------------------------------------------------------------------


PROGRAM = """
import signal, sys, time
import sweepnb
import sweepnb.errors

CURVES = {curves!r}
MODE = {mode!r}
if MODE == "ignore_sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
run = sweepnb.init()
for value in CURVES[run.config["curve"]]:
    try:
        sweepnb.log({{"loss": value}})
    except sweepnb.errors.RunStopped:
        if MODE == "cooperate":
            raise
        time.sleep(120)  # a program that ignores the stop: its agent must end it
"""


@pytest.fixture
def importable_sweepnb(monkeypatch):
    """Programs run from tmp_path import this checkout of sweepnb (whatever the install)."""
    root = str(Path(sweepnb.__file__).resolve().parent.parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )


def program_sweep(store, tmp_path, mode: str, curves: tuple[str, ...] = ("hopeless",)) -> dict:
    """Run the program on ``curves``; a steady run is in the store first unless it is one."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PROGRAM.format(curves=CURVES, mode=mode)))
    cfg = sweep_config(
        parameters={"curve": {"values": list(curves)}},
        program=str(script),
        command=["${interpreter}", "${program}", "${args}"],
    )
    sweep_id = sweepnb.sweep(cfg, store=store)
    if "steady" not in curves:  # spares a program start (each imports sweepnb: seconds)
        history = [{"loss": v, "_step": i} for i, v in enumerate(CURVES["steady"])]
        store.add_run(sweep_id, {"curve": "steady"}, state="finished", history=history)
    run_agent(sweep_id, store=store, quiet=True, kill_delay=0.5)
    return runs_by_curve(store, sweep_id)


def test_a_program_run_ends_at_its_next_log_once_flagged(store, tmp_path, importable_sweepnb):
    runs = program_sweep(store, tmp_path, "cooperate", ("steady", "hopeless"))
    assert runs["steady"]["state"] == "finished"
    hopeless = runs["hopeless"]
    assert (hopeless["state"], len(hopeless["history"])) == ("stopped", 3)
    assert hopeless["stop_reason"]["band"] == 3
    assert hopeless["error"].startswith("stopped: Band 3")  # exit 1, or SIGTERM if first


def test_a_program_ignoring_the_stop_gets_sigterm(store, tmp_path, importable_sweepnb):
    hopeless = program_sweep(store, tmp_path, "ignore_stop")["hopeless"]
    assert (hopeless["state"], len(hopeless["history"])) == ("stopped", 3)
    assert "exit code -15" in hopeless["error"]
    assert hopeless["stop_reason"]["message"] == "Band 3: value 18 > threshold 8"


def test_a_program_ignoring_sigterm_gets_sigkill_after_the_grace_period(
    store, tmp_path, importable_sweepnb
):
    hopeless = program_sweep(store, tmp_path, "ignore_sigterm")["hopeless"]
    assert (hopeless["state"], len(hopeless["history"])) == ("stopped", 3)
    assert "exit code -9" in hopeless["error"]


# -- the monitor ---------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_monitor_checks_at_most_once_per_interval_unless_forced(store):
    sweep_id = sweepnb.sweep(sweep_config(), store=store)
    clock = Clock()
    monitor = termination.Monitor(
        store, sweep_id, store.get_sweep(sweep_id)["config"], interval=1.0, clock=clock
    )
    monitor.check()
    monitor.check()
    clock.now += 0.5
    monitor.check()
    monitor.check(force=True)
    clock.now += 1.0
    monitor.check()
    assert monitor.checks == 3


def test_monitor_due_is_the_one_throttle_even_without_early_terminate(store):
    # the agent polls a program run's stop flag at this pace, with or without a stopping rule
    sweep_id = sweepnb.sweep(sweep_config(early_terminate=None), store=store)
    clock = Clock()
    monitor = termination.Monitor(
        store, sweep_id, store.get_sweep(sweep_id)["config"], interval=1.0, clock=clock
    )
    assert [monitor.due(), monitor.due()] == [True, False]
    clock.now += 0.5
    assert monitor.due() is False
    clock.now += 0.5
    assert [monitor.due(), monitor.due()] == [True, False]
    assert monitor.checks == 0


def test_a_forced_check_restarts_the_interval_of_due(store):
    sweep_id = sweepnb.sweep(sweep_config(), store=store)
    clock = Clock()
    monitor = termination.Monitor(
        store, sweep_id, store.get_sweep(sweep_id)["config"], interval=1.0, clock=clock
    )
    clock.now += 5.0
    monitor.check(force=True)
    assert monitor.due() is False


def test_monitor_flags_a_run_once_with_its_reason(store):
    sweep_id = sweepnb.sweep(sweep_config(), store=store)
    store.add_run(
        sweep_id,
        {"curve": "steady"},
        state="finished",
        history=[{"loss": v} for v in CURVES["steady"]],
    )
    bad = store.add_run(
        sweep_id, {"curve": "hopeless"}, history=[{"loss": v} for v in CURVES["hopeless"][:4]]
    )
    monitor = termination.Monitor(store, sweep_id, store.get_sweep(sweep_id)["config"])
    assert list(monitor.check(force=True)) == [bad]
    assert monitor.check(force=True) == {}
    assert store.heartbeat(bad)["stop"] is True
    assert store.get_run(bad)["stop_reason"]["band"] == 3


def test_monitor_without_early_terminate_reads_nothing_and_attaches_nothing(store):
    sweep_id = sweepnb.sweep(sweep_config(early_terminate=None), store=store)
    monitor = termination.Monitor(store, sweep_id, store.get_sweep(sweep_id)["config"])
    run = sweepnb.Run(run_id=None)
    monitor.watch(run)
    assert (run.on_log, run.on_flush, monitor.check(force=True), monitor.checks) == (
        None,
        None,
        {},
        0,
    )


def test_band_crossings_are_counted_per_run_on_valid_values(store):
    cfg = sweep_config()
    monitor = termination.Monitor(store, "unused", cfg)
    rows = [{"loss": 1}, {"other": 2}, {"loss": math.nan}, {"loss": 2}, {"loss": 3}]
    assert [monitor.reached_band("a", row) for row in rows] == [False] * 4 + [True]
    assert monitor.reached_band("b", {"loss": 1}) is False


def test_checkpoints_are_the_hyperband_bands():
    cfg = sweep_config(early_terminate={"type": "hyperband", "max_iter": 27, "s": 2})
    assert termination.checkpoints(cfg) == {3, 9}
    median = termination.checkpoints(sweep_config(early_terminate={"type": "median"}))
    assert sorted(median)[:3] == [3, 6, 12]  # min_iter, then each doubling
    assert termination.checkpoints(sweep_config(early_terminate=None)) == set()


def test_negative_interval_is_an_error_naming_it(store):
    with pytest.raises(ValueError, match="interval"):
        termination.Monitor(store, "x", sweep_config(), interval=-1)


# -- stopped runs as observations ----------------------------------------------------------------


def test_bayes_observes_a_stopped_run_at_its_best_value_so_far(store):
    cfg = sweep_config()
    runs = run_sweep(store, cfg)
    loaded = sweepnb.engine.load_config(cfg)
    assert bayes.run_target(loaded, runs["fader"], worst=None) == min(CURVES["fader"][:9])
    assert bayes.run_target(loaded, runs["hopeless"], worst=None) == 18
