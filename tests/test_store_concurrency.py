"""Four real agent processes claim, log and finish runs on one store at the same time.

What must hold (issue 5): no "database is locked" (or any other) error, no grid point handed out
twice, ``run_cap`` never exceeded, and every logged history row present afterwards. Run once on
a SQLite file and once on PostgreSQL. The processes also open the brand-new store at the same
moment, so creating its schema races too.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import time
import traceback

import pytest

from sweepnb.store import Store

N_AGENTS = 4
RUN_CAP = 48  # 4 agents x 12 runs: enough claims racing to prove the lock, at ~1/4 the cost
POINTS = [{"x": i, "optimizer": {"lr": 10.0 ** -(i % 5)}} for i in range(RUN_CAP + 60)]


def propose_first_free_point(sweep: dict, runs: list[dict]) -> dict | None:
    """The test's search: the first grid point no run has yet; None at run_cap or exhaustion."""
    if len(runs) >= sweep["config"]["run_cap"]:
        return None
    taken = {r["config"]["x"] for r in runs}
    return next((p for p in POINTS if p["x"] not in taken), None)


def expected_rows(x: int) -> list[dict]:
    """The history rows an agent logs for the run at grid point ``x`` (2 to 5 rows, one NaN)."""
    rows = [{"_step": s, "loss": x + s / 10, "epoch": s} for s in range(2 + x % 4)]
    rows[0]["nan"] = float("nan")
    return rows


def shared_sweep(store: Store, name: str) -> str:
    """agent-0 creates the sweep; the others wait until it exists."""
    if name == "agent-0":
        return store.create_sweep(
            {"method": "grid", "run_cap": RUN_CAP, "parameters": {}}, name="shared"
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [s["id"] for s in store.list_sweeps() if s["name"] == "shared"]
        if found:
            return found[0]
        time.sleep(0.02)
    raise TimeoutError("agent-0 never created the sweep")


def agent_process(store: Store, sweep_id: str | None, name: str, start, results) -> None:
    """One agent: claim until the sweep is done; log each run's rows in two writes; finish it.

    ``sweep_id=None``: find (or, as agent-0, create) the shared sweep first.
    """
    claimed: list[str] = []
    try:
        start.wait(timeout=120)
        if sweep_id is None:
            sweep_id = shared_sweep(store, name)
        start.wait(timeout=120)  # again: every agent has its connection and the sweep id
        while True:
            run = store.claim_run(
                sweep_id,
                propose_first_free_point,
                host=socket.gethostname(),
                pid=os.getpid(),
                agent=name,
            )
            if run is None:
                break
            claimed.append(run["id"])
            # a run takes time in a real agent; without it, on a loaded machine one process can
            # drain the sweep before the others are scheduled, and the claims never race
            time.sleep(0.02)
            rows = expected_rows(run["config"]["x"])
            store.log(run["id"], rows[:1])
            store.heartbeat(run["id"])
            store.log(run["id"], rows[1:], summary={"loss": rows[-1]["loss"]})
            if len(claimed) % 10 == 0:
                store.reap(sweep_id, stale_after=120.0)
            store.finish_run(run["id"], "finished", summary={"agent": name})
        results.put((name, claimed, None))
    except BaseException:  # noqa: BLE001 - the parent reports whatever went wrong
        results.put((name, claimed, traceback.format_exc()))


def run_agents(store: Store) -> dict[str, list[str]]:
    """Start N_AGENTS spawned processes released together; return each one's claimed run ids."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(N_AGENTS), ctx.Queue()
    processes = [
        ctx.Process(target=agent_process, args=(store, None, f"agent-{i}", start, results))
        for i in range(N_AGENTS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [f"{name}:\n{error}" for name, _, error in outcomes if error]
    assert not errors, "\n".join(errors)
    return {name: claimed for name, claimed, _ in outcomes}


@pytest.mark.slow
def test_four_agents_share_one_store(any_store):
    claimed = run_agents(any_store)  # the store is empty: the agents create its schema and sweep

    (sweep,) = any_store.list_sweeps()
    runs = any_store.get_runs(sweep["id"])
    all_claimed = [run_id for ids in claimed.values() for run_id in ids]
    assert len(runs) == RUN_CAP  # run_cap reached, never exceeded
    assert sorted(all_claimed) == sorted(r["id"] for r in runs)  # no run handed out twice
    assert sum(1 for ids in claimed.values() if ids) >= 2  # the claims really did race
    points = [r["config"]["x"] for r in runs]
    assert len(set(points)) == RUN_CAP  # no grid point twice
    assert all(r["config"] == POINTS[r["config"]["x"]] for r in runs)
    for run in runs:
        assert run["state"] == "finished"
        assert run["agent"] in claimed and run["id"] in claimed[run["agent"]]
        assert _same_rows(run["history"], expected_rows(run["config"]["x"])), run["id"]
        assert run["summary"]["loss"] == expected_rows(run["config"]["x"])[-1]["loss"]


def _same_rows(got: list[dict], want: list[dict]) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g.keys() != w.keys():
            return False
        for key, value in w.items():
            both_nan = isinstance(value, float) and math.isnan(value) and math.isnan(g[key])
            same = both_nan or g[key] == value
            if not same:
                return False
    return True


def threaded_agents(store: Store, sweep_id: str, n_threads: int) -> list[str]:
    """Run agent loops in threads sharing one Store object; return every claimed run id."""
    import queue
    import threading

    start, results = threading.Barrier(n_threads), queue.Queue()
    threads = [
        threading.Thread(target=agent_process, args=(store, sweep_id, f"t{i}", start, results))
        for i in range(n_threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    outcomes = [results.get_nowait() for _ in threads]
    errors = [error for _, _, error in outcomes if error]
    assert not errors, "\n".join(errors)
    return [run_id for _, claimed, _ in outcomes for run_id in claimed]


def test_threads_share_one_store_object(any_store):
    sweep_id = any_store.create_sweep({"method": "grid", "run_cap": 40, "parameters": {}})
    claimed = threaded_agents(any_store, sweep_id, 4)
    runs = any_store.get_runs(sweep_id)
    assert len(runs) == 40 and sorted(claimed) == sorted(r["id"] for r in runs)
    assert len({r["config"]["x"] for r in runs}) == 40
