"""Side-by-side benchmark: sweepnb against W&B's engine, Optuna and Hyperopt (issue 7).

Every engine runs the same ask/tell loop on the problems of `bench/problems.py`: ask for one
configuration, evaluate it, tell the result, repeat. Reported: the best value after N = 25, 50,
100 evaluations (median and quartiles over seeds), milliseconds per suggestion at 10 / 50 / 100 /
200 runs (Hartmann6, seed 0), and each engine's own time per loop.

    python bench/compare.py                  # full run: 10 seeds, 100 evaluations
    python bench/compare.py --quick -j 2     # smoke run: 3 seeds, 25 evaluations
    python bench/compare.py --engines sweepnb-bayes,optuna-tpe --problems branin,mixed
    python bench/compare.py --engines sweepnb-bayes,optuna-gp,optuna-tpe --first-seed 10 \
        --seeds 20 --max-n 50 --no-timing -j 2 --out bench/out/heldout   # 20 more seeds

Writes bench/out/compare.md (printed too), bench/out/compare.png and bench/out/compare.json.
The engine adapters are in `bench/tuners.py`, the problems in `bench/problems.py`.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import PROBLEMS
from tuners import ENGINES, importable, missing_modules

CHECKPOINTS = (25, 50, 100)
TIMING_POINTS = (10, 50, 100, 200)
TIMING_PROBLEM = "hartmann6"
TIMING_WINDOW = 5  # ms at k = median over the suggestions made with k .. k+4 runs


# --- the loop --------------------------------------------------------------------------------


@dataclass
class LoopResult:
    """One engine on one problem with one seed: the values in order and where time went."""

    engine: str
    problem: str
    seed: int
    configs: list[dict] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    ask_seconds: list[float] = field(default_factory=list)
    engine_seconds: float = 0.0  # ask + tell, the engine's own cost
    wall_seconds: float = 0.0  # the whole loop, evaluations included
    error: str | None = None  # the engine raised: "ExceptionType: message"


def run_loop(engine: str, problem: str, seed: int, n_iter: int) -> LoopResult:
    """Ask, evaluate, tell `n_iter` times; `ask_seconds[k]` is the suggestion made with k runs.

    >>> r = run_loop("optuna-random", "branin", seed=0, n_iter=3)
    >>> len(r.values)
    3
    """
    if problem not in PROBLEMS:
        raise KeyError(f"problem: unknown {problem!r}; choose from {', '.join(PROBLEMS)}")
    target = PROBLEMS[problem]
    result = LoopResult(engine, problem, seed)
    start = time.perf_counter()
    tuner = ENGINES[engine].make(target, seed)
    for _ in range(n_iter):
        t0 = time.perf_counter()
        config = tuner.ask()
        t1 = time.perf_counter()
        value = float(target.objective(config))
        t2 = time.perf_counter()
        tuner.tell(config, value)
        t3 = time.perf_counter()
        result.configs.append(config)
        result.values.append(value)
        result.ask_seconds.append(t1 - t0)
        result.engine_seconds += (t1 - t0) + (t3 - t2)
    result.wall_seconds = time.perf_counter() - start
    return result


def _one_thread() -> None:
    """Each worker gets one BLAS / torch thread, so -j 2 on 2 cores is fair to every engine."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "torch" in sys.modules or importable("torch"):
        import torch

        torch.set_num_threads(1)


def _task(engine: str, problem: str, seed: int, n_iter: int) -> LoopResult:
    """One loop in a worker; an engine that raises is reported, not fatal to the benchmark."""
    _one_thread()
    warnings.filterwarnings("ignore")
    try:
        return run_loop(engine, problem, seed, n_iter)
    except Exception as exc:  # noqa: BLE001 - any engine failure becomes a note in the report
        return LoopResult(engine, problem, seed, error=f"{type(exc).__name__}: {exc}")


