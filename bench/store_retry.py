"""The cost of the store's retry wrapper when nothing fails: one run's writes (a history row and
its summary, as ``Run.flush`` sends them) through ``Store.log`` — the wrapped path — against the
same transaction run directly on the engine, in the same process, on the same SQLite file.

    python bench/store_retry.py [--writes 2000]

Prints the time per write of each path and their ratio (wrapped / direct), then the issue's lock
case: a run logs 10 rows while another connection holds SQLite's write lock for 3 s, far past a
0.2 s busy timeout; prints the rows dropped (want 0) and the run's state.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import sweepnb
from sweepnb.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.db")
        sid = store.create_sweep({"method": "random", "parameters": {"x": {"values": [1]}}})
        run = store.claim_run(sid, lambda sweep, runs: {"x": 1}, host="bench", pid=0, agent="b")
        write = store.log
        # the same work without the retry loop: the unwrapped transaction body of Store.log
        unwrapped = store._write.__func__

        def direct(fn):
            with store.engine.connect() as conn:
                conn.execution_options(sweepnb_write=True)
                with conn.begin():
                    return fn(conn)

        timings = {}
        paths = ("wrapped", "direct", "wrapped", "direct")  # interleaved, best of two
        for round_, name in enumerate(paths):
            store._write = (lambda fn: unwrapped(store, fn)) if name == "wrapped" else direct
            start = time.perf_counter()
            for i in range(args.writes):
                step = round_ * args.writes + i  # new rows each round (a step is written once)
                write(run["id"], [{"loss": float(i), "_step": step}], {"loss": float(i)})
            per = (time.perf_counter() - start) / args.writes
            timings[name] = min(timings.get(name, per), per)
        print(f"sweepnb {sweepnb.__version__}: {args.writes} writes per path, SQLite")
        print(f"wrapped (retrying) : {timings['wrapped'] * 1e3:.3f} ms per write")
        print(f"direct (no retry)  : {timings['direct'] * 1e3:.3f} ms per write")
        print(f"ratio wrapped/direct: {timings['wrapped'] / timings['direct']:.3f}")
    lock_figure()


def lock_figure(rows: int = 10, hold_s: float = 3.0) -> None:
    os.environ["SWEEPNB_SQLITE_BUSY_TIMEOUT"] = "0.2"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.db"
        sid = sweepnb.sweep({"method": "grid", "parameters": {"x": {"values": [1]}}}, store=db)
        taken = threading.Event()

        def hold():
            conn = sqlite3.connect(db, isolation_level=None, timeout=60)
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(hold_s)
            conn.execute("COMMIT")
            conn.close()

        def train():
            for step in range(rows):
                if step == rows // 3:
                    threading.Thread(target=hold, daemon=True).start()
                    taken.wait(10)
                sweepnb.log({"loss": float(step)})
                time.sleep(0.25)  # past the flush interval: each row is a write of its own

        sweepnb.agent(sid, train, count=1, store=db)
        (run,) = Store(db).get_runs(sid)
        dropped = rows - len(run["history"])
        print(
            f"lock held {hold_s:.0f} s (busy timeout 0.2 s): {dropped} of {rows} rows dropped, "
            f"run {run['state']}"
        )


if __name__ == "__main__":
    main()
