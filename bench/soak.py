"""A soak: many short runs through parallel agents on one SQLite sweep, and how the rate holds up.

    python bench/soak.py [--runs 4000] [--jobs 2] [--window 400]

Each run logs 5 rows. Prints runs per second over the first and the last ``window`` runs (from
the runs' start and end times in the store), their ratio, and the totals: runs lost (claimed but
not ended), duplicates (two runs of one config are allowed: random search), incomplete histories.
Issue 16 measured 37 runs/s at the start and 21 at the end of a 17,390-run soak.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sweepnb
from sweepnb.store import Store

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0}},
}


def train() -> None:
    for step in range(5):
        sweepnb.log({"loss": sweepnb.config.lr * (5 - step)})


def rate(runs: list[dict]) -> float:
    span = max(r["ended"] for r in runs) - min(r["started"] or r["created"] for r in runs)
    return len(runs) / span if span > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--window", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = str(Path(tmp) / "soak.db")
        sid = sweepnb.sweep(CONFIG, store=url)
        start = time.perf_counter()
        sweepnb.agent(sid, train, count=args.runs, store=url, n_jobs=args.jobs, quiet=True)
        wall = time.perf_counter() - start
        runs = sorted(Store(url).get_runs(sid), key=lambda r: r["ended"] or 0.0)
        ended = [r for r in runs if r["ended"] is not None]
        first, last = rate(ended[: args.window]), rate(ended[-args.window :])
        lost = sum(r["state"] == "running" for r in runs)
        incomplete = sum(r["state"] == "finished" and len(r["history"]) != 5 for r in runs)
        print(f"sweepnb {sweepnb.__version__}: {len(runs)} runs, {args.jobs} jobs, SQLite")
        print(f"runs/s first {args.window}: {first:.1f}   last {args.window}: {last:.1f}")
        print(f"ratio last/first: {last / first:.2f}   overall: {len(runs) / wall:.1f} runs/s")
        print(f"lost: {lost}   incomplete: {incomplete}   states: ", end="")
        print({s: sum(r["state"] == s for r in runs) for s in sorted({r["state"] for r in runs})})


if __name__ == "__main__":
    main()
