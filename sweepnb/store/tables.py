"""The store's schema: its tables (artifacts' included), the version and fingerprint that name
them, and the few SQL statements several of the store's methods share.

Every change to a table here is a new schema version: bump ``SCHEMA_VERSION``, add the step
that upgrades the previous version to ``sweepnb.store.migrations.MIGRATIONS``, and set
``SCHEMA_FINGERPRINT`` to what :func:`schema_fingerprint` computes. ``tests/test_migrations.py``
fails until all three are done, so no two sweepnb builds write one version number over
different tables.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sweepnb.engine.states import RUN_STATES, TERMINAL_RUN_STATES  # noqa: F401  (re-exported)
from sweepnb.store.records import death_note, from_json, new_id, to_json

# 1: sweeps, runs, history, meta (runs.version and the artifact tables came later without a
#    bump, so a version-1 store may or may not have them); 2: runs.version and the artifact
#    tables for sure; 3: one history row per (run, step): a retried write never duplicates one
#    (the unique index on them replaces the index on run_id); 4: the change sequence
#    (sweeps.seq, sweeps.deleted_seq, runs.seq, index ix_runs_sweep_seq: readers ask what changed)
SCHEMA_VERSION = 4
SCHEMA_FINGERPRINT = "9cb413b035028a7a"  # schema_fingerprint() of the tables below
SWEEP_STATES = ("running", "paused", "finished", "cancelled")

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sweeps_table = sa.Table(
    "sweeps",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("project", sa.Text),
    sa.Column("entity", sa.Text),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    # issue 22 (change sequence): see CHANGE_SEQ below
    sa.Column("seq", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("deleted_seq", sa.Integer, nullable=False, default=0, server_default="0"),
)

runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("sweep_id", sa.String(16), sa.ForeignKey("sweeps.id"), index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float),
    sa.Column("ended", sa.Float),
    sa.Column("heartbeat", sa.Float),
    sa.Column("host", sa.Text),
    sa.Column("pid", sa.Integer),
    sa.Column("agent", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("stop_reason", sa.Text),
    sa.Column("project", sa.Text),
    sa.Column(
        "notes", sa.Text
    ),  # the run's W&B attributes as JSON: name, tags, notes, group, job_type
    # bumped by every update, so a reader can tell which runs changed since it last looked
    sa.Column("version", sa.Integer, nullable=False, default=0),
    # issue 22 (change sequence): the sweep's seq at this run's last write; see CHANGE_SEQ below
    sa.Column("seq", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Index("ix_runs_sweep_seq", "sweep_id", "seq"),
)

history_table = sa.Table(
    "history",
    metadata,
    # the autoincrement id keeps rows in the order they were logged
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(16), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("values", sa.Text, nullable=False),
    # one row per step: a write retried after a lost COMMIT reply finds its rows there
    # (insert_history), and a row logged again at a step merges into it, as in W&B. It also
    # serves every lookup by run (version 3 dropped the run_id index: one index per row less)
    sa.Index("uq_history_run_step", "run_id", "step", unique=True),
)

# -- artifacts: which files (by sha256) make up ``model:v3``, its aliases, who logged and used it
# (read and written by sweepnb.store.artifacts)

versions_table = sa.Table(
    "artifact_versions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(256), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("metadata", sa.Text, nullable=False),  # JSON object
    sa.Column("manifest", sa.Text, nullable=False),  # JSON {path: {"digest", "size"}}
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.String(16), index=True),  # the producing run (None: logged outside)
    sa.Column("project", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    # the last line of defence against two writers numbering the same version
    sa.UniqueConstraint("name", "version", name="uq_artifact_name_version"),
)

aliases_table = sa.Table(
    "artifact_aliases",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("version_id", sa.String(32), nullable=False, index=True),
)

usage_table = sa.Table(
    "artifact_usage",
    metadata,
    sa.Column("version_id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(16), primary_key=True, index=True),
    sa.Column("used", sa.Float, nullable=False),
)


def schema_fingerprint(meta: sa.MetaData = metadata) -> str:
    """A short hash of every table, column (name, type, nullability, keys), index and unique
    constraint of ``meta``: it changes with the schema, not with comments or formatting."""
    lines = []
    for table in sorted(meta.tables.values(), key=lambda t: t.name):
        lines.append(f"table {table.name}")
        for col in table.columns:
            targets = sorted(fk.target_fullname for fk in col.foreign_keys)
            lines.append(
                f"column {col.name} {col.type!r} nullable={col.nullable} "
                f"primary_key={col.primary_key} references={targets}"
            )
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            lines.append(f"index {index.name} {[c.name for c in index.columns]} {index.unique}")
        uniques = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
        for unique in sorted(uniques, key=lambda c: str(c.name)):
            lines.append(f"unique {unique.name} {[c.name for c in unique.columns]}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def update_run(conn: Connection, where: Any, **values: Any) -> None:
    """Update the runs matching ``where``, bumping their ``version`` and their sweep's change
    sequence (readers see the change: see "Change sequence" below)."""
    of_runs = sweeps_table.c.id.in_(sa.select(runs_table.c.sweep_id).where(where).scalar_subquery())
    if conn.dialect.name == "postgresql":
        # one statement, one round trip: the sweeps' bump in a CTE whose RETURNING gives the seq
        bumped = (
            sa.update(sweeps_table)
            .where(of_runs)
            .values(seq=sweeps_table.c.seq + 1)
            .returning(sweeps_table.c.id, sweeps_table.c.seq)
            .cte("bumped")
        )
        seq = sa.select(bumped.c.seq).where(bumped.c.id == runs_table.c.sweep_id)
        seq = sa.func.coalesce(seq.scalar_subquery(), 0)
    else:
        bump_seq(conn, of_runs)
        seq = _sweep_seq_of_run()
    conn.execute(
        sa.update(runs_table)
        .where(where)
        .values(version=runs_table.c.version + 1, seq=seq, **values)
    )


def next_step(conn: Connection, run_id: str) -> int:
    """The step after the run's last history row (0 for none)."""
    last = conn.execute(
        sa.select(sa.func.max(history_table.c.step)).where(history_table.c.run_id == run_id)
    ).scalar()
    return 0 if last is None else last + 1


