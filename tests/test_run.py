"""sweepnb.init / log / config / summary and the Run object, on a real SQLite store."""

from __future__ import annotations

import time

import numpy as np
import pytest

import sweepnb
from sweepnb.errors import RunStopped, SweepnbError
from sweepnb.runtime import run as runmod
from sweepnb.runtime.run import Config

# -- Config ----------------------------------------------------------------------------------


def test_config_gives_attribute_and_item_access_at_every_depth():
    cfg = Config({"lr": 0.1, "optimizer": {"name": "adam", "betas": {"b1": 0.9}}})
    assert cfg.lr == cfg["lr"] == 0.1
    assert cfg.optimizer.name == cfg["optimizer"]["name"] == "adam"
    assert cfg.optimizer.betas.b1 == 0.9


def test_config_missing_attribute_names_the_key():
    with pytest.raises(AttributeError, match="'epochs'"):
        _ = Config({"lr": 0.1}).epochs


def test_config_update_deep_merges_and_as_dict_is_plain():
    cfg = Config({"opt": {"lr": 0.1, "beta": 0.9}})
    cfg.update({"opt": {"lr": 0.2}, "seed": 1}, allow_val_change=True)
    assert cfg.as_dict() == {"opt": {"lr": 0.2, "beta": 0.9}, "seed": 1}
    assert type(cfg.as_dict()["opt"]) is dict


def test_config_update_refuses_to_change_a_value_without_allow_val_change():
    from sweepnb.runtime.run_config import ConfigChangeError

    cfg = Config({"opt": {"lr": 0.1}, "epochs": 3})
    with pytest.raises(ConfigChangeError, match="config.lr: update\\(\\) would change 0.1 to 0.2"):
        cfg.update({"opt": {"lr": 0.2}})
    cfg.update({"epochs": 3, "new": 1})  # the same value, or a new key: fine
    assert cfg.as_dict() == {"opt": {"lr": 0.1}, "epochs": 3, "new": 1}
    assert "allow_val_change" not in cfg


def test_config_accepts_attribute_assignment_and_namespaces():
    import argparse

    cfg = Config(argparse.Namespace(lr=0.5))
    cfg.epochs = 3
    assert dict(cfg) == {"lr": 0.5, "epochs": 3}


# -- standalone runs ---------------------------------------------------------------------------


def test_standalone_run_is_recorded_in_the_store_without_a_sweep(store):
    with sweepnb.init(config={"lr": 0.1}, project="demo", store=store) as run:
        sweepnb.log({"loss": 2.0})
        sweepnb.log({"loss": 1.0})
    record = store.get_run(run.id)
    assert record["sweep_id"] is None
    assert record["state"] == "finished"
    assert record["config"] == {"lr": 0.1}
    assert record["project"] == "demo"
    assert [row["loss"] for row in record["history"]] == [2.0, 1.0]
    assert [row["_step"] for row in record["history"]] == [0, 1]


def test_disabled_mode_records_nothing_but_keeps_the_summary():
    with sweepnb.init(config={"x": 1}, mode="disabled") as run:
        sweepnb.log({"loss": 3.0, "acc": 0.1})
        sweepnb.log({"loss": 1.0})
        sweepnb.log({"loss": 2.0})
    assert run.id is None
    assert run.summary["loss"] == 2.0  # last value
    assert run.summary["acc"] == 0.1


def test_summary_keeps_the_best_value_of_the_sweep_metric():
    run = runmod.Run(metric={"name": "acc", "goal": "maximize"})
    runmod.activate(run)
    for acc in (0.5, 0.9, 0.7):
        sweepnb.log({"acc": acc})
    assert run.summary["acc"] == 0.7
    assert run.summary["_best"] == 0.9


def test_log_steps_count_up_and_an_explicit_step_is_kept(store):
    with sweepnb.init(store=store) as run:
        sweepnb.log({"a": 1})
        sweepnb.log({"a": 2}, step=10)
        sweepnb.log({"a": 3})
    steps = [row["_step"] for row in store.get_run(run.id)["history"]]
    assert steps == [0, 10, 11]


def test_numpy_values_are_logged_as_plain_numbers(store):
    with sweepnb.init(store=store) as run:
        sweepnb.log({"loss": np.float32(0.5), "n": np.int64(3), "v": np.arange(2)})
    row = store.get_run(run.id)["history"][0]
    assert row["loss"] == 0.5 and row["n"] == 3 and row["v"] == [0, 1]


def test_an_exception_in_the_with_block_fails_the_run_with_its_traceback(store):
    with pytest.raises(ZeroDivisionError), sweepnb.init(store=store) as run:
        sweepnb.log({"loss": 1.0})
        1 / 0  # noqa: B018
    record = store.get_run(run.id)
    assert record["state"] == "failed"
    assert "ZeroDivisionError" in record["error"]


def test_finish_ends_the_run_and_a_later_log_is_an_error(store):
    run = sweepnb.init(store=store)
    sweepnb.log({"loss": 1.0})
    sweepnb.finish()
    assert store.get_run(run.id)["state"] == "finished"
    with pytest.raises(SweepnbError, match="finish"):
        run.log({"loss": 2.0})


