"""Innocent runs crashed per dead worker: parallel agents where some runs kill their own process.

    python bench/worker_isolation.py [--jobs 4] [--runs 24] [--deaths 3] [--steps 20]

A grid of ``--runs`` points runs with ``sweepnb.agent(n_jobs=--jobs)`` (loky); ``--deaths`` of
them (spread over the grid) end their process with ``os._exit(1)`` at step 5 of ``--steps``. A run
is innocent when it did not kill itself; the figure wanted is 0 innocent runs crashed per dead
worker (issue 16), with every other planned run finished.
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time

import sweepnb


def make_train(dying: set[int], steps: int):
    def train(config):
        for step in range(steps):
            sweepnb.log({"loss": float(step)})
            time.sleep(0.02)
            if config["x"] in dying and step == 5:
                os._exit(1)

    return train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--deaths", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    dying = set(range(1, args.runs, max(1, args.runs // args.deaths))[: args.deaths])
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{tmp}/bench.db"
        cfg = {"method": "grid", "parameters": {"x": {"values": list(range(args.runs))}}}
        sid = sweepnb.sweep(cfg, store=store)
        start = time.perf_counter()
        sweepnb.agent(
            sid, make_train(dying, args.steps), args.runs, n_jobs=args.jobs, store=store, quiet=True
        )
        wall = time.perf_counter() - start
        runs = sweepnb.Store(store).get_runs(sid, history=False)
    states = collections.Counter(r["state"] for r in runs)
    innocent = sum(r["state"] == "crashed" and r["config"]["x"] not in dying for r in runs)
    print(f"{args.jobs} jobs, {args.runs} grid points, {len(dying)} runs kill their process")
    print(f"runs: {dict(sorted(states.items()))} in {wall:.1f} s")
    print(f"innocent runs crashed: {innocent} ({innocent / len(dying):.2f} per dead worker)")


if __name__ == "__main__":
    main()
