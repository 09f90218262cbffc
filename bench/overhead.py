"""Overhead of the running layer: ms per run through ``sweepnb.agent``, µs per ``sweepnb.log``.

    python bench/overhead.py [--runs 500] [--steps 100000]

Targets (issue 3): <= 5 ms per run for a no-op function (random search, default SQLite store),
<= 20 µs per ``sweepnb.log`` call. Runs in a temporary directory (its ./.sweepnb/sweeps.db).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import sweepnb

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
        "layers": {"values": [1, 2, 3]},
    },
}


def per_run_ms(runs: int) -> tuple[float, float]:
    """(wall, CPU) ms per run of a no-op function, claim to finish included."""
    sweep_id = sweepnb.sweep(CONFIG)
    sweepnb.agent(sweep_id, lambda: None, count=1, quiet=True)  # warm-up: imports, schema
    wall, cpu = time.perf_counter(), time.process_time()
    sweepnb.agent(sweep_id, lambda: None, count=runs, quiet=True)
    return ((time.perf_counter() - wall) / runs * 1e3, (time.process_time() - cpu) / runs * 1e3)


def per_log_us(steps: int, mode: str | None = None) -> tuple[float, float]:
    """(wall, CPU) µs per ``sweepnb.log`` call of a standalone run (store writes included)."""
    with sweepnb.init(config={"lr": 0.1}, mode=mode):
        wall, cpu = time.perf_counter(), time.process_time()
        for step in range(steps):
            sweepnb.log({"loss": 1.0 / (step + 1), "epoch": step})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / steps * 1e6, cpu / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.pop("SWEEPNB_STORE", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        # CPU time is printed too: on a busy machine the wall time mostly measures the queue
        wall, cpu = per_run_ms(args.runs)
        print(
            f"agent, no-op function, {args.runs} runs: {wall:.2f} ms per run wall, "
            f"{cpu:.2f} ms CPU (target <= 5)"
        )
        wall, cpu = per_log_us(args.steps)
        print(
            f"sweepnb.log, {args.steps} steps, SQLite store: {wall:.2f} µs per call wall, "
            f"{cpu:.2f} µs CPU (target <= 20)"
        )
        wall, cpu = per_log_us(args.steps, "disabled")
        print(
            f"sweepnb.log, {args.steps} steps, mode='disabled': {wall:.2f} µs per call wall, "
            f"{cpu:.2f} µs CPU"
        )


if __name__ == "__main__":
    main()
