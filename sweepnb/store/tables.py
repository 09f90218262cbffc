"""The store's schema: its tables, their creation and version check, and the few SQL statements
several of the store's methods share.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sweepnb.engine.states import RUN_STATES, TERMINAL_RUN_STATES  # noqa: F401  (re-exported)
from sweepnb.errors import StoreError
from sweepnb.store.records import death_note, from_json, new_id

SCHEMA_VERSION = 1
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
    sa.Column("run_id", sa.String(16), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("values", sa.Text, nullable=False),
)


def prepare_schema(engine: Engine, display_url: str) -> None:
    """Create the tables in an empty database, or check the schema version of an existing one."""
    with engine.connect() as conn:
        conn.execution_options(sweepnb_write=True)
        with conn.begin():
            if engine.dialect.name == "postgresql":
                # concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL's catalogue
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7201543901)"))
            _check_or_create(conn, display_url)


def _check_or_create(conn: Connection, display_url: str) -> None:
    tables = set(sa.inspect(conn).get_table_names())
    if "meta" not in tables:
        if tables & {"sweeps", "runs", "history"}:
            raise StoreError(
                f"store {display_url} has sweepnb-like tables but no schema version: "
                "it was made by another program or a pre-release sweepnb; use a new store"
            )
        metadata.create_all(conn)
        conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))
        return
    version = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar()
    if version != str(SCHEMA_VERSION):
        raise StoreError(
            f"store {display_url} has schema version {version}, but this sweepnb "
            f"reads version {SCHEMA_VERSION}; upgrade sweepnb or use a new store"
        )
    add_change_seq(conn)


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
    """Insert ``(step, JSON text)`` history rows of the run."""
    if rows:
        conn.execute(
            sa.insert(history_table),
            [{"run_id": run_id, "step": step, "values": text} for step, text in rows],
        )


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
# Stores made before these columns get them from ``add_change_seq`` when opened.

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
