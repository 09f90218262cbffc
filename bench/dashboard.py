"""How fast the live dashboard refreshes, and what share of a sweep's time it costs (issue 4).

1. One full refresh (read the store, build the runs frame, fit the importance forest, draw the
   composed chart, encode the PNG and the MIME bundle) with 50, 200 and 1,000 finished runs in a
   real SQLite store. "cold": a new Dashboard, every panel drawn (the store's run cache and the
   process's panel figures are warm; the process's very first refresh, with its imports, is
   printed apart); "warm": the same Dashboard after one run changed (panels whose data did not
   change are reused). Target: <= 250 ms at 1,000 runs.
2. The interactive widget (issue 21) at 1,000 and 10,000 runs: kernel ms and kB per refresh
   (8 running runs logging), the first and last refresh, the same runs through plotly's
   FigureWidget for comparison, and in Chromium the ES module's first render, brush and hover.
   Targets: <= 50 ms and <= 100 kB per refresh at 1,000 runs; brush <= 100 ms at 10,000.
3. A real 200-run sweep (in-process agent in a background thread, like `%agent`; each run logs
   ``--steps`` values ``--step-seconds`` apart) watched by a Dashboard polling the store once a
   second (the PNG one, then the widget): the share of the sweep's wall time spent refreshing
   (polls included). Target: <= 5%.

    python bench/dashboard.py                 # all three parts
    python bench/dashboard.py --quick         # 50 and 200 runs, a 200-run sweep of short runs
    python bench/dashboard.py --only-widget   # part 2 only
    python bench/dashboard.py --only-sweep    # part 3 only
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

    def _timed(self, function, *args, **options):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **options)
        finally:
            self.spent += time.perf_counter() - wall
            self.spent_cpu += time.thread_time() - cpu

    def poll(self):
        return self._timed(super().poll)

    def _draw(self, runs, state, mark, **options):
        return self._timed(super()._draw, runs, state, mark, **options)


def sweep_share(
    n_runs: int, steps: int, step_seconds: float, watch: bool = True, widget: bool = False
) -> dict:
    """Run a real ``n_runs`` sweep (watched by a dashboard unless ``watch`` is false: the PNG
    one, or with ``widget`` the interactive one as in a notebook); the wall time and the share
    of it the dashboard spent."""
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
        if widget:
            dash._make_view()
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


# --------------------------------------------------------------------------- the widget (issue 21)


def widget_refreshes(n: int, running: int = 8, repeats: int = 5) -> dict:
    """The interactive widget on ``n`` ended runs plus ``running`` running ones: the first
    refresh (every run sent), a refresh after the running runs each logged a value (what a live
    refresh is), and the last one (importance forest and the PNG fallback); kernel ms and bytes
    sent as the widgets' comms count them."""
    from sweepnb.notebook.widget import count_bytes

    count_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        store, sweep_id = synthetic_store(Path(tmp), n)
        live = [
            store.add_run(
                sweep_id,
                {"lr": 0.01, "batch": 32, "optimizer": "adam", "epochs": 20,
                 "model": {"depth": 4, "dropout": 0.1}},
                state="running",
                history=[{"loss": 1.0}],
            )
            for _ in range(running)
        ]  # fmt: skip
        store.get_runs(sweep_id)  # the store's cache warm, as in a dashboard that polls
        dash = Dashboard(sweep_id, store)
        dash._make_view()
        first = timed(lambda: dash.update(force=True))
        first_bytes = dash.view.last_bytes
        warm, warm_bytes = [], []
        for step in range(repeats):
            for run_id in live:
                store.log(run_id, [{"loss": 1.0 / (step + 2)}])
            warm.append(timed(lambda: dash.update(force=True)))
            warm_bytes.append(dash.view.last_bytes)
        for run_id in live:
            store.finish_run(run_id, "finished")
        last = timed(lambda: dash.update(force=True, final=True))
        state = {
            name: getattr(dash.view.widget, name)
            for name in ("axes", "status", "curves", "importance", "params", "metric",
                         "state_colors", "scale", "brush", "pinned", "sweep_id")
        }  # fmt: skip
        state["blocks"] = [dict(b.runs) for b in dash.view.widget.blocks]
        store.close()
    return {
        "runs": n + running,
        "first_ms": 1000 * first[0],
        "first_kb": first_bytes / 1000,
        "warm_ms": 1000 * statistics.median(w for w, _ in warm),
        "warm_cpu_ms": 1000 * statistics.median(c for _, c in warm),
        "warm_kb": statistics.median(warm_bytes) / 1000,
        "last_ms": 1000 * last[0],
        "state": state,
    }


