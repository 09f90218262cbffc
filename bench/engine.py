"""Benchmark of sweepnb's search: best-after-N for random and bayes, and ms per suggestion.

An ask/tell loop with ``engine.suggest`` on Branin (2-d), Hartmann6 (6-d) and a mixed space
(float + log-uniform lr + 3-way categorical), 10 seeds; prints markdown tables. No asserts.

    python bench/engine.py            # full: 10 seeds, N up to 100, timings up to 200 runs
    python bench/engine.py --quick    # 3 seeds, N up to 50, timings up to 100 runs
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from problems import PROBLEMS

from sweepnb import engine

METHODS = ("random", "bayes")


def make_config(problem: str, method: str) -> dict:
    """The sweep config of a benchmark problem (metric ``loss``, minimised)."""
    return engine.load_config(
        {
            "method": method,
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": PROBLEMS[problem].parameters,
        }
    )


def finished_run(i: int, config: dict, value: float) -> dict:
    """An engine run dict for a finished run that logged ``loss = value``."""
    return {
        "id": f"r{i}",
        "state": "finished",
        "config": config,
        "history": [{"loss": value, "_step": 0}],
        "summary": {"loss": value},
    }


def best_so_far(problem: str, method: str, seed: int, budget: int) -> np.ndarray:
    """Best loss after each of ``budget`` sequential suggestions."""
    cfg, objective = make_config(problem, method), PROBLEMS[problem].objective
    runs, best = [], []
    for i in range(budget):
        (config,) = engine.suggest(cfg, runs, seed=seed * 100_003 + i)
        value = objective(config)
        runs.append(finished_run(i, config, value))
        best.append(min(best[-1], value) if best else value)
    return np.array(best)


def quality_table(problems: list[str], seeds: int, budgets: list[int]) -> str:
    """Markdown table: median [q1, q3] of the best loss after each budget, per method."""
    head = "| problem | method | " + " | ".join(f"best after {n}" for n in budgets) + " |"
    lines = [head, "|" + " --- |" * (2 + len(budgets))]
    for problem in problems:
        for method in METHODS:
            start = time.perf_counter()
            curves = np.array([best_so_far(problem, method, s, max(budgets)) for s in range(seeds)])
            cells = []
            for n in budgets:
                q1, med, q3 = np.percentile(curves[:, n - 1], [25, 50, 75])
                cells.append(f"{med:.4f} [{q1:.4f}, {q3:.4f}]")
            lines.append(f"| {problem} | {method} | " + " | ".join(cells) + " |")
            took = time.perf_counter() - start
            print(f"  {problem}/{method}: {seeds} seeds in {took:.0f} s", flush=True)
    return "\n".join(lines)


def timing_table(problems: list[str], sizes: list[int], repeats: int) -> str:
    """Markdown table: ms per bayes suggestion (median wall clock, and CPU) per number of runs."""
    head = "| problem | " + " | ".join(f"{n} runs" for n in sizes) + " |"
    lines = [head, "|" + " --- |" * (1 + len(sizes))]
    for problem in problems:
        cfg, objective = make_config(problem, "bayes"), PROBLEMS[problem].objective
        rand = make_config(problem, "random")
        cells = []
        for size in sizes:
            configs = engine.suggest(rand, [], n=size, seed=size)
            runs = [finished_run(i, c, objective(c)) for i, c in enumerate(configs)]
            wall, cpu = [], []
            for r in range(repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                engine.suggest(cfg, runs, seed=r)
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
            cells.append(f"{1000 * np.median(wall):.0f} ms (cpu {1000 * np.median(cpu):.0f})")
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, N <= 50, <= 100 runs")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 10, quick 3)")
    parser.add_argument("--problems", nargs="+", default=["branin", "hartmann6", "mixed"])
    parser.add_argument("--no-timing", action="store_true", help="skip the timing table")
    parser.add_argument("--no-quality", action="store_true", help="skip the best-after-N table")
    args = parser.parse_args(argv)
    seeds = args.seeds or (3 if args.quick else 10)
    budgets = [25, 50] if args.quick else [25, 50, 100]
    sizes = [10, 50, 100] if args.quick else [10, 50, 100, 200]
    warnings.simplefilter("ignore")
    if not args.no_quality:
        print(f"best loss after N suggestions, median [q1, q3] over {seeds} seeds", flush=True)
        print(quality_table(args.problems, seeds, budgets), flush=True)
    if not args.no_timing:
        print("\nms per bayes suggestion with N finished runs (median of 5)", flush=True)
        print(timing_table(["hartmann6", "mixed"], sizes, repeats=5), flush=True)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"(load average {load} on {os.cpu_count()} CPUs: wall clock includes waiting)")


if __name__ == "__main__":
    main()
