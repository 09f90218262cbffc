"""Research harness (issue 22): variants of sweepnb's bayes under the asynchronous loop of q agents.

    python bench/bayes_variants.py current,prior hartmann6,branin 4,8 --first-seed 300 --seeds 40

Each variant patches ``sweepnb.engine.search.bayes`` in a fresh process (a fork per loop:
joblib's loky reuses its workers, so patches would stack) and runs
``parallel_bayes.async_loop`` on one problem, seed and q. Printed: per problem, q and variant, the
median regret (best - optimum) after ``--budget`` runs, its quartiles and how many seeds got
below 1e-3. This chooses between ideas; the figures of record come from bench/parallel_bayes.py.

Variants:
    current   the code as it is
    prior     prior samples among the candidates while runs are pending (the code before 3d2c9b3)
    thompson  while runs are pending, the argmin of one joint posterior sample over the candidates
              (fantasies included) instead of the best expected improvement
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
VARIANTS = ("current", "prior", "thompson")


def _patch(variant: str) -> None:
    from sweepnb.engine.search import bayes, gp

    if variant == "current":
        return
    if variant == "prior":
        propose = bayes.propose
        bayes.propose = lambda *args, parallel=False: propose(*args, parallel=False)
        return
    if variant == "thompson":
        propose = bayes.propose

        def thompson(space, obs, model, seen, rng, parallel=False):
            if not parallel:
                return propose(space, obs, model, seen, rng)
            cand = bayes._candidates(space, obs, model, rng, local_only=False)
            g = model.gp
            cross = gp.kernel(cand, g.X, g.h)
            cov = gp.kernel(cand, cand, g.h) - cross @ g.Kinv @ cross.T
            w, v = np.linalg.eigh(0.5 * (cov + cov.T))
            f = cross @ g.alpha + v @ (np.sqrt(np.maximum(w, 0.0)) * rng.normal(size=len(cand)))
            for i in np.argsort(f):
                if space.key(cand[i]) not in seen:
                    return cand[i]
            return cand[int(np.argmin(f))]

        bayes.propose = thompson
        return
    raise ValueError(f"variants: unknown {variant!r}")


def _loop(task: tuple) -> tuple:
    variant, problem, seed, q, budget = task
    _patch(variant)
    from parallel_bayes import async_loop
    from problems import PROBLEMS

    values = async_loop("sweepnb-bayes", problem, seed, q, budget)["values"]
    return variant, problem, q, min(values) - (PROBLEMS[problem].optimum or 0.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", help="comma-separated: current, prior, thompson")
    parser.add_argument("problems", help="comma-separated problems of bench/problems.py")
    parser.add_argument("qs", help="comma-separated numbers of agents")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from parallel_bayes import positive_ints
    from problems import PROBLEMS

    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS)) or ([] if variants else ["(none)"])
    if unknown:  # checked here, not by patching: the loops fork from this process
        parser.error(f"variants: unknown {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    problems = [p for p in args.problems.split(",") if p]
    for problem in problems or ["(none)"]:
        if problem not in PROBLEMS:
            parser.error(f"problems: unknown {problem!r}; choose from {', '.join(PROBLEMS)}")
    qs = positive_ints(parser, "qs", args.qs)
    if args.budget < 1 or args.seeds < 1 or args.jobs < 1:
        parser.error("--budget, --seeds and --jobs must each be at least 1")
    tasks = [
        (v, p, s, q, args.budget)
        for v in variants
        for p in problems
        for q in qs
        for s in range(args.first_seed, args.first_seed + args.seeds)
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(args.jobs, maxtasksperchild=1) as pool:
        results = pool.map(_loop, tasks, chunksize=1)
    groups = defaultdict(list)
    for variant, problem, q, regret in results:
        groups[(problem, q, variant)].append(regret)
    for (problem, q, variant), regrets in sorted(groups.items()):
        q1, median, q3 = np.percentile(regrets, [25, 50, 75])
        below = sum(r < 1e-3 for r in regrets)
        print(
            f"{problem} q={q} {variant}: median regret {median:.3g} [{q1:.3g}, {q3:.3g}], "
            f"{below} of {len(regrets)} below 1e-3"
        )


if __name__ == "__main__":
    main()
