"""Parallel agents through joblib (loky processes, Dask), GPUs per agent, and fault tolerance.

Everything runs for real: loky worker processes, a ``distributed.LocalCluster`` of processes,
SQLite files and the PostgreSQL server of ``conftest.py``. Functions defined here travel to the
workers by value (cloudpickle), like functions defined in a notebook.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import joblib
import pytest
from helpers import WAIT, grid, wait_for

import sweepnb
from sweepnb.errors import SweepnbError
from sweepnb.runtime.parallel import MAX_BARREN_RESTARTS, parse_gpus

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(target()), daemon=True)
    thread.start()
    return thread, out


# -- loky processes ----------------------------------------------------------------------------


def test_metrics_logged_in_workers_reach_the_store_while_runs_go(store, tmp_path):
    release = tmp_path / "release"
    sid = sweepnb.sweep(grid(2), store=store)

    def train(config):
        sweepnb.log({"loss": float(config.x), "pid": os.getpid()})
        deadline = time.monotonic() + WAIT
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        sweepnb.log({"loss": float(config.x) + 1})

    thread, out = in_thread(lambda: sweepnb.agent(sid, train, n_jobs=2, store=store, quiet=True))

    def both_live():
        live = [r for r in store.get_runs(sid) if r["state"] == "running" and r["history"]]
        return live if len(live) == 2 else None

    live = wait_for("both runs to have history while running", both_live)
    release.touch()
    thread.join(WAIT)
    assert len(live) == 2
    assert len({r["history"][0]["pid"] for r in live} - {os.getpid()}) == 2
    assert out[0].counts == {"finished": 2}
    assert all(len(r["history"]) == 2 for r in store.get_runs(sid))


def test_each_parallel_agent_gets_its_own_cuda_visible_devices(store):
    sid = sweepnb.sweep(grid(6), store=store)
    before = os.environ.get("CUDA_VISIBLE_DEVICES")

    def train(config):
        time.sleep(0.05)
        sweepnb.log({"loss": 0.0, "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")})

    sweepnb.agent(sid, train, gpus="3,5", store=store, quiet=True)  # one agent per GPU id
    runs = store.get_runs(sid)
    assert len(runs) == 6
    assert {r["agent"].rsplit("-", 1)[1] for r in runs} <= {"0", "1"}
    expected = {"0": "3", "1": "5"}  # agent i (name ends with -i) gets the i-th id
    assert all(r["summary"]["gpu"] == expected[r["agent"].rsplit("-", 1)[1]] for r in runs)
    assert os.environ.get("CUDA_VISIBLE_DEVICES") == before


def test_gpus_are_refused_with_threads_which_share_one_environment(store):
    sid = sweepnb.sweep(grid(2), store=store)
    with joblib.parallel_config(backend="threading"), pytest.raises(SweepnbError, match="gpus"):
        sweepnb.agent(sid, lambda: None, n_jobs=2, gpus="0,1", store=store)
    assert store.get_runs(sid) == []


@pytest.mark.parametrize("bad", ["0,,1", "a b", [True], ""])
def test_a_bad_gpu_list_is_an_error_naming_gpus(bad):
    with pytest.raises(SweepnbError, match="gpus"):
        parse_gpus(bad)


def test_a_bad_backend_is_an_error_naming_backend(store):
    sid = sweepnb.sweep(grid(2), store=store)
    with pytest.raises(SweepnbError, match="backend"):
        sweepnb.agent(sid, lambda: None, n_jobs=2, backend="no-such-backend", store=store)


def test_a_worker_killed_mid_run_crashes_its_run_and_the_sweep_goes_on(store, tmp_path):
    marker = tmp_path / "killed"
    sid = sweepnb.sweep(grid(6), store=store)

    def train(config):
        sweepnb.log({"loss": float(config.x)})  # the first row is written at once
        if config.x == 1 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.05)

    result = sweepnb.agent(sid, train, n_jobs=2, store=store, quiet=True)
    runs = store.get_runs(sid)
    (killed,) = [r for r in runs if r["config"]["x"] == 1]
    assert killed["state"] == "crashed" and killed["history"]
    assert "process is gone" in killed["error"]
    # loky ends the other worker too (its run, if any, crashed); the agents were restarted
    assert sorted(r["config"]["x"] for r in runs) == list(range(6))
    assert {r["state"] for r in runs} <= {"finished", "crashed"}
    assert sum(r["state"] == "finished" for r in runs) >= 4
    assert result.runs[killed["id"]] == "crashed"
    assert store.get_sweep(sid)["state"] == "finished"


def test_after_a_kernel_interrupt_running_runs_finish_and_the_next_agent_resumes(store):
    import _thread

    sid = sweepnb.sweep(grid(30), store=store)

    def slow(config):
        for _ in range(10):
            sweepnb.log({"loss": float(config.x)})
            time.sleep(0.05)

    def interrupt_after_a_run() -> None:
        wait_for(
            "a finished run",
            lambda: any(r["state"] == "finished" for r in store.get_runs(sid, history=False)),
        )
        _thread.interrupt_main()  # what Jupyter's "interrupt the kernel" does

    threading.Thread(target=interrupt_after_a_run, daemon=True).start()
    result = sweepnb.agent(sid, slow, n_jobs=2, store=store, quiet=True)
    assert "interrupted" in result.reason
    assert running_run(store, sid) is None
    runs = store.get_runs(sid)
    assert len(runs) < 30 and all(r["state"] == "finished" for r in runs)
    assert all(len(r["history"]) == 10 for r in runs)  # the running runs went to their end
    sweepnb.agent(sid, lambda: sweepnb.log({"loss": 0.0}), n_jobs=2, store=store, quiet=True)
    assert sorted(r["config"]["x"] for r in store.get_runs(sid)) == list(range(30))


def test_agents_give_up_when_every_run_kills_its_worker(store):
    sid = sweepnb.sweep(grid(20), store=store)

    def train():
        os.kill(os.getpid(), signal.SIGKILL)

    result = sweepnb.agent(sid, train, n_jobs=2, store=store, quiet=True)
    assert "gave up" in result.reason
    runs = store.get_runs(sid)
    assert runs and all(r["state"] == "crashed" for r in runs)
    assert len(runs) <= 2 * MAX_BARREN_RESTARTS  # at most one run per agent per attempt


def test_an_agent_that_only_fails_is_stopped_and_the_other_finishes_the_grid(store):
    sid = sweepnb.sweep(grid(10), store=store)
    url = store.url

    def train(config):
        if os.environ["CUDA_VISIBLE_DEVICES"] == "1":
            raise RuntimeError("CUDA error: no device 1")
        own = sweepnb.Store(url)  # hold back until the other agent has failed 3 times
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if sum(r["state"] == "failed" for r in own.get_runs(sid, history=False)) >= 3:
                break
            time.sleep(0.05)
        sweepnb.log({"loss": float(config.x)})

    result = sweepnb.agent(sid, train, n_jobs=2, gpus="0,1", store=store, quiet=True)
    runs = store.get_runs(sid)
    failed = [r for r in runs if r["state"] == "failed"]
    assert len(failed) == 3  # W&B's policy: 3 failures in the first 60 s end that agent
    assert all("Traceback" in r["error"] and "no device 1" in r["error"] for r in failed)
    assert sorted(r["config"]["x"] for r in runs) == list(range(10))
    assert sum(r["state"] == "finished" for r in runs) == 7
    assert "failed runs" in result.reason
    assert store.get_sweep(sid)["state"] == "finished"


def test_retry_failed_runs_failed_grid_points_again_once(store):
    sid = sweepnb.sweep(grid(4), store=store)

    def odd_fails(config):
        if config.x % 2:
            raise ValueError("odd")
        sweepnb.log({"loss": float(config.x)})

    sweepnb.agent(sid, odd_fails, store=store, quiet=True)
    assert store.get_sweep(sid)["state"] == "finished"
    again = sweepnb.agent(sid, odd_fails, store=store, quiet=True, retry_failed=True)
    assert again.counts == {"failed": 2}  # each failed point once, not in a loop
    fixed = sweepnb.agent(
        sid, lambda: sweepnb.log({"loss": 0.0}), n_jobs=2, store=store, retry_failed=True
    )
    assert fixed.counts == {"finished": 2}
    finished = sorted(r["config"]["x"] for r in store.get_runs(sid) if r["state"] == "finished")
    assert finished == [0, 1, 2, 3]


# -- Dask ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    import logging

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


def _worker_pids(cluster: Any) -> set[int]:
    import distributed

    with distributed.Client(cluster) as client:
        return set(client.run(os.getpid).values())


def _log_pid(config):
    time.sleep(0.05)
    sweepnb.log({"loss": float(config.x), "pid": os.getpid()})


def test_agents_run_on_a_dask_cluster_given_its_scheduler_address(dask_cluster, store_url):
    sid = sweepnb.sweep(grid(6), store=store_url)
    result = sweepnb.agent(
        sid, _log_pid, n_jobs=2, scheduler=dask_cluster.scheduler_address, store=store_url
    )
    runs = sweepnb.Store(store_url).get_runs(sid)
    assert result.counts == {"finished": 6}
    assert sorted(r["config"]["x"] for r in runs) == list(range(6))
    assert {r["summary"]["pid"] for r in runs} <= _worker_pids(dask_cluster)


def test_joblib_dask_config_under_a_client_runs_the_agents_on_the_cluster(dask_cluster, store):
    import distributed

    sid = sweepnb.sweep(grid(4), store=store)
    with distributed.Client(dask_cluster), joblib.parallel_config("dask"):
        result = sweepnb.agent(sid, _log_pid, n_jobs=2, store=store, quiet=True)
    runs = store.get_runs(sid)
    assert result.counts == {"finished": 4}
    assert {r["summary"]["pid"] for r in runs} <= _worker_pids(dask_cluster)
    assert os.getpid() not in {r["summary"]["pid"] for r in runs}


def test_ctrl_c_in_the_parent_stops_the_agents_running_on_a_dask_cluster(dask_cluster, store):
    import _thread

    sid = sweepnb.sweep(grid(200), store=store)

    def train(config):
        for _ in range(20):
            sweepnb.log({"loss": float(config.x)})
            time.sleep(0.05)

    def interrupt_after_a_run() -> None:
        wait_for("a finished run", lambda: any(r["state"] == "finished" for r in runs()))
        _thread.interrupt_main()

    def runs() -> list[dict]:
        return store.get_runs(sid, history=False)

    threading.Thread(target=interrupt_after_a_run, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sweepnb.agent(
            sid, train, n_jobs=2, scheduler=dask_cluster.scheduler_address, store=store, quiet=True
        )

    def settled() -> bool:  # no run going and none started for 2 s: the agents ended
        before = len(runs())
        time.sleep(2.0)
        return running_run(store, sid) is None and len(runs()) == before

    wait_for("the agents on the cluster to stop", settled)
    assert len(runs()) < 20  # they did not go on through the grid


def test_dask_backend_without_a_scheduler_or_client_is_a_clear_error(store):
    sid = sweepnb.sweep(grid(2), store=store)
    with pytest.raises(SweepnbError, match="scheduler"):
        sweepnb.agent(sid, _log_pid, n_jobs=2, backend="dask", store=store)


def test_a_dask_worker_killed_mid_run_crashes_its_run_and_the_other_agent_goes_on(
    dask_cluster, store, tmp_path
):
    marker = tmp_path / "killed"
    sid = sweepnb.sweep(grid(6), store=store)

    def train(config):
        sweepnb.log({"loss": float(config.x)})
        if config.x == 1 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.1)

    sweepnb.agent(
        sid, train, n_jobs=2, scheduler=dask_cluster.scheduler_address, store=store, quiet=True
    )
    runs = store.get_runs(sid)
    (killed,) = [r for r in runs if r["config"]["x"] == 1]
    assert killed["state"] == "crashed" and "process is gone" in killed["error"]
    # Dask restarts the worker and reschedules its agent; the other worker is left alone
    assert sorted(r["config"]["x"] for r in runs) == list(range(6))
    assert all(r["state"] == "finished" for r in runs if r["id"] != killed["id"])


# -- the CLI agent in a subprocess: sweep control and being killed -------------------------------

PROGRAM = """\
import pathlib, sys, time
x = int(sys.argv[1].split("=")[1])
pathlib.Path(sys.argv[0]).with_name(f"pid-{x}").write_text(str(__import__("os").getpid()))
time.sleep(60 if x == LONG else 0.2)
"""


def program_sweep(tmp_path: Path, n: int, long: int, db: Path) -> str:
    """A grid sweep whose program sleeps 0.2 s, or 60 s for ``x == long`` (no sweepnb import:
    fast to start)."""
    program = tmp_path / "train.py"
    program.write_text(PROGRAM.replace("LONG", str(long)))
    cfg = {**grid(n), "program": str(program)}
    cfg["command"] = ["${interpreter}", "${program}", "${args}"]
    return sweepnb.sweep(cfg, store=db)


def start_cli_agent(sid: str, db: Path, *extra: str) -> Any:
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-m", "sweepnb", "agent", sid, "--store", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def running_run(store: Any, sid: str, x: int | None = None) -> dict | None:
    for run in store.get_runs(sid, history=False):
        if run["state"] == "running" and (x is None or run["config"]["x"] == x):
            return run
    return None


def kill_program(tmp_path: Path, x: int) -> None:
    """End a program run left behind by a killed agent (it runs in its own session)."""
    pid_file = tmp_path / f"pid-{x}"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_pause_from_python_ends_the_cli_agent_after_its_run_and_resume_goes_on(tmp_path):
    db = tmp_path / "sweeps.db"
    sid = program_sweep(tmp_path, 12, long=-1, db=db)
    store = sweepnb.Store(db)
    agent = start_cli_agent(sid, db)
    wait_for("a finished run", lambda: any(r["state"] == "finished" for r in store.get_runs(sid)))
    sweepnb.pause(sid, store=store)
    paused_at = time.time()
    _, err = agent.communicate(timeout=WAIT)
    assert agent.returncode == 0 and "sweep is paused" in err
    runs = store.get_runs(sid, history=False)
    assert len(runs) < 12
    assert all(r["created"] <= paused_at for r in runs)  # no claim after the pause
    assert all(r["state"] == "finished" for r in runs)
    sweepnb.resume(sid, store=store)
    sweepnb.agent(sid, store=store, quiet=True)  # program runs, in this process
    assert sorted(r["config"]["x"] for r in store.get_runs(sid)) == list(range(12))


def test_cancel_from_python_stops_the_running_run_of_the_cli_agent(tmp_path):
    db = tmp_path / "sweeps.db"
    sid = program_sweep(tmp_path, 3, long=0, db=db)
    store = sweepnb.Store(db)
    agent = start_cli_agent(sid, db)
    run = wait_for("the long run", lambda: running_run(store, sid, 0))
    sweepnb.cancel(sid, store=store)
    agent.communicate(timeout=WAIT)
    ended = store.get_run(run["id"])
    assert ended["state"] == "stopped" and "cancel" in ended["error"]
    assert len(store.get_runs(sid)) == 1
    assert store.get_sweep(sid)["state"] == "cancelled"


def test_sigterm_to_the_cli_agent_records_its_running_run_killed(tmp_path):
    db = tmp_path / "sweeps.db"
    sid = program_sweep(tmp_path, 3, long=0, db=db)
    store = sweepnb.Store(db)
    agent = start_cli_agent(sid, db)
    run = wait_for("the long run", lambda: running_run(store, sid, 0))
    agent.send_signal(signal.SIGTERM)
    agent.communicate(timeout=WAIT)
    assert agent.returncode == 130
    assert store.get_run(run["id"])["state"] == "killed"
    assert running_run(store, sid) is None


def test_after_sigkill_of_the_cli_agent_the_next_agent_crashes_its_run_and_resumes(tmp_path):
    db = tmp_path / "sweeps.db"
    sid = program_sweep(tmp_path, 5, long=2, db=db)
    store = sweepnb.Store(db)
    agent = start_cli_agent(sid, db)
    killed = wait_for("the long run", lambda: running_run(store, sid, 2))
    agent.kill()
    agent.communicate(timeout=WAIT)
    kill_program(tmp_path, 2)
    sweepnb.agent(sid, store=store, quiet=True)  # the next agent, on the same host
    runs = store.get_runs(sid)
    assert store.get_run(killed["id"])["state"] == "crashed"
    assert sorted(r["config"]["x"] for r in runs) == list(range(5))  # grid went on, no repeat
    assert all(r["state"] == "finished" for r in runs if r["id"] != killed["id"])
    # --retry-failed runs the crashed point again (quickly now: the program is told x=2 ...)
    Path(store.get_sweep(sid)["config"]["program"]).write_text(PROGRAM.replace("LONG", "-1"))
    from sweepnb.cli import main

    assert main(["agent", sid, "--store", str(db), "--retry-failed"]) == 0
    again = [r for r in store.get_runs(sid) if r["config"]["x"] == 2]
    assert [r["state"] for r in again] == ["crashed", "finished"]


# -- credentials -----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_cli_messages_never_show_the_postgresql_password(fresh_pg_url, tmp_path, capsys):
    from urllib.parse import urlsplit

    from sweepnb.cli import main

    password = urlsplit(fresh_pg_url).password
    assert password
    program = tmp_path / "train.py"
    program.write_text("print('training')\n")
    config = tmp_path / "sweep.yaml"
    config.write_text(f"method: grid\nprogram: {program}\nparameters:\n  x:\n    values: [1, 2]\n")
    unreachable = fresh_pg_url.replace(
        f"@{urlsplit(fresh_pg_url).netloc.split('@')[1]}", "@127.0.0.1:9"
    )
    outputs = []

    def cli(*argv: str) -> int:
        code = main(list(argv))
        out, err = capsys.readouterr()
        outputs.append(out + err)
        return code

    assert cli("sweep", str(config), "--store", fresh_pg_url) == 0
    sid = outputs[-1].split("Created sweep with ID: ")[1].split()[0]
    assert cli("agent", sid, "--count", "1", "--store", fresh_pg_url) == 0
    assert cli("ls", "--store", fresh_pg_url) == 0
    assert cli("show", sid, "--store", fresh_pg_url) == 0
    assert cli("sweep", "--pause", sid, "--store", fresh_pg_url) == 0
    assert cli("agent", "nosuchid", "--store", fresh_pg_url) == 2
    assert cli("agent", sid, "--store", unreachable) == 2
    assert "127.0.0.1:9" in outputs[-1]  # the error says where it could not connect...
    assert not [text for text in outputs if password in text]  # ...but never the password
