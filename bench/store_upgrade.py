"""How long opening a schema-1 store takes when it upgrades it (``sweepnb.store.migrations``):
the runs gain ``version``, the artifact tables are made, history rows logged twice at one step
are merged and the unique ``(run_id, step)`` index is built, in one transaction.

    python bench/store_upgrade.py [--runs 1000] [--rows 100] [--duplicates 0.01] [--store URL]

The schema-1 store is made from a new one by undoing versions 2 and 3 with SQL (SQLite 3.35+
drops columns), then filled with ``--runs`` runs of ``--rows`` history rows, a ``--duplicates``
share of them written twice. ``--store`` takes an empty PostgreSQL database instead of a
temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from sweepnb.store import Store


def schema_1(url: str) -> sa.Engine:
    """A new store at ``url`` turned back into a schema-1 store; its raw engine."""
    Store(url).list_sweeps()
    engine = sa.create_engine(Store(url).engine_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX uq_history_run_step"))
        conn.execute(sa.text("CREATE INDEX ix_history_run_id ON history (run_id)"))
        for table in ("artifact_usage", "artifact_aliases", "artifact_versions"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
        conn.execute(sa.text("ALTER TABLE runs DROP COLUMN version"))
        conn.execute(sa.text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    return engine


def fill(engine: sa.Engine, runs: int, rows: int, duplicates: float) -> int:
    """``runs`` finished runs of one sweep with ``rows`` history rows each; returns the rows."""
    config = json.dumps({"method": "random", "parameters": {"x": {"values": [1]}}})
    now = time.time()
    every = max(1, round(1 / duplicates)) if duplicates > 0 else 0
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sweeps (id, config, state, created, updated) "
                "VALUES ('bench001', :c, 'finished', :t, :t)"
            ),
            {"c": config, "t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, sweep_id, state, config, summary, created, "
                "stop_requested) VALUES (:id, 'bench001', 'finished', '{\"x\": 1}', '{}', :t, "
                "false)"
            ),
            [{"id": f"r{i:07d}", "t": now + i} for i in range(runs)],
        )
        history = [
            {"run": f"r{i:07d}", "step": s, "v": json.dumps({"loss": 1 / (s + 1), "_step": s})}
            for i in range(runs)
            for s in range(rows)
        ]
        if every:
            history += history[::every]  # the same steps again: the rows to merge
        conn.execute(
            sa.text('INSERT INTO history (run_id, step, "values") VALUES (:run, :step, :v)'),
            history,
        )
    return len(history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--duplicates", type=float, default=0.01)
    parser.add_argument("--store", default=None, help="an empty PostgreSQL store URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.store or f"sqlite:///{Path(tmp) / 'old.db'}"
        engine = schema_1(url)
        total = fill(engine, args.runs, args.rows, args.duplicates)
        engine.dispose()
        store = Store(url)
        start = time.perf_counter()
        store.list_sweeps()  # the first use opens the store: the upgrade
        seconds = time.perf_counter() - start
        left = len(store.get_run("r0000000")["history"])
        print(
            f"{store.backend}: upgraded a schema-1 store of {args.runs} runs, {total} history "
            f"rows ({total - args.runs * args.rows} written twice) in {seconds:.2f} s; "
            f"run r0000000 has {left} rows"
        )


if __name__ == "__main__":
    main()
