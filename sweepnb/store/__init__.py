"""The store: sweeps, runs and metric history in SQLite (default) or PostgreSQL, one code path.

The store is the single source of truth shared by every agent, so everything that must be atomic
happens in one transaction here. Claiming a run locks the sweep (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``SELECT ... FOR UPDATE`` on the sweep row), asks ``propose`` for the next config and
inserts the run as ``running``: two agents never get the same grid point. The formats of what it
stores and returns are documented in ``sweepnb.store.records``; its tables in
``sweepnb.store.tables``; URLs and connections in ``sweepnb.store.db``.

>>> store = Store("/tmp/sweepnb-doctest.db")            # doctest: +SKIP
>>> sid = store.create_sweep({"method": "grid", "parameters": {}})   # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sweepnb.errors import SweepNotFound
from sweepnb.store.db import StoreMissing, mask_url, resolve_url
from sweepnb.store.migrations import prepare_schema
from sweepnb.store.reads import RunCache, select_runs
from sweepnb.store.records import (
    MAX_ERROR_CHARS,
    bound_error,
    check_state,
    from_json,
    history_rows,
    loads_many,
    new_id,
    sweep_dict,
    to_json,
)
from sweepnb.store.run_writes import RunWrites
from sweepnb.store.tables import (
    RUN_STATES,
    SCHEMA_VERSION,
    SWEEP_STATES,
    TERMINAL_RUN_STATES,
    delete_runs,
    history_table,
    insert_history,
    insert_run,
    meta_table,
    metadata,
    runs_table,
    sweeps_table,
    unused_id,
)

__all__ = [
    "MAX_ERROR_CHARS",
    "RUN_STATES",
    "SCHEMA_VERSION",
    "SWEEP_STATES",
    "TERMINAL_RUN_STATES",
    "Store",
    "StoreMissing",
    "bound_error",
    "from_json",
    "history_table",
    "loads_many",
    "mask_url",
    "meta_table",
    "metadata",
    "new_id",
    "open_store",
    "resolve_url",
    "runs_table",
    "sweeps_table",
    "to_json",
]

# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


class Store(RunWrites):
    """Sweeps, runs and metric history in one database shared by every agent.

    ``Store()`` opens ``$SWEEPNB_STORE`` or ``./.sweepnb/sweeps.db`` (created on first use);
    ``Store("runs.db")``, ``Store("sqlite:///runs.db")`` or ``Store("postgresql://u:p@h/db")``.
    Picklable (by URL; the child re-connects lazily) and safe to use after ``fork``. The
    pickle holds the whole URL, password included: agents on loky or Dask workers receive it
    (its ``repr`` and every message mask the password). ``create=False`` never creates a
    SQLite file (read-only commands).

    >>> store = Store("/tmp/example.db")                          # doctest: +SKIP
    >>> sid = store.create_sweep({"method": "random", "parameters": {"x": {"values": [1]}}})  # doctest: +SKIP
    """

    def __init__(self, url: str | os.PathLike | None = None, *, create: bool = True):
        super().__init__(url, create=create)
        self._cache = RunCache()  # a store's own: another Store object re-reads everything

    # -- identity, pickling ------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict:
        # the pickle (sent to loky/Dask workers) holds the full URL, password included
        return {"url": self.url, "create": self.create}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["url"], create=state.get("create", True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Store) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def prepare(self, engine: Engine) -> None:
        """Create, upgrade or refuse the schema of a newly opened engine's database
        (``sweepnb.store.migrations``)."""
        prepare_schema(engine, self.display_url)

    # -- sweeps ------------------------------------------------------------------------------

    def create_sweep(
        self,
        config: dict,
        *,
        name: str | None = None,
        project: str | None = None,
        entity: str | None = None,
    ) -> str:
        """Store a new sweep (state ``running``) and return its 8-character id."""
        if not isinstance(config, dict):
            raise TypeError(f"config: expected a dict, got {type(config).__name__}")
        text = to_json(config, "config")
        now = time.time()

        def insert(conn: Connection) -> str:
            sweep_id = unused_id(conn, sweeps_table)
            conn.execute(
                sa.insert(sweeps_table).values(
                    id=sweep_id,
                    name=name,
                    project=project,
                    entity=entity,
                    config=text,
                    state="running",
                    created=now,
                    updated=now,
                )
            )
            return sweep_id

        return self._write(insert)

    def _sweep_row(self, conn: Connection, sweep_id: str, *, lock: bool = False) -> Any:
        query = sa.select(sweeps_table).where(sweeps_table.c.id == sweep_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise SweepNotFound(f"no sweep {sweep_id!r} in store {self.display_url}")
        return row

    def get_sweep(self, sweep_id: str) -> dict:
        """The sweep as a dict (id, name, project, entity, config, state, created, updated)."""
        try:
            return self._read(lambda conn: sweep_dict(self._sweep_row(conn, sweep_id)))
        except StoreMissing as err:
            raise StoreMissing(f"no sweep {sweep_id!r}: {err}") from None

    def list_sweeps(self) -> list[dict]:
        """Every sweep, oldest first, each with ``"runs"``: a count of its runs by state."""

        def read(conn: Connection) -> list[dict]:
            sweeps = [
                sweep_dict(r)
                for r in conn.execute(
                    sa.select(sweeps_table).order_by(sweeps_table.c.created, sweeps_table.c.id)
                )
            ]
            counts = conn.execute(
                sa.select(runs_table.c.sweep_id, runs_table.c.state, sa.func.count())
                .where(runs_table.c.sweep_id.is_not(None))
                .group_by(runs_table.c.sweep_id, runs_table.c.state)
            ).all()
            by_sweep: dict[str, dict[str, int]] = {}
            for sweep_id, state, count in counts:
                by_sweep.setdefault(sweep_id, {})[state] = count
            for sweep in sweeps:
                sweep["runs"] = by_sweep.get(sweep["id"], {})
            return sweeps

        return self._read(read)

    def set_sweep_state(self, sweep_id: str, state: str) -> None:
        """Set the sweep's state: running, paused, finished or cancelled."""
        check_state(state, SWEEP_STATES, "state")
        self._update_sweep(sweep_id, state=state)

    def update_sweep_config(self, sweep_id: str, config: dict) -> None:
        """Replace the sweep's config (``sweepnb sweep --update``)."""
        if not isinstance(config, dict):
            raise TypeError(f"config: expected a dict, got {type(config).__name__}")
        self._update_sweep(sweep_id, config=to_json(config, "config"))

    def _update_sweep(self, sweep_id: str, **values: Any) -> None:
        def update(conn: Connection) -> None:
            result = conn.execute(
                sa.update(sweeps_table)
                .where(sweeps_table.c.id == sweep_id)
                .values(updated=time.time(), **values)
            )
            if result.rowcount == 0:
                raise SweepNotFound(f"no sweep {sweep_id!r} in store {self.display_url}")

        self._write(update)

    # -- claiming and adding runs ------------------------------------------------------------

    def claim_run(
        self,
        sweep_id: str,
        propose: Callable[[dict, list[dict]], dict | None],
        *,
        host: str | None,
        pid: int | None,
        agent: str | None = None,
        history: bool = True,
        incremental: bool = False,
    ) -> dict | None:
        """Atomically ask ``propose(sweep, runs)`` for a config and insert it as a running run.

        The sweep is locked for the whole transaction, so concurrent agents see each other's
        claims. Returns the new run dict, or None when the sweep is not ``running`` (propose is
        then not called) or ``propose`` returns None. ``history=False`` hands ``propose`` runs
        without history rows (cheaper for searches that only read summaries). ``propose`` gets
        the store's cached run dicts: it must not change them (the engine never does).

        ``incremental=True`` hands ``propose`` a function instead of the runs: ``changes(since)``
        returns :class:`~sweepnb.store.reads.Changes` since the token ``since`` (None: all runs),
        so an agent that keeps its own state (``engine.Suggester``) costs what changed since its
        last claim, not the whole sweep.
        """

        def claim(conn: Connection) -> dict | None:
            row = self._sweep_row(conn, sweep_id, lock=True)
            sweep = sweep_dict(row)
            if sweep["state"] != "running":
                return None
            seqs = (row.seq, row.deleted_seq)  # read under the lock: the cache needs no more
            if incremental:
                config = propose(
                    sweep,
                    lambda since: self._cache.changes(
                        conn, sweep_id, history=history, since=since, seqs=seqs
                    ),
                )
            else:
                # the cached dicts, not copies: propose (the engine) is pure and must not change them
                runs = self._cache.sweep_runs(conn, sweep_id, history=history, copy=False)
                config = propose(sweep, runs)
            if config is None:
                return None
            if not isinstance(config, dict):
                raise TypeError(f"propose: must return a dict or None, got {type(config).__name__}")
            now = time.time()
            values = {
                "id": unused_id(conn, runs_table),
                "sweep_id": sweep_id,
                "state": "running",
                "config": to_json(config, "config"),
                "summary": "{}",
                "created": now,
                "started": now,
                "heartbeat": now,
                "host": host,
                "pid": pid,
                "agent": agent,
                "stop_requested": False,
                "project": sweep["project"],
            }
            insert_run(conn, values)
            # the run as get_runs would return it (config round-tripped through JSON)
            return {
                **values,
                "config": from_json(values["config"]),
                "summary": {},
                "history": [],
                "stop_reason": None,
                "ended": None,
                "error": None,
                "info": {},
                "version": 0,
            }

        return self._write(claim)

    def add_run(
        self,
        sweep_id: str | None,
        config: dict,
        *,
        state: str = "running",
        host: str | None = None,
        pid: int | None = None,
        summary: dict | None = None,
        history: list[dict] | None = None,
        project: str | None = None,
        agent: str | None = None,
    ) -> str:
        """Insert a run outside the claim protocol (standalone runs, prior runs); return its id.

        ``sweep_id=None`` makes a standalone run.
        """
        check_state(state, RUN_STATES, "state")
        now = time.time()
        values = {
            "sweep_id": sweep_id,
            "state": state,
            "config": to_json(config, "config"),
            "summary": to_json(summary or {}, "summary"),
            "created": now,
            "started": now,
            "heartbeat": now,
            "ended": None if state == "running" else now,
            "host": host,
            "pid": pid,
            "agent": agent,
            "stop_requested": False,
            "project": project,
        }
        rows = history_rows(history or [], start=0)

        def insert(conn: Connection) -> str:
            if sweep_id is not None:
                # locked like a claim, so a concurrent claim sees this run (e.g. a prior run)
                sweep = self._sweep_row(conn, sweep_id, lock=True)
                values["project"] = values["project"] or sweep.project
            run_id = unused_id(conn, runs_table)
            insert_run(conn, {"id": run_id, **values})
            insert_history(conn, run_id, rows)
            return run_id

        return self._write(insert)

    # -- reading runs ------------------------------------------------------------------------

    def get_runs(self, sweep_id: str, *, history: bool = True, copy: bool = True) -> list[dict]:
        """The sweep's runs, oldest first (two queries: runs, then all their history rows).

        ``copy=False`` returns the store's cached run dicts, which later reads share: for
        callers that only read them (the commands, the dashboard), which then skip copying
        every run (0.1 s at 20,000 runs). A run that changes gets a new dict in the cache, so
        a list kept from an earlier read stays as it was read.
        """

        def read(conn: Connection) -> list[dict]:
            runs = self._cache.sweep_runs(conn, sweep_id, history=history, copy=copy)
            if not runs:
                self._sweep_row(conn, sweep_id)  # SweepNotFound for an unknown id
            return runs

        return self._read(read)

    def get_run(self, run_id: str, *, history: bool = True) -> dict:
        """One run by id (raises SweepNotFound for an unknown id)."""

        def read(conn: Connection) -> dict:
            runs = select_runs(conn, runs_table.c.id == run_id, history=history)
            if not runs:
                raise SweepNotFound(f"no run {run_id!r} in store {self.display_url}")
            return runs[0]

        return self._read(read)

    def delete_runs(self, run_ids: list[str]) -> list[str]:
        """Delete runs and their history (a sweep's readers notice: ``tables.delete_runs``);
        returns the ids that existed. Nothing in sweepnb deletes runs by itself."""
        if not isinstance(run_ids, (list, tuple, set)) or not all(
            isinstance(i, str) for i in run_ids
        ):
            raise TypeError(f"run_ids: expected a list of run ids, got {run_ids!r}")
        return self._write(lambda conn: delete_runs(conn, list(run_ids))) if run_ids else []


def open_store(store: Any = None, *, create: bool = True) -> Store:
    """A Store from a URL, a path or None (the default store); a Store is returned as is.

    ``create=False`` (read-only uses: listing, showing, exporting, agents joining a sweep)
    never creates a SQLite store: a missing file raises ``StoreMissing``.

    >>> open_store("sqlite:////tmp/example.db").backend
    'sqlite'
    """
    return store if isinstance(store, Store) else Store(store, create=create)