def plotly_refresh(n: int) -> dict:
    """The alternative measured: plotly's FigureWidget with a Parcoords trace over the same runs.
    Updating its dimensions re-sends every value of every axis (plotly has no per-line delta),
    and Parcoords has no hover on a line. Kernel ms and the JSON of one restyle."""
    import json

    import plotly.graph_objects as go
    from plotly.utils import PlotlyJSONEncoder

    from sweepnb.analysis import plotdata, runs_frame

    with tempfile.TemporaryDirectory() as tmp:
        store, sweep_id = synthetic_store(Path(tmp), n)
        cfg = store.get_sweep(sweep_id)["config"]
        frame = runs_frame(cfg, store.get_runs(sweep_id))
        store.close()
    data = plotdata.parallel_coordinates_data(frame, cfg, max_lines=n)

    def dimensions():
        return [
            {"label": a.name, "values": data.values[:, i].tolist()} for i, a in enumerate(data.axes)
        ]

    fig = go.FigureWidget(go.Parcoords(dimensions=dimensions()))
    wall = timed(lambda: fig.update_traces(dimensions=dimensions()))
    restyle = json.dumps({"dimensions": dimensions()}, cls=PlotlyJSONEncoder)
    return {"runs": n, "ms": 1000 * wall[0], "kb": len(restyle) / 1000}


