"""Parallel agents: speedup of 2 jobs over 1, and overhead against plain joblib / Dask.

    python bench/parallel.py [--runs 200] [--ms 50] [--repeat 3] [--no-dask]

A CPU-bound function of about ``--ms`` ms (a pure-Python loop, calibrated here) runs ``--runs``
times: bare, through ``joblib.Parallel(n_jobs=2)``, and as a sweep (a grid of ``--runs``
points, one ``sweepnb.log`` per run, SQLite store) with ``sweepnb.agent(n_jobs=1)`` and
``n_jobs=2`` (loky); then the same on a Dask ``LocalCluster`` of 2 worker processes. Workers are
warmed up first (process start and imports are paid once per session, not per sweep). Each
figure is the best of ``--repeat`` tries. CPU seconds (this process and its children, so
the workers too) are printed beside wall seconds: on a shared, busy machine wall times mostly
measure the queue, while the CPU overhead of a no-op sweep predicts the idle-machine figures.
Targets (issue 5): speedup >= 1.8 with 2 jobs on 2 cores; plain joblib / sweepnb time >= 0.9.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

import joblib

import sweepnb

LOOPS_PER_CALL = 100_000  # calibrated in main() to about --ms milliseconds


def work(loops: int) -> float:
    """CPU-bound: a pure-Python loop (holds the GIL, like most training steps in Python)."""
    total = 0.0
    for i in range(loops):
        total += (i % 7) * 0.5
    return total


def calibrate(ms: float) -> int:
    """Loops of ``work`` that take about ``ms`` ms of CPU here (best of a few tries)."""
    probe = 200_000
    best = min(_cpu_time(lambda: work(probe)) for _ in range(5))
    return max(1, int(probe * ms / 1e3 / best))


def _cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and all its live child processes."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` calls of ``fn``; CPU counts worker
    processes too, so it shows the overhead even when a busy machine blurs wall times."""
    tries = []
    for _ in range(repeat):
        cpu, start = cpu_seconds(), time.perf_counter()
        fn()
        tries.append((time.perf_counter() - start, cpu_seconds() - cpu))
    return min(tries)


def grid_config(runs: int) -> dict:
    return {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": list(range(runs))}},
    }


def make_train(loops: int) -> Callable:
    def train(config):
        sweepnb.log({"loss": work(loops) + config.x})

    return train


def sweep_time(store: str, runs: int, loops: int, repeat: int, **agent_kw) -> tuple[float, float]:
    """Best wall time of a whole sweep of ``runs`` runs (a fresh sweep each try)."""

    def once() -> None:
        sid = sweepnb.sweep(grid_config(runs), store=store)
        result = sweepnb.agent(sid, make_train(loops), store=store, quiet=True, **agent_kw)
        if result.counts != {"finished": runs}:
            raise RuntimeError(f"sweep did not finish its runs: {result}")

    return best_of(repeat, once)


Timing = tuple[float, float]  # (wall, CPU) seconds


def report(label: str, times: dict[str, Timing], runs: int, ms: float) -> None:
    """Wall and CPU seconds of each mode, then the two target figures (wall and CPU based)."""
    print(f"\n== {label} ==")
    print(f"{'':40s} {'wall s':>8s} {'CPU s':>8s} {'CPU ms/run':>11s}")
    for name, (wall, cpu) in times.items():
        print(f"{name:40s} {wall:8.2f} {cpu:8.2f} {cpu / runs * 1e3:11.1f}")
    bare_w, bare_c = times["bare, 2 jobs"]
    one_w, two_w = times["sweepnb.agent, 1 job"][0], times["sweepnb.agent, 2 jobs"][0]
    two_c = times["sweepnb.agent, 2 jobs"][1]
    print(f"speedup sweepnb 2 jobs / 1 job    : {one_w / two_w:5.2f} wall  (target >= 1.8)")
    print(
        f"ratio bare / sweepnb, 2 jobs      : {bare_w / two_w:5.2f} wall, {bare_c / two_c:5.2f} CPU"
    )
    print(
        "(target >= 0.9; the CPU ratio is what an idle machine would show: the sweepnb overhead "
        f"is {(two_c - bare_c) / runs * 1e3:.1f} ms CPU per run)"
    )
    one = times["sweepnb.agent, 1 job, no-op function"][1] / runs * 1e3
    two = times["sweepnb.agent, 2 jobs, no-op function"][1] / runs * 1e3
    print(
        f"overhead with a no-op function: {one:.1f} ms CPU per run (1 job), {two:.1f} (2 jobs)"
        f" -> on an idle machine: ratio to bare ~ {ms / (ms + two):.2f}, "
        f"speedup 2 jobs / 1 job ~ {2 * (ms + one) / (ms + two):.2f}"
    )


def bench_loky(store: str, runs: int, loops: int, repeat: int, ms: float) -> None:
    sweep_time(store, 4, 1, 1, n_jobs=2)  # warm up the loky workers (start, imports)
    times = {
        "bare, sequential": best_of(repeat, lambda: [work(loops) for _ in range(runs)]),
        "bare, 2 jobs": best_of(
            repeat,
            lambda: joblib.Parallel(n_jobs=2)(joblib.delayed(work)(loops) for _ in range(runs)),
        ),
        "sweepnb.agent, 1 job": sweep_time(store, runs, loops, repeat),
        "sweepnb.agent, 2 jobs": sweep_time(store, runs, loops, repeat, n_jobs=2),
        "sweepnb.agent, 1 job, no-op function": sweep_time(store, runs, 0, repeat),
        "sweepnb.agent, 2 jobs, no-op function": sweep_time(store, runs, 0, repeat, n_jobs=2),
    }
    report("loky processes (this machine)", times, runs, ms)


def bench_dask(store: str, runs: int, loops: int, repeat: int, ms: float) -> None:
    import logging

    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        address = cluster.scheduler_address
        sweep_time(store, 4, 1, 1, n_jobs=2, scheduler=address)  # warm up: imports in workers

        def bare() -> None:
            client.gather(client.map(work, [loops] * runs, pure=False))

        times = {
            "bare, sequential": best_of(repeat, lambda: [work(loops) for _ in range(runs)]),
            "bare, 2 jobs": best_of(repeat, bare),
            "sweepnb.agent, 1 job": sweep_time(store, runs, loops, repeat, scheduler=address),
            "sweepnb.agent, 2 jobs": sweep_time(
                store, runs, loops, repeat, n_jobs=2, scheduler=address
            ),
            "sweepnb.agent, 1 job, no-op function": sweep_time(
                store, runs, 0, repeat, scheduler=address
            ),
            "sweepnb.agent, 2 jobs, no-op function": sweep_time(
                store, runs, 0, repeat, n_jobs=2, scheduler=address
            ),
        }
    report("Dask LocalCluster, 2 worker processes", times, runs, ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    loops = calibrate(args.ms)
    print(
        f"{args.runs} runs of a ~{args.ms:g} ms CPU-bound function ({loops} loops), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "sweeps.db")
        bench_loky(store, args.runs, loops, args.repeat, args.ms)
        if not args.no_dask:
            bench_dask(store, args.runs, loops, args.repeat, args.ms)


if __name__ == "__main__":
    main()
