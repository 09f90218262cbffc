"""Reading runs: run dicts from the database, and the per-store cache that re-reads only the
runs changed since it last looked, by the sweep's change sequence (agents claim, and dashboards
poll, the same sweep again and again).
"""

from __future__ import annotations

import bisect
import threading
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sweepnb.store.records import from_json, loads_many
from sweepnb.store.tables import history_table, runs_table, sweeps_table


def run_dicts(rows: list[Any], histories: dict[str, list[dict]] | None) -> list[dict]:
    """Run dicts (see ``sweepnb.store.records``) from ``select(runs_table)`` rows."""
    # rows come from select(runs_table): zip them with the column names (fast, C-level)
    names = runs_table.c.keys()
    configs = loads_many([row.config for row in rows])
    summaries = loads_many([row.summary for row in rows])
    runs = []
    for row, config, summary in zip(rows, configs, summaries):
        run = dict(zip(names, row))
        # defensive: a damaged config or summary reads as {} (one run's cells, not the table)
        run["config"] = config if isinstance(config, dict) else {}
        run["summary"] = summary if isinstance(summary, dict) else {}
        del run["seq"]  # the cache's business (sweepnb.store.tables: change sequence)
        run["stop_requested"] = bool(run["stop_requested"])
        if run["stop_reason"] is not None:
            run["stop_reason"] = from_json(run["stop_reason"])
        # the column is called "notes" (schema version 1 reserved it); it holds the run's
        # W&B attributes, read back as "info": {"name", "tags", "notes", "group", "job_type"}
        notes = run.pop("notes", None)
        info = from_json(notes) if notes else {}
        run["info"] = info if isinstance(info, dict) else {}
        if histories is not None:
            run["history"] = histories[run["id"]]
        runs.append(run)
    return runs


def copy_run(run: dict) -> dict:
    """A copy of a run dict whose config, summary and history the caller may change."""
    copy = {**run, "config": dict(run["config"]), "summary": dict(run["summary"])}
    if "history" in run:
        copy["history"] = list(run["history"])
    return copy


class Changes(NamedTuple):
    """What changed in a sweep's runs since a reader's ``since`` token (:meth:`RunCache.changes`).

    ``reset``: the reader must start again from ``runs`` (every run, oldest first; its first
    look, or the cache re-read the sweep whole); else ``changed`` holds the runs new or changed
    since, ``removed`` the ids deleted since. Run dicts are the cache's own: read-only.
    """

    token: tuple[int, int]
    reset: bool
    changed: list[dict]
    removed: list[str]
    runs: list[dict] | None