def test_log_without_a_run_says_to_call_init():
    with pytest.raises(SweepnbError, match=r"sweepnb.init\(\)"):
        sweepnb.log({"loss": 1.0})


def test_sweepnb_config_is_the_active_runs_config():
    with sweepnb.init(config={"lr": 0.3, "opt": {"name": "sgd"}}, mode="disabled"):
        assert sweepnb.config.lr == 0.3
        assert sweepnb.config["opt"].name == "sgd"
        assert "lr" in sweepnb.config
        sweepnb.config.update({"extra": 1})
        assert sweepnb.config.extra == 1
    assert sweepnb.config.lr == 0.3  # the last run's config stays readable, like wandb.config


# -- batching and the stop flag ----------------------------------------------------------------


class CountingStore:
    """A real store that counts its log() writes (delegates everything)."""

    def __init__(self, store):
        self._store, self.writes = store, 0

    def log(self, *args, **kw):
        self.writes += 1
        return self._store.log(*args, **kw)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_logs_are_batched_and_none_is_lost(store):
    counting = CountingStore(store)
    run_id = store.add_run(None, {})
    run = runmod.Run(store=counting, run_id=run_id)
    runmod.activate(run)
    started = time.monotonic()
    for i in range(2000):
        sweepnb.log({"i": i})
    elapsed = time.monotonic() - started
    run.finish()
    history = store.get_run(run_id)["history"]
    assert [row["i"] for row in history] == list(range(2000))
    # at most one write per FLUSH_INTERVAL while logging, plus the first one and the final one
    assert counting.writes <= elapsed / runmod.FLUSH_INTERVAL + 2
    assert counting.writes < 2000


def test_a_stop_request_raises_run_stopped_at_a_following_log(store):
    run = sweepnb.init(store=store)
    sweepnb.log({"loss": 1.0})
    store.request_stop(run.id, {"rule": "hyperband", "message": "below the band threshold"})
    with pytest.raises(RunStopped, match="below the band threshold"):
        for _ in range(200):
            sweepnb.log({"loss": 1.0})
            time.sleep(0.01)
    assert run.should_stop


def test_run_stopped_in_the_with_block_records_the_run_as_stopped(store):
    with pytest.raises(RunStopped), sweepnb.init(store=store) as run:
        store.request_stop(run.id, {"rule": "cancel", "message": "the sweep was cancelled"})
        for _ in range(200):
            sweepnb.log({"loss": 1.0})
            time.sleep(0.01)
    assert store.get_run(run.id)["state"] == "stopped"


def test_commit_false_values_join_the_next_row(store):
    with sweepnb.init(store=store) as run:
        sweepnb.log({"lr": 0.1}, commit=False)
        sweepnb.log({"loss": 1.0})
    (row,) = store.get_run(run.id)["history"]
    assert (row["lr"], row["loss"], row["_step"]) == (0.1, 1.0, 0)


def test_wandb_run_is_the_active_run_and_none_outside_one(store):
    import sweepnb as wandb

    assert wandb.run is None
    with wandb.init(store=store) as run:
        assert wandb.run is run
        assert wandb.run.id == run.id
        assert wandb.run.should_stop is False
    assert wandb.run is None


@pytest.mark.parametrize("step", ["3", 1.5, -1, True])
def test_log_refuses_a_step_that_is_not_a_non_negative_integer_and_names_it(store, step):
    run = sweepnb.init(store=store)
    with pytest.raises(TypeError, match=r"step"):
        sweepnb.log({"loss": 1.0}, step=step)
    run.finish()


# -- lifecycle (what the agent loop and the monitor call) ---------------------------------------


def test_end_records_the_state_and_error_once_and_the_first_end_wins(store):
    run_id = store.add_run(None, {})
    run = runmod.Run(store=store, run_id=run_id)
    run.log({"loss": 0.5})
    run.end("failed", error="Traceback: boom")
    run.end("finished")
    record = store.get_run(run_id)
    assert (run.state, record["state"], record["error"]) == ("failed", "failed", "Traceback: boom")
    assert [row["loss"] for row in record["history"]] == [0.5]


def test_end_stops_the_run_being_the_active_one_but_keeps_its_config_reachable():
    run = runmod.Run(config={"lr": 0.1})
    runmod.activate(run)
    assert sweepnb.run is run
    run.end("finished")
    assert sweepnb.run is None
    assert sweepnb.config.lr == 0.1


def test_deactivate_leaves_no_active_run_and_forget_drops_the_last_one():
    run = runmod.Run(config={"lr": 0.1})
    runmod.activate(run)
    runmod.deactivate()
    assert runmod.current() is None and sweepnb.config.lr == 0.1
    runmod.deactivate(forget=True)
    with pytest.raises(AttributeError, match="no run yet"):
        sweepnb.config.lr  # noqa: B018