def run_all(tasks: Sequence[tuple[str, str, int, int]], jobs: int) -> list[LoopResult]:
    """Run (engine, problem, seed, n_iter) tasks, `jobs` processes at a time.

    The slow engines start first so the processes finish together; results come back in the
    order of `tasks`.
    """
    order = sorted(range(len(tasks)), key=lambda i: (_is_fast(tasks[i][0]), -tasks[i][3]))
    if jobs == 1:
        done = []
        for count, i in enumerate(order, 1):
            print(f"[{count}/{len(order)}] {' '.join(map(str, tasks[i]))}", file=sys.stderr)
            done.append(_task(*tasks[i]))
    else:
        from joblib import Parallel, delayed

        done = Parallel(n_jobs=jobs, verbose=10)(delayed(_task)(*tasks[i]) for i in order)
    by_index = dict(zip(order, done))
    return [by_index[i] for i in range(len(tasks))]


def _is_fast(engine: str) -> bool:
    return not any(word in engine for word in ("bayes", "gp"))


# --- summaries -------------------------------------------------------------------------------


def best_so_far(values: Sequence[float]) -> list[float]:
    """Running minimum: entry i is the best of the first i + 1 values."""
    return list(np.minimum.accumulate(np.asarray(values, dtype=float)))


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile)."""
    q1, med, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(q1), float(med), float(q3)


def best_after(results: Sequence[LoopResult], n: int) -> tuple[float, float, float]:
    """Quartiles over seeds of the best value within the first `n` evaluations."""
    return quartiles([min(r.values[:n]) for r in results])


def ms_at(result: LoopResult, k: int) -> float:
    """Median ms of the suggestions made with k .. k+4 finished runs."""
    window = result.ask_seconds[k : k + TIMING_WINDOW]
    return 1000 * statistics.median(window)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _engine_rank(result: LoopResult) -> int:
    return list(ENGINES).index(result.engine)


def _group(results: Sequence[LoopResult]) -> dict[tuple[str, str], list[LoopResult]]:
    groups: dict[tuple[str, str], list[LoopResult]] = {}
    for r in sorted(results, key=_engine_rank):
        groups.setdefault((r.problem, r.engine), []).append(r)
    return groups


def winners(results: Sequence[LoopResult], problem: str, n: int) -> list[str]:
    """Engines whose median best-after-n equals the lowest one at 4 significant digits."""
    groups = _group(results)
    medians = {e: _fmt(best_after(rs, n)[1]) for (p, e), rs in groups.items() if p == problem}
    low = min(float(m) for m in medians.values())
    return [e for e, m in medians.items() if float(m) == low]


def problem_table(results: Sequence[LoopResult], problem: str, checkpoints: Sequence[int]) -> str:
    """Markdown: one row per engine, median [q1, q3] best-after-N, engine and loop seconds."""
    groups = {e: rs for (p, e), rs in _group(results).items() if p == problem}
    best = {n: set(winners(results, problem, n)) for n in checkpoints}
    head = ["engine", *(f"best after {n}" for n in checkpoints), "engine s / loop", "loop s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for engine, rs in groups.items():
        cells = [engine]
        for n in checkpoints:
            q1, med, q3 = best_after(rs, n)
            text = f"{_fmt(med)} [{_fmt(q1)}, {_fmt(q3)}]"
            cells.append(f"**{text}**" if engine in best[n] else text)
        cells.append(f"{statistics.median(r.engine_seconds for r in rs):.2f}")
        cells.append(f"{statistics.median(r.wall_seconds for r in rs):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def timing_table(
    timing: Sequence[LoopResult], points: Sequence[int], results: Sequence[LoopResult] = ()
) -> str:
    """Markdown: ms per suggestion at k runs, and the engine's seconds over all loops."""
    head = ["engine", *(f"ms at {k}" for k in points), "engine s, all loops"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in sorted(timing, key=_engine_rank):
        cells = [r.engine, *(f"{ms_at(r, k):.1f}" for k in points if k < len(r.ask_seconds))]
        total = sum(x.engine_seconds for x in results if x.engine == r.engine)
        cells.append(f"{total:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def winners_table(results: Sequence[LoopResult], checkpoints: Sequence[int]) -> str:
    """Markdown: which engine has the best median, per problem and N."""
    problems = list(dict.fromkeys(r.problem for r in results))
    head = ["problem", *(f"N = {n}" for n in checkpoints)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for problem in problems:
        cells = [problem, *(", ".join(winners(results, problem, n)) for n in checkpoints)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(
    results: Sequence[LoopResult],
    timing: Sequence[LoopResult],
    checkpoints: Sequence[int],
    points: Sequence[int],
    notes: Sequence[str] = (),
) -> str:
    """The whole markdown report."""
    seeds = len({r.seed for r in results})
    parts = [
        "# sweepnb vs W&B, Optuna, Hyperopt: best value found (lower is better)",
        "",
        (
            f"Median [first quartile, third quartile] over {seeds} seeds of the best value after "
            "N evaluations; the best median per column in bold (equal at 4 significant digits). "
            "`engine s / loop` = seconds spent in ask + tell for one loop of "
            f"{max(checkpoints)} evaluations (median over seeds), evaluations excluded; "
            "`loop s` = the whole loop, evaluations included."
        ),
    ]
    for problem in dict.fromkeys(r.problem for r in results):
        target = PROBLEMS[problem]
        optimum = "unknown" if target.optimum is None else _fmt(target.optimum)
        parts += ["", f"## {problem}: {target.description} (optimum {optimum})", ""]
        parts.append(problem_table(results, problem, checkpoints))
    parts += ["", "## Best median per problem", "", winners_table(results, checkpoints)]
    if timing:
        parts += [
            "",
            (
                f"## ms per suggestion ({TIMING_PROBLEM}, seed 0; median of the {TIMING_WINDOW} "
                "suggestions made with k .. k+4 runs; one thread per process)"
            ),
            "",
            timing_table(timing, points, results),
        ]
    if notes:
        parts += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    return "\n".join(parts) + "\n"


def plot(results: Sequence[LoopResult], path: Path) -> None:
    """Best-so-far curves (median and quartile band over seeds), one panel per problem."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(r.problem for r in results))
    cols = min(3, len(problems))
    rows = math.ceil(len(problems) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, problem in zip(axes.flat, problems):
        _plot_problem(ax, results, problem)
    for ax in list(axes.flat)[len(problems) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(8, len(labels)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_problem(ax, results: Sequence[LoopResult], problem: str) -> None:
    optimum = PROBLEMS[problem].optimum
    for (p, engine), rs in _group(results).items():
        if p != problem:
            continue
        curves = np.array([best_so_far(r.values) for r in rs])
        if optimum is not None:
            curves = np.maximum(curves - optimum, 1e-9)
        q1, med, q3 = np.percentile(curves, [25, 50, 75], axis=0)
        x = np.arange(1, curves.shape[1] + 1)
        width = 2.2 if engine.startswith("sweepnb") else 1.2
        color = f"C{list(ENGINES).index(engine) % 10}"  # one colour per engine in every panel
        ax.plot(x, med, label=engine, linewidth=width, color=color)
        ax.fill_between(x, q1, q3, color=color, alpha=0.12)
    ax.set_yscale("log")
    ax.set_title(problem)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best so far - optimum" if optimum is not None else "best CV error so far")
    ax.grid(True, which="major", alpha=0.3)


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: --quick, --problems, --engines, --seeds, --first-seed, --max-n, -j, ..."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 seeds, N up to 25")
    parser.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 10)")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run from this one (default 0); e.g. 10 checks the table on other seeds",
    )
    parser.add_argument(
        "--max-n",
        type=int,
        default=None,
        help=f"evaluations per loop: the checkpoints {CHECKPOINTS} up to this (default all)",
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, help="processes (joblib)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--no-timing", action="store_true", help="skip the ms-per-suggestion run")
    parser.add_argument(
        "--timing-only", action="store_true", help="only the ms-per-suggestion run (see --reuse)"
    )
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="compare.json of an earlier run: engines not run now are taken from it",
    )
    args = parser.parse_args(argv)
    args.problems = _choices(args.problems, PROBLEMS, "--problems")
    args.engines = _choices(args.engines, ENGINES, "--engines")
    if args.seeds is None:
        args.seeds = 3 if args.quick else 10
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and -j must be at least 1")
    if args.first_seed < 0:
        parser.error("--first-seed must be at least 0")
    smallest = 10 if args.quick else min(CHECKPOINTS)
    if args.max_n is not None and args.max_n < smallest:
        parser.error(f"--max-n must be at least {smallest}")
    if args.timing_only and args.no_timing:
        parser.error("--timing-only and --no-timing exclude each other")
    return args


def _choices(text: str, known: dict, flag: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise SystemExit(f"{flag}: unknown {unknown or text!r}; choose from {', '.join(known)}")
    return names


def main(argv: Sequence[str] | None = None) -> str:
    """Run the benchmark, write compare.md / .png / .json under --out, return the markdown."""
    args = parse_args(argv)
    checkpoints = (10, 25) if args.quick else CHECKPOINTS
    if args.max_n is not None:
        checkpoints = tuple(n for n in checkpoints if n <= args.max_n)
    points = (10, 25) if args.quick else TIMING_POINTS
    engines, notes = _runnable(args.engines)
    n_iter = max(checkpoints)
    seeds = [] if args.timing_only else range(args.first_seed, args.first_seed + args.seeds)
    tasks = [(e, p, s, n_iter) for e in engines for p in args.problems for s in seeds]
    timing_tasks = (
        []
        if args.no_timing
        else [(e, TIMING_PROBLEM, 0, max(points) + TIMING_WINDOW) for e in engines]
    )
    start = time.perf_counter()
    done = run_all(tasks + timing_tasks, args.jobs)
    notes += _failures(done)
    results = [r for r in done[: len(tasks)] if r.error is None]
    timing = [r for r in done[len(tasks) :] if r.error is None]
    notes.append(f"this run: {time.perf_counter() - start:.0f} s with -j {args.jobs}")
    if args.reuse is not None:
        results, timing = _reuse(args, n_iter, results, timing, notes)
    text = report(results, timing, checkpoints, points, notes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.md").write_text(text)
    saved = {"results": [asdict(r) for r in results], "timing": [asdict(r) for r in timing]}
    (args.out / "compare.json").write_text(json.dumps(saved))
    if results:
        plot(results, args.out / "compare.png")
    print(text)
    return text


def load_results(path: Path, n_iter: int) -> tuple[list[LoopResult], list[LoopResult]]:
    """(loops, timing loops) saved in a compare.json; loops longer than `n_iter` are timing."""
    saved = json.loads(path.read_text())
    if isinstance(saved, list):  # the first format: one list, timing loops are the long ones
        saved = {
            "results": [r for r in saved if len(r["values"]) <= n_iter],
            "timing": [r for r in saved if len(r["values"]) > n_iter],
        }
    return (
        [LoopResult(**r) for r in saved["results"] if len(r["values"]) >= n_iter],
        [LoopResult(**r) for r in saved["timing"]],
    )


def _reuse(
    args: argparse.Namespace,
    n_iter: int,
    results: list[LoopResult],
    timing: list[LoopResult],
    notes: list[str],
) -> tuple[list[LoopResult], list[LoopResult]]:
    """Add the earlier run's loops of engines not run now (selected problems and seeds only)."""
    old_results, old_timing = load_results(args.reuse, n_iter)
    fresh = set(args.engines)
    rerun = set() if args.timing_only else fresh
    old_results = [r for r in old_results if r.engine not in rerun and r.problem in args.problems]
    if not args.timing_only:  # every engine of the table on the same seeds
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        old_results = [r for r in old_results if r.seed in seeds]
    old_timing = [r for r in old_timing if args.no_timing or r.engine not in fresh]
    reused = sorted({r.engine for r in old_results + old_timing})
    if reused:
        notes.append(f"{', '.join(reused)}: figures reused from {args.reuse}")
    return old_results + results, old_timing + timing


def _runnable(engines: Sequence[str]) -> tuple[list[str], list[str]]:
    """(engines whose modules import, notes naming the others)."""
    runnable, notes = [], []
    for engine in engines:
        missing = missing_modules(engine)
        if missing:
            notes.append(f"{engine}: n/a here (cannot import {', '.join(missing)})")
        else:
            runnable.append(engine)
    return runnable, notes


def _failures(done: Sequence[LoopResult]) -> list[str]:
    """One note per engine that raised (its first error), so its rows are visibly missing."""
    first: dict[str, str] = {}
    for r in done:
        if r.error is not None:
            first.setdefault(
                r.engine, f"{r.engine}: failed on {r.problem} seed {r.seed}: {r.error}"
            )
    return list(first.values())


if __name__ == "__main__":
    main()
