"""Bayes with q parallel agents: best value after 50 runs at q = 1, 4, 8 (issue 22).

    python bench/parallel_bayes.py -j 2                       # the RESULTS.md table (20 seeds)
    python bench/parallel_bayes.py --engines sweepnb-bayes --seeds 10 --first-seed 100 -j 2
    python bench/parallel_bayes.py --reuse bench/out/parallel_bayes.json --engines sweepnb-bayes

The asynchronous loop of q workers that a sweep with ``--jobs q`` runs: q configs are asked for
first (each ask sees the others as running runs), then, until the budget is spent, the oldest
running run finishes (its value is told) and its worker asks for the next config while the other
q - 1 still run. q = 1 is the sequential loop of bench/compare.py. Every engine gets the same
loop through its own ask/tell (bench/tuners.py): sweepnb and W&B see the pending configs as runs
in state ``running``; Optuna's trials stay RUNNING until told (TPE with ``constant_liar=True``).

Printed (and written to bench/out/parallel_bayes.md / .json): per problem, the median [quartiles]
over the seeds of the best value after ``--budget`` runs for each engine and q, the best median
of each q in bold, and ``q=8 / q=1``: the ratio of the median regrets (best - optimum), so 1 means
the 8 agents lost nothing and 10 an order of magnitude.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import PROBLEMS
from tuners import ENGINES, missing_modules

DEFAULT_ENGINES = ("sweepnb-bayes", "optuna-gp", "optuna-tpe", "wandb-bayes")
DEFAULT_PROBLEMS = ("hartmann6", "mixed", "branin", "rosenbrock4")
QS = (1, 4, 8)


def async_loop(engine: str, problem: str, seed: int, q: int, budget: int) -> dict:
    """q workers, oldest running run finishes first; returns the values in the order told."""
    target = PROBLEMS[problem]
    tuner = ENGINES[engine].make(target, seed)
    running: deque[dict] = deque()
    values: list[float] = []
    asked, start = 0, time.perf_counter()
    ask_seconds = 0.0
    while len(values) < budget:
        while len(running) < q and asked < budget:
            t0 = time.perf_counter()
            running.append(tuner.ask())
            ask_seconds += time.perf_counter() - t0
            asked += 1
        config = running.popleft()
        value = float(target.objective(config))
        tuner.tell(config, value)
        values.append(value)
    return {
        "engine": engine,
        "problem": problem,
        "seed": seed,
        "q": q,
        "values": values,
        "ask_seconds": ask_seconds,
        "seconds": time.perf_counter() - start,
    }


def _job(engine: str, problem: str, seed: int, q: int, budget: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the libraries' experimental-feature notices
        return async_loop(engine, problem, seed, q, budget)


def run_all(engines, problems, seeds, qs, budget, jobs) -> list[dict]:
    from joblib import Parallel, delayed

    tasks = [(e, p, s, q) for e in engines for p in problems for q in qs for s in seeds]
    # the slow engines first, so the two workers end together
    tasks.sort(key=lambda t: (t[0] != "optuna-gp", -t[3]))
    return Parallel(n_jobs=jobs, verbose=0)(
        delayed(_job)(e, p, s, q, budget) for e, p, s, q in tasks
    )


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def summarise(results: list[dict], budget: int) -> dict:
    """(problem, engine, q) -> (median, q1, q3, n, seconds per loop) of the best after budget."""
    groups: dict[tuple, list] = {}
    for r in results:
        groups.setdefault((r["problem"], r["engine"], r["q"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        best = [min(r["values"][:budget]) for r in rs]
        q1, med, q3 = np.percentile(best, [25, 50, 75])
        out[key] = (
            float(med),
            float(q1),
            float(q3),
            len(rs),
            statistics.median(r["ask_seconds"] for r in rs),
        )
    return out


def table(results: list[dict], budget: int) -> str:
    stats = summarise(results, budget)
    problems = list(dict.fromkeys(r["problem"] for r in results))
    engines = list(dict.fromkeys(r["engine"] for r in results))
    qs = sorted({r["q"] for r in results})
    seeds = sorted({r["seed"] for r in results})
    lines = [
        (
            f"Best value after {budget} runs, median [first quartile, third quartile] over "
            f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); the best median per column in bold "
            "(equal at 3 significant digits). `q=8 / q=1`: ratio of the median regrets (best - "
            "optimum). `engine s`: seconds of ask per loop at the largest q (median)."
        ),
        "",
    ]
    for problem in problems:
        optimum = PROBLEMS[problem].optimum or 0.0
        lines += [f"### {problem}: {PROBLEMS[problem].description} (optimum {optimum:.4g})", ""]
        head = ["engine"] + [f"q={q}" for q in qs]
        if 1 in qs and max(qs) > 1:
            head.append(f"q={max(qs)} / q=1")
        head.append("engine s")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        best_per_q = {
            q: min(stats[(problem, e, q)][0] for e in engines if (problem, e, q) in stats)
            for q in qs
        }
        for engine in engines:
            cells = [engine]
            for q in qs:
                s = stats.get((problem, engine, q))
                if s is None:
                    cells.append("-")
                    continue
                text = f"{_fmt(s[0])} [{_fmt(s[1])}, {_fmt(s[2])}]"
                if f"{s[0]:.3g}" == f"{best_per_q[q]:.3g}":
                    text = f"**{text}**"
                cells.append(text)
            if 1 in qs and max(qs) > 1:
                a, b = stats.get((problem, engine, 1)), stats.get((problem, engine, max(qs)))
                if a and b:
                    r1, rq = max(a[0] - optimum, 1e-12), max(b[0] - optimum, 1e-12)
                    cells.append(f"{rq / r1:.3g}")
                else:
                    cells.append("-")
            last = stats.get((problem, engine, max(qs)))
            cells.append(f"{last[4]:.2f}" if last else "-")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def positive_ints(parser: argparse.ArgumentParser, option: str, text: str) -> list[int]:
    """A comma-separated list of integers >= 1, or a parser error naming ``option``."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        parser.error(f"{option}: {text!r} is not a comma-separated list of integers")
    if not values or min(values) < 1:
        parser.error(f"{option}: every value must be at least 1, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    parser.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    parser.add_argument("--qs", default=",".join(map(str, QS)))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=700)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--out", default="bench/out/parallel_bayes")
    parser.add_argument(
        "--reuse", help="a .json of an earlier run: keep its results for the engines not run now"
    )
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in ENGINES:
            parser.error(f"--engines: unknown {engine!r}; choose from {', '.join(ENGINES)}")
        missing = missing_modules(engine)
        if missing:
            parser.error(f"--engines: {engine} needs {', '.join(missing)} (pip install)")
    problems = [p for p in args.problems.split(",") if p]
    for problem in problems:
        if problem not in PROBLEMS:
            parser.error(f"--problems: unknown {problem!r}; choose from {', '.join(PROBLEMS)}")
    qs = positive_ints(parser, "--qs", args.qs)
    if args.budget < 1 or args.seeds < 1:
        parser.error("--budget and --seeds must be at least 1")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    start = time.perf_counter()
    results = run_all(engines, problems, seeds, qs, args.budget, args.jobs)
    if args.reuse:
        kept = [r for r in json.loads(Path(args.reuse).read_text()) if r["engine"] not in engines]
        results = kept + results
    order = {e: i for i, e in enumerate(list(DEFAULT_ENGINES) + engines)}
    results.sort(key=lambda r: (order.get(r["engine"], 99), r["problem"], r["q"], r["seed"]))
    text = table(results, args.budget)
    text += f"\n({time.perf_counter() - start:.0f} s for the engines run now, -j {args.jobs})\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results))
    out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