def test_flush_writes_buffered_rows_now_and_takes_the_stop_flag(store):
    run_id = store.add_run(None, {})
    run = runmod.Run(store=store, run_id=run_id)
    run.log({"loss": 1.0})
    run.log({"loss": 2.0})  # within FLUSH_INTERVAL of the first write: buffered
    store.request_stop(run_id, {"rule": "hyperband", "message": "behind"})
    run.flush()
    assert [row["loss"] for row in store.get_run(run_id)["history"]] == [1.0, 2.0]
    assert run.should_stop and run.stop_reason["message"] == "behind"
    run.end("stopped")


def test_apply_control_turns_a_cancelled_sweep_into_a_stop():
    run = runmod.Run()
    run.apply_control({"stop": False, "sweep_state": "cancelled"})
    assert run.sweep_state == "cancelled" and run.stop_reason["rule"] == "cancel"
    with pytest.raises(RunStopped, match="cancelled"):
        run.log({"loss": 1.0})


def test_an_attached_heartbeat_relays_the_stop_flag_until_the_run_ends(store):
    from sweepnb.runtime.heartbeat import Heartbeat

    run_id = store.add_run(None, {})
    run = runmod.Run(store=store, run_id=run_id)
    beat = Heartbeat(store, interval=0.01)
    beat.start()
    try:
        run.attach_heartbeat(beat)
        store.request_stop(run_id, {"rule": "cancel", "message": "stop it"})
        for _ in range(500):
            if run.should_stop:
                break
            time.sleep(0.01)
        assert run.should_stop
        run.end("stopped")
        assert beat.is_alive()  # the agent's thread outlives its runs
    finally:
        beat.stop()


def test_start_heartbeat_beats_with_a_thread_of_its_own_that_ends_with_the_run(store):
    run_id = store.add_run(None, {})
    run = runmod.Run(store=store, run_id=run_id)
    before = store.get_run(run_id, history=False)["heartbeat"]
    run.start_heartbeat(interval=0.01)
    for _ in range(500):
        if (store.get_run(run_id, history=False)["heartbeat"] or 0) > (before or 0):
            break
        time.sleep(0.01)
    assert (store.get_run(run_id, history=False)["heartbeat"] or 0) > (before or 0)
    run.end("finished")
    assert store.get_run(run_id, history=False)["state"] == "finished"


def test_the_run_module_no_longer_answers_for_the_active_run():
    with pytest.raises(AttributeError):
        runmod.id  # noqa: B018


# -- the flush timer (issue 23.1): nothing logged waits for the next log() ----------------------

_LOG_THEN_SLEEP = """
import sys, time
import sweepnb

run = sweepnb.init(store=sys.argv[1])
sweepnb.log({"acc": 0.1})  # written at once: the run's first write
sweepnb.log({"acc": 0.5})  # within FLUSH_INTERVAL of that write: buffered
print(run.id, flush=True)
time.sleep(600)  # one long epoch: no other log() call comes
"""


def test_a_buffered_row_reaches_the_store_without_another_log_and_survives_sigkill(tmp_path):
    import signal
    import subprocess
    import sys

    from helpers import checkout_pythonpath

    from sweepnb.store import Store

    url = f"sqlite:///{tmp_path / 'sweeps.db'}"
    env = {**__import__("os").environ, "PYTHONPATH": checkout_pythonpath()}
    process = subprocess.Popen(
        [sys.executable, "-c", _LOG_THEN_SLEEP, url], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        run_id = process.stdout.readline().strip()
        assert run_id, "the subprocess printed no run id"
        time.sleep(2.0)  # the timer writes within FLUSH_DELAY (0.5 s) of the log() call
        history = Store(url).get_run(run_id)["history"]
        assert [row["acc"] for row in history] == [0.1, 0.5]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        record = Store(url).get_run(run_id)
        assert [row["acc"] for row in record["history"]] == [0.1, 0.5]
        assert record["summary"]["acc"] == 0.5
    finally:
        process.kill()
        process.wait(timeout=60)


def test_the_flush_timer_writes_the_rows_but_leaves_on_flush_to_the_runs_thread(store):
    import threading

    flushed_on = []
    run = runmod.Run(store=store, run_id=store.add_run(None, {}))
    run.on_flush = lambda r: flushed_on.append(threading.current_thread().name)
    run.log({"loss": 1.0})  # the first write: flush() on this thread
    run.log({"loss": 0.5})  # buffered: the timer's
    deadline = time.monotonic() + 60
    while len(store.get_run(run.id)["history"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [row["loss"] for row in store.get_run(run.id)["history"]] == [1.0, 0.5]
    assert flushed_on == [threading.current_thread().name]
    run.end("finished")


def test_the_flush_timer_does_nothing_for_a_run_that_has_ended(store):
    run = runmod.Run(store=store, run_id=store.add_run(None, {}))
    run.log({"loss": 1.0})
    run.log({"loss": 0.5})
    run.end("finished")  # writes the buffer itself
    run.timer_flush()  # the timer firing late: no second write, no error
    assert [row["loss"] for row in store.get_run(run.id)["history"]] == [1.0, 0.5]