def insert_history(conn: Connection, run_id: str, rows: list[tuple[int, str]]) -> None:
    """Write ``(step, JSON text)`` history rows of the run: one row per step.

    A row at a step the run already has merges into it (its keys win, as W&B merges a step
    logged twice); a row already there as it is — the same write retried after its COMMIT
    reply was lost — changes nothing. The unique ``(run_id, step)`` index backs this.
    """
    if not rows:
        return
    batch: dict[int, str] = {}
    for step, text in rows:  # a step twice in one batch: one row, the later keys winning
        batch[step] = _merged(batch[step], text) if step in batch else text
    existing = _stored_steps(conn, run_id, batch)
    new = [
        {"run_id": run_id, "step": s, "values": t} for s, t in batch.items() if s not in existing
    ]
    if new:
        conn.execute(sa.insert(history_table), new)
    for step, stored in existing.items():
        merged = _merged(stored, batch[step])
        if merged != stored:
            where = (history_table.c.run_id == run_id) & (history_table.c.step == step)
            conn.execute(sa.update(history_table).where(where).values(values=merged))


def _stored_steps(conn: Connection, run_id: str, steps: dict[int, Any]) -> dict[int, str]:
    """The run's stored rows at ``steps`` (``step -> JSON text``). One range query: a run logs
    upwards, so the range past its last row is empty and costs one index probe."""
    query = sa.select(history_table.c.step, history_table.c["values"]).where(
        (history_table.c.run_id == run_id) & history_table.c.step.between(min(steps), max(steps))
    )
    return {step: text for step, text in conn.execute(query) if step in steps}


def _merged(stored: str, text: str) -> str:
    """The JSON text of row ``stored`` with row ``text``'s keys written over it."""
    if stored == text:
        return stored
    old, new = from_json(stored), from_json(text)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return text  # an unreadable stored row is replaced, never merged into
    return to_json({**old, **new}, "history row")


def control_row(conn: Connection, run_id: str) -> Any:
    """The run's control fields and its sweep's state (``sweep_state``) in one statement, or
    None for an unknown run."""
    query = (
        sa.select(
            runs_table.c.id,
            runs_table.c.state,
            runs_table.c.summary,
            runs_table.c.stop_requested,
            runs_table.c.stop_reason,
            runs_table.c.sweep_id,
            sweeps_table.c.state.label("sweep_state"),
        )
        .select_from(runs_table.outerjoin(sweeps_table))
        .where(runs_table.c.id == run_id)
    )
    return conn.execute(query).first()


def unused_id(conn: Connection, table: sa.Table) -> str:
    """A fresh id (:func:`new_id`) that ``table`` does not hold yet."""
    while True:
        candidate = new_id()
        if conn.execute(sa.select(table.c.id).where(table.c.id == candidate)).first() is None:
            return candidate


def crash_dead_runs(
    conn: Connection,
    sweep_id: str | None,
    stale_after: float,
    dead_pids_on: str | None,
    now: float | None,
) -> list[str]:
    """Mark as ``crashed`` the running runs (of ``sweep_id``, or all) whose heartbeat is older
    than ``stale_after`` s, or whose process on host ``dead_pids_on`` is gone (``Store.reap``)."""
    at = time.time() if now is None else now
    where = runs_table.c.state == "running"
    if sweep_id is not None:
        where = where & (runs_table.c.sweep_id == sweep_id)
    candidates = conn.execute(
        sa.select(
            runs_table.c.id,
            runs_table.c.heartbeat,
            runs_table.c.host,
            runs_table.c.pid,
            runs_table.c.summary,
        ).where(where)
    ).all()
    dead = [(r, death_note(r, at, stale_after, dead_pids_on)) for r in candidates]
    dead = [(r, note) for r, note in dead if note]
    for r, note in dead:
        running = (runs_table.c.id == r.id) & (runs_table.c.state == "running")
        summary = from_json(r.summary) if r.summary and "_program_end" in r.summary else None
        if isinstance(summary, dict) and summary.get("_program_end") == "finished":
            # the program finished its run and wrote all of it; only its agent died before
            # recording that: the run is complete, not crashed
            note = f"{note}; its program had finished the run"
            update_run(conn, running, state="finished", ended=at, error=note)
        else:
            update_run(conn, running, state="crashed", ended=at, error=note)
    return [r.id for r, _ in dead]


