"""Scale of agents and commands (issue 22): what a suggestion, a claim and each command cost in a
big sweep.

    python bench/scale_agents.py                     # all parts, SQLite (+ PostgreSQL if given)
    python bench/scale_agents.py --postgres URL      # PostgreSQL too (or $SWEEPNB_TEST_POSTGRES)
    python bench/scale_agents.py --only suggest|commands|soak
    python bench/scale_agents.py --sizes 100,1000 --runs 2000 --soak-runs 2000   # a quick look

1. **Suggestions through the agents' path** at 100, 1,000, 10,000 and 100,000 runs, grid (a
   grid of twice that many points, a random half of them done) and random: a real agent claims
   run after run in a SQLite store built with bulk inserts (``claim ms``: the whole claim, store
   included; ``engine ms``: the agent's Suggester brought up to date and asked, without the
   store's read of the changed runs), after one
   warm-up claim (its first look reads the sweep whole). ``pure ms`` is ``engine.suggest(cfg,
   runs)`` on every run: the engine's cost when each claim handed it the whole sweep.
2. **Commands at 20,000 runs** (5 history rows each): ``sweepnb ls``, ``show``, ``export`` as
   subprocesses (Python's start-up included, as a user waits for them), ``sweepnb.runs()``
   in-process with a new store object (a cold cache), the dashboard's first refresh and a
   refresh after 10 runs changed (``Dashboard(...)._make_view(); update(force=True)``), its
   one-off imports apart. Wall and CPU seconds: on a loaded machine wall is CPU times the wait.
3. **The soak** (``bench/soak.py``): 20,000 runs by 2 parallel agents, runs/s over the first and
   the last 1,000 and their ratio (target >= 0.8), on SQLite and PostgreSQL.

Prints the date, commit, machine load and one table per part. Wall times on a shared machine
vary with load; the soak's ratio is measured within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's sweepnb
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa

import sweepnb
from sweepnb import engine
from sweepnb.store import Store, history_table, runs_table, to_json
from sweepnb.store.records import new_id

SIZES = (100, 1_000, 10_000, 100_000)
CLAIMS = 30  # timed claims per size

RANDOM = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
        "batch": {"values": [16, 32, 64, 128]},
        "dropout": {"min": 0.0, "max": 0.5},
    },
}


def grid_config(points: int) -> dict:
    """A grid of about ``points`` points: two int_uniform axes."""
    side = max(2, int(points**0.5))
    other = max(2, points // side)
    return {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "a": {"distribution": "int_uniform", "min": 0, "max": side - 1},
            "b": {"distribution": "int_uniform", "min": 0, "max": other - 1},
        },
    }


def bulk_sweep(store: Store, cfg: dict, configs: list[dict], history: int = 0) -> str:
    """A sweep holding finished runs of ``configs`` (``history`` rows each), inserted in bulk:
    100,000 runs through the store's API one transaction each would take minutes."""
    sid = store.create_sweep(cfg)
    now = time.time() - len(configs)
    ids: set[str] = set()
    rows, hist = [], []
    for i, config in enumerate(configs):
        run_id = new_id()
        while run_id in ids:
            run_id = new_id()
        ids.add(run_id)
        loss = random.random()
        rows.append(
            {
                "id": run_id,
                "sweep_id": sid,
                "state": "finished",
                "config": to_json(config, "config"),
                "summary": to_json({"loss": loss, "_runtime": 1.0}, "summary"),
                "created": now + i,
                "started": now + i,
                "ended": now + i + 0.5,
                "heartbeat": now + i + 0.5,
                "host": "bench",
                "pid": 1,
                "agent": "bench",
                "stop_requested": False,
                "version": history,
            }
        )
        hist += [
            {"run_id": run_id, "step": s, "values": to_json({"_step": s, "loss": loss + s}, "row")}
            for s in range(history)
        ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(runs_table), rows[start : start + 5000])
        for start in range(0, len(hist), 20000):
            conn.execute(sa.insert(history_table), hist[start : start + 20000])
    return sid


