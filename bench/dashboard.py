"""How fast the live dashboard refreshes, and what share of a sweep's time it costs (issue 4).

1. One full refresh (read the store, build the runs frame, fit the importance forest, draw the
   composed chart, encode the PNG and the MIME bundle) with 50, 200 and 1,000 finished runs in a
   real SQLite store. "cold": a new Dashboard, every panel drawn (the store's run cache and the
   process's panel figures are warm; the process's very first refresh, with its imports, is
   printed apart); "warm": the same Dashboard after one run changed (panels whose data did not
   change are reused). Target: <= 250 ms at 1,000 runs.
2. A real 200-run sweep (in-process agent in a background thread, like `%agent`; each run logs
   ``--steps`` values ``--step-seconds`` apart) watched by a Dashboard polling the store once a
   second: the share of the sweep's wall time spent refreshing (polls included). Target: <= 5%.

    python bench/dashboard.py                 # both parts
    python bench/dashboard.py --quick         # 50 and 200 runs, a 200-run sweep of short runs
    python bench/dashboard.py --only-sweep    # part 2 only
    python bench/dashboard.py --skip-sweep --png /tmp/dash.png   # and look at the 1,000-run chart

Prints a table; CPU times are given too because wall times on a shared machine vary with load.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's sweepnb
import sweepnb
from sweepnb.notebook.dashboard import Dashboard
from sweepnb.store import Store

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "batch": {"distribution": "int_uniform", "min": 16, "max": 256},
        "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
        "model": {
            "parameters": {"depth": {"values": [2, 4, 8]}, "dropout": {"min": 0.0, "max": 0.5}}
        },
        "epochs": {"value": 20},
    },
}


def loss_curve(config: dict, steps: int, rng: np.random.Generator) -> list[float]:
    base = (np.log10(config["lr"]) + 2.5) ** 2 + (0.3 if config["optimizer"] == "sgd" else 0.0)
    return [float(base + 2.0 / (s + 1) + rng.normal(0, 0.02)) for s in range(steps)]


def synthetic_store(directory: Path, n: int, steps: int = 20) -> tuple[Store, str]:
    """A store with one sweep of ``n`` ended runs (a quarter stopped by hyperband at band 3)."""
    store = Store(directory / f"bench-{n}.db")
    sweep_id = sweepnb.sweep(CONFIG, store=store)
    rng = np.random.default_rng(n)
    for i in range(n):
        config = {
            "lr": float(10 ** rng.uniform(-4, -1)),
            "batch": int(rng.integers(16, 257)),
            "optimizer": ["sgd", "adam", "rmsprop"][i % 3],
            "epochs": 20,
            "model": {"depth": [2, 4, 8][i % 3], "dropout": float(rng.uniform(0, 0.5))},
        }
        stopped = i % 4 == 0
        curve = loss_curve(config, 3 if stopped else steps, rng)
        run_id = store.add_run(
            sweep_id,
            config,
            state="stopped" if stopped else "finished",
            history=[{"loss": v} for v in curve],
            summary={"loss": curve[-1]},
        )
        if stopped:
            store.request_stop(
                run_id,
                {
                    "rule": "hyperband",
                    "band": 3,
                    "value": curve[2],
                    "threshold": curve[2] - 0.1,
                    "message": "bench",
                },
            )
    return store, sweep_id


def save_png(path: str, n: int) -> None:
    """Write the dashboard's chart for ``n`` runs to ``path``, to look at what a refresh draws."""
    with tempfile.TemporaryDirectory() as tmp:
        store, sweep_id = synthetic_store(Path(tmp), n)
        dash = Dashboard(sweep_id, store)
        shown = dash.render(*dash.poll())
        Path(path).write_bytes(base64.b64decode(shown["image/png"]))
        store.close()


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def refresh_times(sizes: list[int], repeats: int) -> tuple[list[dict], tuple[float, float]]:
    """Cold and warm refresh times per size, and the (wall, CPU) of the process's very first
    refresh (imports, fonts, panel figures), done on 20 runs before timing the others."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store, sweep_id = synthetic_store(Path(tmp), 20)
        first = timed(lambda: Dashboard(sweep_id, store).update(force=True))
        for n in sizes:
            store, sweep_id = synthetic_store(Path(tmp), n)
            cold, warm, parts = [], [], []
            for _ in range(repeats):
                dash = Dashboard(sweep_id, store)
                cold.append(timed(lambda d=dash: d.update(force=True)))
                one = store.get_runs(sweep_id, history=False)[0]["id"]
                store.log(one, [{"loss": 0.5}])  # one run moved: warm refresh
                warm.append(timed(lambda d=dash: d.update(force=True)))
                parts.append(dash._last_cpu)
            rows.append(
                {
                    "runs": n,
                    "cold_ms": 1000 * statistics.median(w for w, _ in cold),
                    "cold_cpu_ms": 1000 * statistics.median(c for _, c in cold),
                    "warm_ms": 1000 * statistics.median(w for w, _ in warm),
                    "warm_cpu_ms": 1000 * statistics.median(c for _, c in warm),
                    "draw_cpu_ms": 1000 * statistics.median(parts),
                }
            )
            store.close()
    return rows, first


class TimedDashboard(Dashboard):
    """A Dashboard that adds up the wall and CPU time (of the calling thread) its polls and
    drawings take."""

    spent = 0.0
    spent_cpu = 0.0

    def _timed(self, function, *args):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args)
        finally:
            self.spent += time.perf_counter() - wall
            self.spent_cpu += time.thread_time() - cpu

    def poll(self):
        return self._timed(super().poll)

    def _draw(self, runs, state, mark):
        return self._timed(super()._draw, runs, state, mark)


def sweep_share(n_runs: int, steps: int, step_seconds: float, watch: bool = True) -> dict:
    """Run a real ``n_runs`` sweep (watched by a dashboard unless ``watch`` is false); the wall
    time and the share of it the dashboard spent."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "sweep.db")
        sweep_id = sweepnb.sweep({**CONFIG, "run_cap": n_runs}, store=store)

        def train() -> None:
            rng = np.random.default_rng()
            with sweepnb.init() as run:
                for value in loss_curve(dict(run.config), steps, rng):
                    time.sleep(step_seconds)
                    sweepnb.log({"loss": value})

        dash = TimedDashboard(sweep_id, store, refresh=1.0)
        start = time.perf_counter()
        if watch:
            dash.start()
        agent = threading.Thread(
            target=sweepnb.agent,
            args=(sweep_id, train),
            kwargs={"count": n_runs, "store": store, "quiet": True},
        )
        agent.start()
        agent.join()
        if watch:
            dash.stop()
        wall = time.perf_counter() - start
        done = sum(r["state"] != "running" for r in store.get_runs(sweep_id, history=False))
        store.close()
    return {
        "runs": done,
        "wall_s": wall,
        "refresh_s": dash.spent,
        "refresh_cpu_s": dash.spent_cpu,
        "renders": dash.renders,
        "share": dash.spent / wall,
        "cpu_share": dash.spent_cpu / wall,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--repeats", type=int, default=3, help="refreshes timed per size")
    parser.add_argument("--steps", type=int, default=10, help="values each sweep run logs")
    parser.add_argument("--step-seconds", type=float, default=0.05, help="time between them")
    parser.add_argument("--skip-sweep", action="store_true", help="only time the refreshes")
    parser.add_argument("--only-sweep", action="store_true", help="only run the 200-run sweep")
    parser.add_argument("--png", metavar="PATH", help="also save the largest size's chart here")
    args = parser.parse_args(argv)
    sizes = [50, 200] if args.quick else [50, 200, 1000]
    if not args.only_sweep:
        print("one full dashboard refresh (median of", args.repeats, "; target <= 250 ms at 1,000)")
        print(f"{'runs':>6} {'cold ms':>9} {'cpu':>7} {'warm ms':>9} {'cpu':>7} {'draw cpu':>10}")
        rows, first = refresh_times(sizes, args.repeats)
        print(
            f"(the process's first refresh, 20 runs, imports included: {1000 * first[0]:.0f} ms, "
            f"cpu {1000 * first[1]:.0f})"
        )
        for row in rows:
            print(
                f"{row['runs']:>6} {row['cold_ms']:>9.0f} {row['cold_cpu_ms']:>7.0f} "
                f"{row['warm_ms']:>9.0f} {row['warm_cpu_ms']:>7.0f} {row['draw_cpu_ms']:>10.0f}"
            )
    if args.png:
        save_png(args.png, sizes[-1])
        print(f"chart of {sizes[-1]} runs saved to {args.png}")
    if args.skip_sweep:
        return
    steps, step_seconds = (5, 0.02) if args.quick else (args.steps, args.step_seconds)
    result = sweep_share(200, steps, step_seconds)
    baseline = sweep_share(200, steps, step_seconds, watch=False)
    print(
        f"\n200-run sweep ({steps} logs x {step_seconds * 1000:.0f} ms per run), dashboard "
        f"polling once a second (target <= 5%):"
    )
    print(
        f"  {result['runs']} runs in {result['wall_s']:.1f} s; the dashboard thread spent "
        f"{result['refresh_s']:.2f} s wall / {result['refresh_cpu_s']:.2f} s CPU on "
        f"{result['renders']} drawings and its polls = {100 * result['share']:.1f}% of the "
        f"wall time ({100 * result['cpu_share']:.1f}% in CPU)"
    )
    print(
        f"  the same sweep without a dashboard: {baseline['wall_s']:.1f} s "
        f"(difference {100 * (result['wall_s'] / baseline['wall_s'] - 1):+.1f}%)"
    )


if __name__ == "__main__":
    main()