HARNESS = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="dashboard.css"></head>
<body style="width:1400px;margin:0"><div id="out"></div>
<script type="module">
import widget from "./dashboard.js";
// a stand-in for the widget model (the front end's part): get/set/on over the state the kernel
// computed, so the timing is the module's own drawing
class Model {
  constructor(state) { this.state = state; this.handlers = {}; }
  get(k) { return this.state[k]; }
  set(k, v) { this.state[k] = v; for (const f of this.handlers["change:" + k] || []) f(); }
  on(names, f) { for (const n of names.split(" ")) (this.handlers[n] = this.handlers[n] || []).push(f); }
  save_changes() {}
  send() {}
}
window.bench = async () => {
  const state = await (await fetch("state.json")).json();
  const blocks = state.blocks.map((runs) => new Model({ runs }));
  const model = new Model({ ...state, blocks: blocks.map((_, i) => "IPY_MODEL_" + i) });
  const host = { getModel: async (ref) => blocks[+ref.slice("anywidget:".length)] };
  const el = document.getElementById("out");
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const t0 = performance.now();
  await widget.render({ model, el, host });
  await frame();
  const first = performance.now() - t0;
  const view = el.querySelector(".sweepnb-dash").__sweepnb;
  const brushes = [];
  for (let i = 0; i < 7; i++) {
    const top = view.par.top, h = view.par.plotH;
    view.brushAxis({ axis: i % 2, y0: top + h * (0.2 + 0.05 * i), y1: top + h * 0.7 });
    brushes.push(view.timing.lastBrush);
    window.parts = view.timing.parts;
  }
  const t1 = performance.now();
  for (let i = 0; i < 100; i++) view.nearestLine(view.par.xs[0] + 30, view.par.top + i * 2);
  const hover = (performance.now() - t1) / 100;
  brushes.sort((a, b) => a - b);
  return { first, brush: brushes[3], hover, runs: view.data.runs.length, parts: window.parts };
};
</script></body></html>"""


class _Quiet(__import__("http.server").server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request lines among the figures
        pass


def browser_times(states: dict[int, dict]) -> dict[int, dict]:
    """First render, brush and hover of the widget's ES module in Debian's Chromium (Playwright),
    on the data the kernel computed for each size; {} when there is no Chromium."""
    import functools
    import http.server
    import json
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    if chromium is None:
        return {}
    from sweepnb.notebook.widget import STATIC

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("dashboard.js", "dashboard.css"):
            shutil.copy(STATIC / name, Path(tmp) / name)
        (Path(tmp) / "index.html").write_text(HARNESS)
        handler = functools.partial(_Quiet, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for n, state in states.items():
                (Path(tmp) / "state.json").write_text(json.dumps(state))
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.wait_for_function("() => window.bench !== undefined")
                out[n] = page.evaluate("() => window.bench()")
                page.close()
            browser.close()
        server.shutdown()
    return out


def widget_report(sizes: list[int]) -> None:
    print("\ninteractive widget (issue 21): kernel cost and bytes per refresh, 8 running runs "
          "logging (targets at 1,000 runs: <= 50 ms, <= 100 kB)")  # fmt: skip
    print(f"{'runs':>6} {'first ms':>9} {'first kB':>9} {'refresh ms':>11} {'cpu':>6} "
          f"{'refresh kB':>11} {'last ms':>8}")  # fmt: skip
    states = {}
    for n in sizes:
        row = widget_refreshes(n)
        states[row["runs"]] = row.pop("state")
        print(f"{row['runs']:>6} {row['first_ms']:>9.0f} {row['first_kb']:>9.0f} "
              f"{row['warm_ms']:>11.1f} {row['warm_cpu_ms']:>6.1f} {row['warm_kb']:>11.1f} "
              f"{row['last_ms']:>8.0f}")  # fmt: skip
    try:
        rows = [plotly_refresh(n) for n in sizes]
    except ImportError:
        rows = []
    if rows:
        print("plotly FigureWidget + Parcoords, the same runs: one refresh re-sends every value")
        for row in rows:
            print(f"{row['runs']:>6} runs: {row['ms']:.0f} ms in the kernel, {row['kb']:.0f} kB")
    times = browser_times(states)
    if times:
        print("in Chromium (the module drawing the kernel's data; target: brush <= 100 ms at "
              "10,000 runs)")  # fmt: skip
        print(f"{'runs':>6} {'first render ms':>16} {'brush ms':>9} {'hover ms':>9}")
        for n, t in times.items():
            parts = ", ".join(f"{k} {v:.0f}" for k, v in (t.get("parts") or {}).items())
            print(
                f"{n:>6} {t['first']:>16.0f} {t['brush']:>9.1f} {t['hover']:>9.2f}   ({parts} ms)"
            )
    else:
        print("(no Chromium or Playwright here: browser times skipped)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--repeats", type=int, default=3, help="refreshes timed per size")
    parser.add_argument("--steps", type=int, default=10, help="values each sweep run logs")
    parser.add_argument("--step-seconds", type=float, default=0.05, help="time between them")
    parser.add_argument("--skip-sweep", action="store_true", help="only time the refreshes")
    parser.add_argument("--only-sweep", action="store_true", help="only run the 200-run sweep")
    parser.add_argument("--png", metavar="PATH", help="also save the largest size's chart here")
    parser.add_argument("--only-widget", action="store_true", help="only the interactive widget")
    args = parser.parse_args(argv)
    if args.only_widget:
        widget_report([200] if args.quick else [1000, 10000])
        return
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
    if not args.only_sweep:
        widget_report([200] if args.quick else [1000, 10000])
    if args.skip_sweep:
        return
    steps, step_seconds = (5, 0.02) if args.quick else (args.steps, args.step_seconds)
    result = sweep_share(200, steps, step_seconds)
    with_widget = sweep_share(200, steps, step_seconds, widget=True)
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
        f"  the interactive widget instead: {with_widget['refresh_s']:.2f} s wall on "
        f"{with_widget['renders']} refreshes = {100 * with_widget['share']:.1f}% of "
        f"{with_widget['wall_s']:.1f} s"
    )
    print(
        f"  the same sweep without a dashboard: {baseline['wall_s']:.1f} s "
        f"(difference {100 * (result['wall_s'] / baseline['wall_s'] - 1):+.1f}%)"
    )


if __name__ == "__main__":
    main()