def grid_runs(cfg: dict, n: int, rng: random.Random) -> list[dict]:
    """Configs of ``n`` distinct points of the grid, a random choice among all of them."""
    params = cfg["parameters"]
    sides = [params[k]["max"] - params[k]["min"] + 1 for k in ("a", "b")]
    chosen = rng.sample(range(sides[0] * sides[1]), n)
    return [{"a": p // sides[1], "b": p % sides[1]} for p in chosen]


def random_runs(n: int, rng: random.Random) -> list[dict]:
    return [
        {"lr": 10 ** rng.uniform(-5, 0), "batch": rng.choice([16, 32, 64, 128]), "dropout": 0.1}
        for _ in range(n)
    ]


class TimedAgent:
    """A real agent (``sweepnb.runtime.agent``) whose claims and engine calls are timed."""

    def __init__(self, store: Store, sid: str):
        from sweepnb.runtime.agent import FailurePolicy, _Agent

        self.agent = _Agent(
            sid,
            lambda: None,
            store,
            kill_delay=1.0,
            heartbeat=30.0,
            quiet=True,
            name="bench",
            policy=FailurePolicy(),
        )
        self.agent._last_reap = float("inf")  # the reaper's checks are not the claim's cost
        self.engine_s = 0.0
        propose = self.agent._propose

        def timed_propose(sweep, changes):
            # the engine's share: the propose call less the store's read of the changes
            read = 0.0

            def timed_changes(since):
                nonlocal read
                start = time.perf_counter()
                try:
                    return changes(since)
                finally:
                    read += time.perf_counter() - start

            start = time.perf_counter()
            try:  # (an agent of before issue 22 got the runs themselves)
                return propose(sweep, timed_changes if callable(changes) else changes)
            finally:
                self.engine_s += time.perf_counter() - start - read

        self.agent._propose = timed_propose

    def claim(self) -> dict:
        run = self.agent._claim()
        if run is None:
            raise RuntimeError(f"no claim: {self.agent.result.reason}")
        return run


def suggestion_costs(url: str, method: str, size: int) -> dict:
    """ms per claim and per engine call at ``size`` runs; ms of the pure suggest."""
    rng = random.Random(size)
    if method == "grid":
        cfg = grid_config(2 * size)
        configs = grid_runs(cfg, size, rng)
    else:
        cfg, configs = RANDOM, random_runs(size, rng)
    store = Store(url)
    sid = bulk_sweep(store, cfg, configs)
    agent = TimedAgent(store, sid)
    agent.claim()  # the agent's first look: the whole sweep
    agent.engine_s = 0.0
    start = time.perf_counter()
    for _ in range(CLAIMS):
        agent.claim()
    claim_ms = (time.perf_counter() - start) * 1000 / CLAIMS
    runs = store.get_runs(sid, history=False)
    loaded = engine.load_config(cfg)
    pure = []
    for i in range(3 if size >= 10_000 else 10):
        t = time.perf_counter()
        engine.suggest(loaded, runs, seed=i)
        pure.append(time.perf_counter() - t)
    store.close()
    return {
        "claim": claim_ms,
        "engine": agent.engine_s * 1000 / CLAIMS,
        "pure": statistics.median(pure) * 1000,
    }


def suggestion_table(sizes: list[int], tmp: Path) -> None:
    print("\n## Suggestions through the agents' path (SQLite), ms each")
    print("| method | runs | claim ms | engine ms | pure suggest ms |")
    print("|---|---:|---:|---:|---:|")
    for method in ("grid", "random"):
        for size in sizes:
            url = str(tmp / f"suggest-{method}-{size}.db")
            got = suggestion_costs(url, method, size)
            print(
                f"| {method} | {size:,} | {got['claim']:.2f} | {got['engine']:.3f} "
                f"| {got['pure']:.1f} |",
                flush=True,
            )


# -- commands ------------------------------------------------------------------------------------


def timed(function) -> tuple[float, float]:
    """(wall, CPU) seconds of ``function()`` in this process."""
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu


def cli_seconds(url: str, *args: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``sweepnb ARGS --store URL`` in a new Python process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sweepnb", *args, "--store", url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()[-400:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def dashboard_seconds(url: str, sid: str) -> list[tuple[str, tuple[float, float]]]:
    """The dashboard's one-off imports (the widget, matplotlib, scikit-learn's forest: once per
    kernel, whatever the sweep), its first refresh (a new store object: nothing cached) and a
    refresh after 10 runs changed (``_make_view(); update(force=True)``, as tests/test_widget.py)."""

    def imports():
        import sklearn.ensemble  # noqa: F401

        from sweepnb.notebook import charts, dashboard, widget  # noqa: F401

    def first():
        from sweepnb.notebook.dashboard import Dashboard

        nonlocal dash
        dash = Dashboard(sid, Store(url))
        dash._make_view()
        dash.update(force=True)

    dash = None
    rows = [("dashboard: imports (once per kernel)", timed(imports))]
    rows.append(("dashboard: first refresh", timed(first)))
    writer = Store(url)
    for run in writer.get_runs(sid, history=False)[-10:]:
        writer.log(run["id"], [{"loss": 0.001}], summary={"loss": 0.001})
    rows.append(
        ("dashboard: refresh after 10 runs changed", timed(lambda: dash.update(force=True)))
    )
    return rows


def command_table(url: str, runs: int, label: str, tmp: Path) -> None:
    store = Store(url)
    sid = bulk_sweep(store, RANDOM, random_runs(runs, random.Random(0)), history=5)
    out = tmp / f"export-{label}.csv"
    rows = [
        ("sweepnb ls", cli_seconds(url, "ls")),
        ("sweepnb show ID", cli_seconds(url, "show", sid)),
        ("sweepnb export ID (csv)", cli_seconds(url, "export", sid, "-o", str(out))),
        ("sweepnb export ID --format json", cli_seconds(url, "export", sid, "--format", "json")),
        ("sweepnb.runs(ID)", timed(lambda: sweepnb.runs(sid, store=Store(url)))),
        *dashboard_seconds(url, sid),
    ]
    print(f"\n## Commands at {runs:,} runs, {label} (target < 2 s wall)")
    print("| command | wall s | CPU s |")
    print("|---|---:|---:|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |", flush=True)


def soak_table(urls: list[tuple[str, str]], runs: int, window: int) -> None:
    from soak import soak

    print(f"\n## Soak: {runs:,} runs, 2 agents, runs/s over the first and last {window:,}")
    print("| store | first | last | ratio | overall | lost | incomplete |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, url in urls:
        got = soak(url, runs, 2, window)
        print(
            f"| {label} | {got['first']:.1f} | {got['last']:.1f} | {got['ratio']:.2f} "
            f"| {got['overall']:.1f} | {got['lost']} | {got['incomplete']} |",
            flush=True,
        )


@contextlib.contextmanager
def fresh_schema(url: str):
    """``url`` pointed at a new PostgreSQL schema, dropped at the end (the bench's store starts
    empty and leaves nothing behind)."""
    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def header() -> None:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()[:72]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"commit: {commit}")
    print(f"machine: {os.cpu_count()} cores, load average {load} (at the start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("SWEEPNB_TEST_POSTGRES"))
    parser.add_argument("--only", choices=("suggest", "commands", "soak"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=20_000, help="runs for the commands")
    parser.add_argument("--soak-runs", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=1000)
    args = parser.parse_args()
    header()
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        stores = [("SQLite", str(tmp / "scale.db"))]
        if args.postgres:
            stores.append(("PostgreSQL", stack.enter_context(fresh_schema(args.postgres))))
        if args.only in (None, "suggest"):
            suggestion_table([int(s) for s in args.sizes.split(",")], tmp)
        if args.only in (None, "commands"):
            for label, url in stores:
                command_table(url, args.runs, label, tmp)
        if args.only in (None, "soak"):
            soak_table([(label, url) for label, url in stores], args.soak_runs, args.window)


if __name__ == "__main__":
    main()