# ---------------------------------------------------------------------------------------------
# Change sequence (issue 22): what changed in a sweep since a reader last looked
# ---------------------------------------------------------------------------------------------

# Every write to a run of a sweep, in one transaction, bumps ``sweeps.seq`` (``bump_seq``) and
# stamps the run's ``runs.seq`` with the new value (``update_run``, ``insert_run``), so the runs
# that changed since a reader saw seq S are ``WHERE sweep_id = ? AND seq > S``, through the index
# ``ix_runs_sweep_seq (sweep_id, seq)``. The UPDATE of the sweep row takes its row lock (SQLite:
# the one write lock) until commit, so writers of one sweep commit in seq order: a reader that sees
# seq N sees every lower seq too, and never skips a lower seq committed later. Deleting runs
# (``delete_runs``) sets ``sweeps.deleted_seq`` to its seq: a reader older than that re-lists ids.
# Stores of schema version 3 get them from ``add_change_seq``, the migration step to version 4.

#: The columns and index the change sequence adds, for ``add_change_seq`` (table, name, DDL type).
CHANGE_SEQ_COLUMNS = (
    ("sweeps", "seq", "INTEGER NOT NULL DEFAULT 0"),
    ("sweeps", "deleted_seq", "INTEGER NOT NULL DEFAULT 0"),
    ("runs", "seq", "INTEGER NOT NULL DEFAULT 0"),
)
CHANGE_SEQ_INDEX = "CREATE INDEX IF NOT EXISTS ix_runs_sweep_seq ON runs (sweep_id, seq)"


def add_change_seq(conn: Connection) -> None:
    """Add the change-sequence columns and index to a store made before them (idempotent, SQLite
    and PostgreSQL). Old runs keep seq 0: a reader's first look reads a sweep whole anyway."""
    inspector = sa.inspect(conn)
    have = {
        table: {c["name"] for c in inspector.get_columns(table)} for table in ("sweeps", "runs")
    }
    for table, column, ddl in CHANGE_SEQ_COLUMNS:
        if column not in have[table]:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    if "ix_runs_sweep_seq" not in {i["name"] for i in inspector.get_indexes("runs")}:
        conn.execute(sa.text(CHANGE_SEQ_INDEX))


def bump_seq(conn: Connection, where: Any, *, returning: bool = False) -> int | None:
    """Bump the change sequence of the sweeps matching ``where`` (and lock their rows until
    commit: the writers of one sweep then commit in seq order); ``returning``: the new seq of
    the one sweep matched (in the same statement where the database can: a round trip less
    per claim on PostgreSQL)."""
    bump = sa.update(sweeps_table).where(where).values(seq=sweeps_table.c.seq + 1)
    if not returning:
        conn.execute(bump)
        return None
    if conn.dialect.update_returning:
        return conn.execute(bump.returning(sweeps_table.c.seq)).scalar_one()
    conn.execute(bump)
    return conn.execute(sa.select(sweeps_table.c.seq).where(where)).scalar_one()


def _sweep_seq_of_run() -> Any:
    """The seq of the run's sweep, in an UPDATE/INSERT of ``runs`` (0 for a standalone run)."""
    seq = sa.select(sweeps_table.c.seq).where(sweeps_table.c.id == runs_table.c.sweep_id)
    return sa.func.coalesce(seq.scalar_subquery(), 0)


def insert_run(conn: Connection, values: dict) -> None:
    """Insert a run (``values``: its columns), stamped with its sweep's bumped change sequence."""
    seq = 0
    if values.get("sweep_id") is not None:
        seq = bump_seq(conn, sweeps_table.c.id == values["sweep_id"], returning=True)
    conn.execute(sa.insert(runs_table).values(seq=seq, **values))


def delete_runs(conn: Connection, run_ids: list[str]) -> list[str]:
    """Delete the runs ``run_ids`` and their history; their sweeps' readers re-list (their
    ``deleted_seq``). Returns the ids that existed."""
    found = conn.execute(
        sa.select(runs_table.c.id, runs_table.c.sweep_id).where(runs_table.c.id.in_(run_ids))
    ).all()
    sweep_ids = sorted({sweep_id for _, sweep_id in found if sweep_id is not None})
    if sweep_ids:
        where = sweeps_table.c.id.in_(sweep_ids)
        bump_seq(conn, where)
        conn.execute(sa.update(sweeps_table).where(where).values(deleted_seq=sweeps_table.c.seq))
    ids = [run_id for run_id, _ in found]
    if ids:
        conn.execute(sa.delete(history_table).where(history_table.c.run_id.in_(ids)))
        conn.execute(sa.delete(runs_table).where(runs_table.c.id.in_(ids)))
    return ids