class _SweepRuns:
    """One sweep's runs as last read: by id, in (created, id) order, and in the order this cache
    applied their changes (``tick``), so "what changed since tick T" costs the changes only."""

    def __init__(self, epoch: int):
        self.runs: dict[str, dict] = {}
        self.order: list[tuple[float, str]] = []  # (created, id), oldest first
        self.applied: dict[str, int] = {}  # run id -> tick of its last change, oldest first
        self.removed: list[tuple[int, str]] = []  # (tick, run id) of deletions seen
        self.seq = -1  # the sweep's change sequence this state is complete up to
        self.tick = 0
        self.epoch = epoch  # a new state (a whole re-read): readers of an older one reset

    def apply(self, runs: list[dict]) -> None:
        for run in runs:
            run_id = run["id"]
            if run_id not in self.runs:
                bisect.insort(self.order, (run["created"], run_id))
            self.runs[run_id] = run
            self.applied.pop(run_id, None)
            self.applied[run_id] = self.tick

    def remove(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            run = self.runs.pop(run_id)
            self.order.remove((run["created"], run_id))
            self.applied.pop(run_id, None)
            self.removed.append((self.tick, run_id))

    def listing(self) -> list[dict]:
        return [self.runs[run_id] for _, run_id in self.order]

    def since(self, token: tuple[int, int] | None) -> Changes:
        now = (self.epoch, self.tick)
        if token is None or token[0] != self.epoch:
            return Changes(now, True, [], [], self.listing())
        changed = []
        for run_id, tick in reversed(self.applied.items()):  # newest first: stop at the old
            if tick <= token[1]:
                break
            changed.append(self.runs[run_id])
        removed = [run_id for tick, run_id in self.removed if tick > token[1]]
        return Changes(now, False, changed[::-1], removed, None)


class RunCache:
    """The runs of each sweep as last read, by ``(sweep_id, with history)``.

    A refresh asks the database for the runs whose ``seq`` (the sweep's change sequence,
    ``sweepnb.store.tables``) is above the one it last saw, through an index: agents claiming,
    and dashboards polling, a sweep of 20,000 runs read what changed, not 20,000 rows.
    Thread-safe (a dashboard's thread and an agent's share a store).
    """

    def __init__(self):
        self._sweeps: dict[tuple[str, bool], _SweepRuns] = {}
        self._epochs = 0
        self._lock = threading.Lock()

    def sweep_runs(
        self, conn: Connection, sweep_id: str, *, history: bool, copy: bool = True
    ) -> list[dict]:
        """The sweep's runs, oldest first, re-reading only those changed since the last call.

        Callers get fresh top-level dicts (config, summary, history copied shallowly); with
        ``copy=False`` the cached dicts themselves, which the caller must not change.
        """
        with self._lock:
            runs = self._refresh(conn, sweep_id, history).listing()
        return runs if not copy else [copy_run(run) for run in runs]

    def changes(
        self,
        conn: Connection,
        sweep_id: str,
        *,
        history: bool,
        since: tuple[int, int] | None,
        seqs: tuple[int, int] | None = None,
    ) -> Changes:
        """What changed since the token ``since`` (None: a first look, everything); pass the
        returned ``token`` next time. Costs the changes, not the sweep. ``seqs``: the sweep
        row's ``(seq, deleted_seq)`` when the caller read it in this transaction (a claim)."""
        with self._lock:
            return self._refresh(conn, sweep_id, history, seqs).since(since)

    def _refresh(
        self, conn: Connection, sweep_id: str, history: bool, seqs: Any = None
    ) -> _SweepRuns:
        row = (
            seqs
            or conn.execute(
                sa.select(sweeps_table.c.seq, sweeps_table.c.deleted_seq).where(
                    sweeps_table.c.id == sweep_id
                )
            ).first()
        )
        key = (sweep_id, history)
        state = self._sweeps.get(key)
        if row is None:  # no such sweep (any more): nothing cached
            self._sweeps.pop(key, None)
            return _SweepRuns(-1)
        seq, deleted_seq = row
        if state is None or seq < state.seq:
            # a first look, or the database went back (a restored store; or this read's snapshot
            # is older than one a concurrent thread applied: the next refresh catches up)
            self._epochs += 1
            state = self._sweeps[key] = _SweepRuns(self._epochs)
            state.apply(select_runs(conn, runs_table.c.sweep_id == sweep_id, history=history))
        else:
            state.tick += 1
            if deleted_seq > state.seq:
                present = set(
                    conn.execute(
                        sa.select(runs_table.c.id).where(runs_table.c.sweep_id == sweep_id)
                    ).scalars()
                )
                state.remove([run_id for run_id in state.runs if run_id not in present])
            if seq > state.seq:
                where = (runs_table.c.sweep_id == sweep_id) & (runs_table.c.seq > state.seq)
                state.apply(select_runs(conn, where, history=history))
        # the seq read with the sweep row, not the highest one seen among the runs: a deletion
        # between the two statements (PostgreSQL) is then still ahead of this state
        state.seq = seq
        return state


def select_runs(conn: Connection, where: Any, *, history: bool) -> list[dict]:
    """The runs matching ``where`` as run dicts, oldest first (with ``history``: one more query
    for all their history rows)."""
    rows = conn.execute(
        sa.select(runs_table).where(where).order_by(runs_table.c.created, runs_table.c.id)
    ).all()
    if not history:
        return run_dicts(rows, None)
    histories: dict[str, list[dict]] = {row[0]: [] for row in rows}  # row[0]: the id
    if rows:
        run_ids = sa.select(runs_table.c.id).where(where).scalar_subquery()
        query = (
            sa.select(history_table.c.run_id, history_table.c["values"])
            .where(history_table.c.run_id.in_(run_ids))
            .order_by(history_table.c.id)
        )
        # PostgreSQL reads each statement at its own moment: ``where`` may match a run written
        # since the first one (its history is skipped; the next refresh reads that run)
        pairs = [pair for pair in conn.execute(query).all() if pair[0] in histories]
        values = loads_many([text for _, text in pairs])
        for (run_id, _), row in zip(pairs, values):
            if isinstance(row, dict):  # an unreadable row is left out, not the run's history
                histories[run_id].append(row)
    return run_dicts(rows, histories)
