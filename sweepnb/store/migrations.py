"""Schema versions: a new store gets the current tables; an older one is upgraded in one
transaction, step by step; a newer one is refused in one line naming both versions.

The version is the ``schema_version`` row of the ``meta`` table. Each step in ``MIGRATIONS``
takes a store from the version before it to its own and must leave exactly the tables
``tables.py`` defines for that version (``tests/test_migrations.py`` upgrades stores written
by older schemas and compares them with a new store). Steps run inside the transaction that
opens the store, under its write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock),
so agents opening an old store at once upgrade it once, and a step that fails leaves the store
as it was (both backends roll DDL back).

>>> sorted(MIGRATIONS)
[2, 3, 4]
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sweepnb.errors import StoreError
from sweepnb.store.records import from_json, to_json
from sweepnb.store.tables import (
    SCHEMA_VERSION,
    add_change_seq,
    history_table,
    meta_table,
    metadata,
)

_PG_SCHEMA_LOCK = 7201543901  # advisory lock: one process creates or upgrades the schema
_OWN_TABLES = {"sweeps", "runs", "history"}


def prepare_schema(engine: Engine, display_url: str) -> None:
    """Create the tables in an empty database, upgrade an older store's, or refuse a store
    newer than this sweepnb (``StoreError``: one line with both versions)."""
    with engine.connect() as conn:
        conn.execution_options(sweepnb_write=True)
        with conn.begin():
            if engine.dialect.name == "postgresql":
                # concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL's catalogue
                conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_SCHEMA_LOCK})"))
            _create_or_upgrade(conn, display_url)


def _create_or_upgrade(conn: Connection, display_url: str) -> None:
    tables = set(sa.inspect(conn).get_table_names())
    if "meta" not in tables:
        if tables & _OWN_TABLES:
            raise StoreError(
                f"store {display_url} has sweepnb-like tables but no schema version: "
                "it was made by another program or a pre-release sweepnb; use a new store"
            )
        metadata.create_all(conn)
        _set_version(conn, SCHEMA_VERSION, insert=True)
        return
    version = stored_version(conn, display_url)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {display_url} has schema version {version}, newer than version "
            f"{SCHEMA_VERSION} that this sweepnb reads: upgrade sweepnb "
            "(pip install -U sweepnb) to open it"
        )
    if version < SCHEMA_VERSION:
        upgrade(conn, version)


def stored_version(conn: Connection, display_url: str = "store") -> int:
    """The store's schema version (``StoreError`` when the ``meta`` row is missing or odd)."""
    text = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar()
    try:
        version = int(str(text))
    except ValueError:
        version = 0
    if version < 1:
        raise StoreError(
            f"store {display_url} has schema version {text!r}, which no sweepnb wrote; "
            "use a new store"
        )
    return version


def upgrade(conn: Connection, version: int) -> None:
    """Run every step from ``version`` to ``SCHEMA_VERSION`` on ``conn`` (in its transaction)
    and record the new version."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target](conn)
    _set_version(conn, SCHEMA_VERSION)


def _set_version(conn: Connection, version: int, *, insert: bool = False) -> None:
    if insert:
        conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(version)))
    else:
        conn.execute(
            sa.update(meta_table)
            .where(meta_table.c.key == "schema_version")
            .values(value=str(version))
        )


# ---------------------------------------------------------------------------------------------
# The steps: MIGRATIONS[n] takes a store from version n - 1 to version n
# ---------------------------------------------------------------------------------------------


def _to_2(conn: Connection) -> None:
    """``runs.version`` (readers re-read only changed runs) and the artifact tables. Builds
    that wrote version 1 made either lazily, so each is added only where it is missing."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    if "version" not in columns:
        conn.execute(sa.text("ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 0"))
    # the tables as tables.py defines them now, which is their version-2 form; a later version
    # that changes them must first freeze that form here (the upgrade tests would fail)
    artifact_tables = [t for name, t in metadata.tables.items() if name.startswith("artifact_")]
    metadata.create_all(conn, tables=artifact_tables, checkfirst=True)


def _to_3(conn: Connection) -> None:
    """One history row per ``(run_id, step)``: rows a run logged twice at one step (or that a
    retried write duplicated) merge into the first, later keys winning; then the unique index
    ``uq_history_run_step`` makes a duplicate impossible, and replaces ``ix_history_run_id``."""
    groups = conn.execute(
        sa.select(history_table.c.run_id, history_table.c.step)
        .group_by(history_table.c.run_id, history_table.c.step)
        .having(sa.func.count() > 1)
    ).all()
    for run_id, step in groups:
        _merge_step(conn, run_id, step)
    index = next(i for i in history_table.indexes if i.name == "uq_history_run_step")  # as above
    index.create(conn)
    # the unique index leads with run_id: it serves every lookup by run the old index did
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_history_run_id"))


def _merge_step(conn: Connection, run_id: str, step: int) -> None:
    where = (history_table.c.run_id == run_id) & (history_table.c.step == step)
    rows = conn.execute(
        sa.select(history_table.c.id, history_table.c["values"])
        .where(where)
        .order_by(history_table.c.id)
    ).all()
    merged: dict = {}
    for _, text in rows:
        values = from_json(text)
        merged.update(values if isinstance(values, dict) else {})
    first = rows[0].id
    conn.execute(
        sa.update(history_table)
        .where(history_table.c.id == first)
        .values(values=to_json(merged, f"run {run_id} history row {step}"))
    )
    conn.execute(sa.delete(history_table).where(where & (history_table.c.id != first)))


def _to_4(conn: Connection) -> None:
    """The change sequence (issue 22): ``sweeps.seq``, ``sweeps.deleted_seq``, ``runs.seq`` and
    the index ``ix_runs_sweep_seq``, so a reader asks for the runs changed since it last looked.
    Old runs keep seq 0: a reader's first look reads a sweep whole anyway. An older sweepnb must
    not write to such a store (it would not bump the sequence, and readers would miss its
    writes): the version bump makes it refuse to."""
    add_change_seq(conn)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _to_2, 3: _to_3, 4: _to_4}
