"""Milliseconds per bayes suggestion as a sweep grows: sweepnb vs Optuna GP / TPE (issue 22).

    python bench/scaling.py                      # the RESULTS.md table: 100 ... 10,000 runs
    python bench/scaling.py --sizes 100,1000 --engines sweepnb-bayes

For each size n: n finished runs of Hartmann6 at random configs (the same for every engine),
then ``--asks`` suggestions, each followed by one more finished run (what an agent's claim
sees: the sweep grew by the run that just ended). Printed: the median ms per suggestion, and the
first suggestion at that size on its own (sweepnb then encodes every run; later ones only the
new run). sweepnb is asked as its agents ask it (``engine.suggest`` on the store's run dicts);
Optuna through ``study.ask()`` and the trial's ``suggest_float`` calls, its n trials added with
``study.add_trial``. An engine whose suggestion takes over ``--cap`` seconds is not run at the
larger sizes. All in this process, one engine after the other, on one core (BLAS threads 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import finished_run
from parallel_bayes import positive_ints
from problems import PROBLEMS
from tuners import missing_modules

PROBLEM = PROBLEMS["hartmann6"]
SIZES = (100, 200, 1000, 2000, 5000, 10000)
ENGINES = ("sweepnb-bayes", "optuna-gp", "optuna-tpe")


def random_configs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{name: float(rng.random()) for name in PROBLEM.parameters} for _ in range(n)]


def finished(i: int, config: dict) -> dict:
    """A finished run of the problem, with the version the store's runs carry."""
    return {**finished_run(i, config, PROBLEM.objective(config)), "version": 1}


def time_sweepnb(n: int, asks: int) -> list[float]:
    from sweepnb import engine

    cfg = engine.load_config(
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": PROBLEM.parameters}
    )
    runs = [finished(i, c) for i, c in enumerate(random_configs(n, seed=n))]
    out = []
    for k in range(asks):
        t0 = time.perf_counter()
        (config,) = engine.suggest(cfg, runs, seed=k)
        out.append(time.perf_counter() - t0)
        runs = [*runs, finished(len(runs), config)]  # a new list, the same run dicts
    return out


def time_optuna(sampler: str, n: int, asks: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    make = {
        "gp": lambda: optuna.samplers.GPSampler(seed=0),
        "tpe": lambda: optuna.samplers.TPESampler(seed=0, constant_liar=True),
    }[sampler]
    dist = {name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in PROBLEM.parameters}
    study = optuna.create_study(direction="minimize", sampler=make())
    for config in random_configs(n, seed=n):
        study.add_trial(
            optuna.trial.create_trial(
                params=config, distributions=dist, value=PROBLEM.objective(config)
            )
        )
    out = []
    for _ in range(asks):
        t0 = time.perf_counter()
        trial = study.ask()
        config = {name: trial.suggest_float(name, 0.0, 1.0) for name in PROBLEM.parameters}
        out.append(time.perf_counter() - t0)
        study.tell(trial, PROBLEM.objective(config))
    return out


def measure(engine: str, n: int, asks: int) -> list[float]:
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        if engine == "sweepnb-bayes":
            return time_sweepnb(n, asks)
        return time_optuna(engine.split("-")[1], n, asks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--asks", type=int, default=6)
    parser.add_argument("--cap", type=float, default=20.0, help="seconds per suggestion")
    args = parser.parse_args(argv)
    sizes = positive_ints(parser, "--sizes", args.sizes)
    if args.asks < 1:
        parser.error(f"--asks: must be at least 1, got {args.asks}")
    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in ENGINES:
            parser.error(f"--engines: unknown {engine!r}; choose from {', '.join(ENGINES)}")
        if missing_modules(engine):
            parser.error(f"--engines: {engine} needs {', '.join(missing_modules(engine))}")
    cells: dict[tuple[str, int], str] = {}
    for engine in engines:
        capped = None
        for n in sizes:
            if capped is not None:
                cells[engine, n] = f"not run (over {args.cap:g} s at {capped:,})"
                continue
            seconds = measure(engine, n, args.asks)
            median = statistics.median(seconds[1:] or seconds)
            cells[engine, n] = f"{median * 1e3:,.0f} (first {seconds[0] * 1e3:,.0f})"
            print(f"{engine} at {n:,} runs: {cells[engine, n]} ms", file=sys.stderr)
            if max(seconds) > args.cap:
                capped = n
    head = ["engine"] + [f"{n:,} runs" for n in sizes]
    lines = [
        (
            "ms per suggestion, median of the asks after the first at each size (the first in "
            f"brackets); Hartmann6, {args.asks} asks per size, one more finished run after each"
        ),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for engine in engines:
        lines.append("| " + " | ".join([engine] + [cells[engine, n] for n in sizes]) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
