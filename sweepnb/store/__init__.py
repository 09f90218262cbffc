"""The store: sweeps, runs and metric history in SQLite (default) or PostgreSQL, one code path.

The store is the single source of truth shared by every agent, so everything that must be atomic
happens in one transaction here. Claiming a run locks the sweep (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``SELECT ... FOR UPDATE`` on the sweep row), asks ``propose`` for the next config and
inserts the run as ``running``: two agents never get the same grid point.

Formats (documented once, here):

- times are UTC epoch seconds (``float``, ``time.time()``);
- configs, summaries, history rows and stop reasons are JSON text in TEXT columns. NaN and
  +/-inf are written as the bare tokens ``NaN``/``Infinity``/``-Infinity`` that Python's ``json``
  reads back, so a logged ``float("nan")`` survives on both backends. Never pickles;
- run dicts carry the engine keys (``id``, ``state``, ``config``, ``history``, ``summary``) and
  ``sweep_id``, ``created``, ``started``, ``ended``, ``heartbeat``, ``host``, ``pid``, ``agent``,
  ``error``, ``stop_requested``, ``stop_reason``, ``project``, ``notes``, ``version`` (bumped
  by every change to the run). With
  ``history=False`` the ``history`` key is absent (not an empty list that would look like data).

>>> store = Store("/tmp/sweepnb-doctest.db")            # doctest: +SKIP
>>> sid = store.create_sweep({"method": "grid", "parameters": {}})   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from sweepnb.errors import StoreError, SweepNotFound
from sweepnb.store.db import create_engine, mask_url, passwords, resolve_url, sqlalchemy_url

SCHEMA_VERSION = 1
SWEEP_STATES = ("running", "paused", "finished", "cancelled")
from sweepnb.engine.states import MAX_ERROR_CHARS, RUN_STATES, TERMINAL_RUN_STATES

_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit
_ID_ALPHABET = string.ascii_lowercase + string.digits

# ---------------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------------

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
    sa.Column("notes", sa.Text),  # reserved (schema version 1 has it): nothing writes it yet
    # bumped by every update, so a reader can tell which runs changed since it last looked
    sa.Column("version", sa.Integer, nullable=False, default=0),
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

# ---------------------------------------------------------------------------------------------
# JSON, ids
# ---------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    # numpy scalars / arrays and other array-likes: plain Python values, never pickles
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} is not JSON-serialisable")


def to_json(value: Any, what: str) -> str:
    """JSON text for ``value`` (NaN/inf kept as ``NaN``/``Infinity``); StoreError names ``what``."""
    try:
        return json.dumps(value, default=_json_default, allow_nan=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what}: {exc}") from None


def from_json(text: str | None) -> Any:
    """Inverse of :func:`to_json` (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def new_id() -> str:
    """A fresh id: 8 characters from ``[a-z0-9]``, like W&B's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


# ---------------------------------------------------------------------------------------------
# Row conversion
# ---------------------------------------------------------------------------------------------


def loads_many(texts: list[str]) -> list[Any]:
    """Decode many JSON texts with one parser call (much faster than one call each)."""
    return json.loads("[" + ",".join(texts) + "]") if texts else []


def _run_dicts(rows: list[Any], histories: dict[str, list[dict]] | None) -> list[dict]:
    # rows come from select(runs_table): zip them with the column names (fast, C-level)
    names = runs_table.c.keys()
    configs = loads_many([row.config for row in rows])
    summaries = loads_many([row.summary for row in rows])
    runs = []
    for row, config, summary in zip(rows, configs, summaries):
        run = dict(zip(names, row))
        run["config"], run["summary"] = config, summary
        run["stop_requested"] = bool(run["stop_requested"])
        if run["stop_reason"] is not None:
            run["stop_reason"] = json.loads(run["stop_reason"])
        if histories is not None:
            run["history"] = histories[run["id"]]
        runs.append(run)
    return runs


def _copy_run(run: dict) -> dict:
    copy = {**run, "config": dict(run["config"]), "summary": dict(run["summary"])}
    if "history" in run:
        copy["history"] = list(run["history"])
    return copy


def _sweep_dict(row: Any) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "project": row.project,
        "entity": row.entity,
        "config": from_json(row.config),
        "state": row.state,
        "created": row.created,
        "updated": row.updated,
    }


def bound_error(text: str | None, limit: int = MAX_ERROR_CHARS) -> str | None:
    """Keep the last ``limit`` characters of an error text (a traceback's end says the most)."""
    if text is None or len(text) <= limit:
        return text
    return f"[{len(text) - limit} characters cut]\n" + text[-limit:]


def _check_state(state: str, allowed: Iterable[str], argument: str) -> None:
    if state not in allowed:
        raise ValueError(f"{argument}: {state!r} is not one of {', '.join(allowed)}")


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


class Store:
    """Sweeps, runs and metric history in one database shared by every agent.

    ``Store()`` opens ``$SWEEPNB_STORE`` or ``./.sweepnb/sweeps.db`` (created on first use);
    ``Store("runs.db")``, ``Store("sqlite:///runs.db")`` or ``Store("postgresql://u:p@h/db")``.
    Picklable (by URL; the child re-connects lazily) and safe to use after ``fork``.

    >>> store = Store("/tmp/example.db")                          # doctest: +SKIP
    >>> sid = store.create_sweep({"method": "random", "parameters": {"x": {"values": [1]}}})  # doctest: +SKIP
    """

    def __init__(self, url: str | os.PathLike | None = None):
        self.url: str = resolve_url(url)
        self.display_url: str = mask_url(self.url)
        self._sa_url = sqlalchemy_url(self.url)
        self._engine_obj: Engine | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._lock_pid = os.getpid()
        # (sweep_id, with history) -> {run_id: run dict as last read, with its "version"}
        self._run_cache: dict[tuple[str, bool], dict[str, dict]] = {}

    # -- identity, pickling ------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict:
        return {"url": self.url}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["url"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Store) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def engine_url(self) -> URL:
        """The SQLAlchemy URL (driver spelled out; its repr masks the password)."""
        return self._sa_url

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._sa_url.get_backend_name()

    def close(self) -> None:
        """Close this process's connections (the store re-opens on next use)."""
        with self._process_lock():
            if self._engine_obj is not None and self._pid == os.getpid():
                self._engine_obj.dispose()
            self._engine_obj = None

    # -- connections -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """This process's SQLAlchemy engine (re-created after fork; schema checked on creation)."""
        pid = os.getpid()
        if self._engine_obj is not None and self._pid == pid:
            return self._engine_obj
        with self._process_lock():
            if self._engine_obj is None or self._pid != pid:
                if self._engine_obj is not None:
                    # inherited from the parent: drop its pool without closing its sockets
                    self._engine_obj.dispose(close=False)
                engine = self._open_engine()
                self._engine_obj, self._pid = engine, pid
        return self._engine_obj

    def _process_lock(self) -> threading.Lock:
        # a lock inherited through fork may be held by a thread that does not exist here
        if self._lock_pid != os.getpid():
            self._lock, self._lock_pid = threading.Lock(), os.getpid()
        return self._lock

    def _open_engine(self) -> Engine:
        engine = None
        try:
            engine = create_engine(self._sa_url)
            self._prepare_schema(engine)
        except (StoreError, sa.exc.SQLAlchemyError, OSError) as exc:
            if engine is not None:
                engine.dispose()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open store {self.display_url}: {self._mask(exc)}") from None
        return engine

    def _mask(self, exc: BaseException | str) -> str:
        if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
            exc = exc.orig  # the driver's own message, without SQLAlchemy's SQL/background text
        text = str(exc).strip()
        for password in passwords(self._sa_url):
            text = text.replace(password, "***")
        return text

    def _transaction(self, fn: Callable[[Connection], Any], *, write: bool) -> Any:
        """Run ``fn(conn)`` in one transaction (a write lock up front when ``write``)."""
        engine = self.engine
        try:
            with engine.connect() as conn:
                if write:
                    conn.execution_options(sweepnb_write=True)
                with conn.begin():
                    return fn(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store {self.display_url}: {self._mask(exc)}") from None

    def _write(self, fn: Callable[[Connection], Any]) -> Any:
        return self._transaction(fn, write=True)

    def _read(self, fn: Callable[[Connection], Any]) -> Any:
        return self._transaction(fn, write=False)

    # -- schema ------------------------------------------------------------------------------

    def _prepare_schema(self, engine: Engine) -> None:
        with engine.connect() as conn:
            conn.execution_options(sweepnb_write=True)
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL's catalogue
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7201543901)"))
                self._check_or_create(conn)

    def _check_or_create(self, conn: Connection) -> None:
        tables = set(sa.inspect(conn).get_table_names())
        if "meta" not in tables:
            if tables & {"sweeps", "runs", "history"}:
                raise StoreError(
                    f"store {self.display_url} has sweepnb-like tables but no schema version: "
                    "it was made by another program or a pre-release sweepnb; use a new store"
                )
            metadata.create_all(conn)
            conn.execute(
                sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
            )
            return
        version = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).scalar()
        if version != str(SCHEMA_VERSION):
            raise StoreError(
                f"store {self.display_url} has schema version {version}, but this sweepnb "
                f"reads version {SCHEMA_VERSION}; upgrade sweepnb or use a new store"
            )

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
            sweep_id = self._unused_id(conn, sweeps_table)
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

    @staticmethod
    def _unused_id(conn: Connection, table: sa.Table) -> str:
        while True:
            candidate = new_id()
            if conn.execute(sa.select(table.c.id).where(table.c.id == candidate)).first() is None:
                return candidate

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
        return self._read(lambda conn: _sweep_dict(self._sweep_row(conn, sweep_id)))

    def list_sweeps(self) -> list[dict]:
        """Every sweep, oldest first, each with ``"runs"``: a count of its runs by state."""

        def read(conn: Connection) -> list[dict]:
            sweeps = [
                _sweep_dict(r)
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
        _check_state(state, SWEEP_STATES, "state")
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
    ) -> dict | None:
        """Atomically ask ``propose(sweep, runs)`` for a config and insert it as a running run.

        The sweep is locked for the whole transaction, so concurrent agents see each other's
        claims. Returns the new run dict, or None when the sweep is not ``running`` (propose is
        then not called) or ``propose`` returns None. ``history=False`` hands ``propose`` runs
        without history rows (cheaper for searches that only read summaries).
        """

        def claim(conn: Connection) -> dict | None:
            sweep = _sweep_dict(self._sweep_row(conn, sweep_id, lock=True))
            if sweep["state"] != "running":
                return None
            runs = self._sweep_runs(conn, sweep_id, history=history)
            config = propose(sweep, runs)
            if config is None:
                return None
            if not isinstance(config, dict):
                raise TypeError(f"propose: must return a dict or None, got {type(config).__name__}")
            now = time.time()
            values = {
                "id": self._unused_id(conn, runs_table),
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
            conn.execute(sa.insert(runs_table).values(**values))
            # the run as get_runs would return it (config round-tripped through JSON)
            return {
                **values,
                "config": from_json(values["config"]),
                "summary": {},
                "history": [],
                "stop_reason": None,
                "ended": None,
                "error": None,
                "notes": None,
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
        _check_state(state, RUN_STATES, "state")
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
        rows = self._history_rows(history or [], start=0)

        def insert(conn: Connection) -> str:
            if sweep_id is not None:
                # locked like a claim, so a concurrent claim sees this run (e.g. a prior run)
                sweep = self._sweep_row(conn, sweep_id, lock=True)
                values["project"] = values["project"] or sweep.project
            run_id = self._unused_id(conn, runs_table)
            conn.execute(sa.insert(runs_table).values(id=run_id, **values))
            self._insert_history(conn, run_id, rows)
            return run_id

        return self._write(insert)

    # -- reading runs ------------------------------------------------------------------------

    def get_runs(self, sweep_id: str, *, history: bool = True) -> list[dict]:
        """The sweep's runs, oldest first (two queries: runs, then all their history rows)."""

        def read(conn: Connection) -> list[dict]:
            runs = self._sweep_runs(conn, sweep_id, history=history)
            if not runs:
                self._sweep_row(conn, sweep_id)  # SweepNotFound for an unknown id
            return runs

        return self._read(read)

    def get_run(self, run_id: str, *, history: bool = True) -> dict:
        """One run by id (raises SweepNotFound for an unknown id)."""

        def read(conn: Connection) -> dict:
            runs = self._select_runs(conn, runs_table.c.id == run_id, history=history)
            if not runs:
                raise SweepNotFound(f"no run {run_id!r} in store {self.display_url}")
            return runs[0]

        return self._read(read)

    def _sweep_runs(self, conn: Connection, sweep_id: str, *, history: bool) -> list[dict]:
        """The sweep's runs, re-reading only those whose version changed since the last call.

        A dashboard polling a big sweep, or agents claiming, then parse only new or changed
        runs. Callers get fresh top-level dicts (config, summary, history copied shallowly).
        """
        listing = conn.execute(
            sa.select(runs_table.c.id, runs_table.c.version)
            .where(runs_table.c.sweep_id == sweep_id)
            .order_by(runs_table.c.created, runs_table.c.id)
        ).all()
        cache = self._run_cache.setdefault((sweep_id, history), {})
        stale = [
            run_id for run_id, version in listing if cache.get(run_id, {}).get("version") != version
        ]
        if len(stale) * 2 > len(listing):  # mostly new (a first read): one sweep-wide query
            wheres = [runs_table.c.sweep_id == sweep_id]
        else:
            chunks = [stale[i : i + _IN_CHUNK] for i in range(0, len(stale), _IN_CHUNK)]
            wheres = [runs_table.c.id.in_(chunk) for chunk in chunks]
        for where in wheres:
            for run in self._select_runs(conn, where, history=history):
                cache[run["id"]] = run
        return [_copy_run(cache[run_id]) for run_id, _ in listing if run_id in cache]

    def _select_runs(self, conn: Connection, where: Any, *, history: bool) -> list[dict]:
        rows = conn.execute(
            sa.select(runs_table).where(where).order_by(runs_table.c.created, runs_table.c.id)
        ).all()
        if not history:
            return _run_dicts(rows, None)
        histories: dict[str, list[dict]] = {row.id: [] for row in rows}
        if rows:
            run_ids = sa.select(runs_table.c.id).where(where).scalar_subquery()
            query = (
                sa.select(history_table.c.run_id, history_table.c["values"])
                .where(history_table.c.run_id.in_(run_ids))
                .order_by(history_table.c.id)
            )
            pairs = conn.execute(query).all()
            values = loads_many([text for _, text in pairs])
            for (run_id, _), row in zip(pairs, values):
                histories[run_id].append(row)
        return _run_dicts(rows, histories)

    # -- logging, control --------------------------------------------------------------------

    def log(self, run_id: str, rows: list[dict], summary: dict | None = None) -> dict:
        """Append history rows, merge ``summary`` into the run's, bump its heartbeat.

        Each row should hold ``"_step"``; rows without it get the next step number. Returns the
        control dict ``{"stop": bool, "reason": dict | None, "sweep_state": str | None}``
        (``stop`` is true when the run was asked to stop, the sweep was cancelled, or the run
        already ended). A run the reaper marked ``crashed`` turns ``running`` again: it is alive.
        """
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError("rows: expected a list of dicts")
        texts = [to_json(row, f"run {run_id} history row") for row in rows]
        summary_text = None if summary is None else to_json(summary, f"run {run_id} summary")

        def write(conn: Connection) -> dict:
            run = self._run_row(conn, run_id)
            if any("_step" not in row for row in rows):
                start = self._next_step(conn, run_id)
            else:
                start = 0
            self._insert_history(conn, run_id, self._history_rows(rows, start, texts))
            values: dict[str, Any] = {"heartbeat": time.time()}
            if summary_text is not None:
                merged = from_json(run.summary)
                merged.update(from_json(summary_text))
                values["summary"] = to_json(merged, f"run {run_id} summary")
            return self._touch(conn, run, values)

        return self._write(write)

    def heartbeat(self, run_id: str) -> dict:
        """Mark the run alive now; returns the same control dict as :meth:`log`."""
        return self._write(
            lambda conn: self._touch(conn, self._run_row(conn, run_id), {"heartbeat": time.time()})
        )

    def finish_run(
        self,
        run_id: str,
        state: str,
        *,
        summary: dict | None = None,
        error: str | None = None,
    ) -> None:
        """End the run: ``state`` (finished/failed/crashed/stopped), summary merged, error kept.

        ``error`` keeps its last 20,000 characters.
        """
        _check_state(state, TERMINAL_RUN_STATES, "state")
        summary_text = None if summary is None else to_json(summary, f"run {run_id} summary")

        def write(conn: Connection) -> None:
            run = self._run_row(conn, run_id)
            now = time.time()
            values: dict[str, Any] = {"state": state, "ended": now, "heartbeat": now}
            if run.state in TERMINAL_RUN_STATES and run.state != "crashed":
                # The first end wins: a run already recorded stopped/failed/finished (say, by the
                # parent after its worker died) is not re-finished by a late writer. `crashed`
                # is a guess from a stale heartbeat, so the worker's own word replaces it.
                values = {}
            elif error is not None:
                values["error"] = bound_error(error)
            if summary_text is not None:
                merged = from_json(run.summary)
                merged.update(from_json(summary_text))
                values["summary"] = to_json(merged, f"run {run_id} summary")
            if values:
                _update_run(conn, runs_table.c.id == run_id, **values)

        self._write(write)

    def request_stop(self, run_id: str, reason: dict) -> None:
        """Flag the run to stop; its next :meth:`log` / :meth:`heartbeat` answers ``stop``."""
        text = to_json(reason, "reason")

        def write(conn: Connection) -> None:
            self._run_row(conn, run_id)
            _update_run(conn, runs_table.c.id == run_id, stop_requested=True, stop_reason=text)

        self._write(write)

    def reap(
        self,
        sweep_id: str | None = None,
        stale_after: float = 30.0,
        *,
        dead_pids_on: str | None = None,
        now: float | None = None,
    ) -> list[str]:
        """Mark ``running`` runs whose heartbeat is older than ``stale_after`` s as ``crashed``.

        With ``dead_pids_on=socket.gethostname()``, running runs on that host whose process no
        longer exists are crashed at once too. ``now`` (epoch seconds, default the current
        time) is the moment staleness is judged at. Returns the ids marked crashed.
        """
        if stale_after < 0:
            raise ValueError(f"stale_after: must be >= 0, got {stale_after}")

        def write(conn: Connection) -> list[str]:
            at = time.time() if now is None else now
            where = runs_table.c.state == "running"
            if sweep_id is not None:
                where = where & (runs_table.c.sweep_id == sweep_id)
            candidates = conn.execute(
                sa.select(
                    runs_table.c.id, runs_table.c.heartbeat, runs_table.c.host, runs_table.c.pid
                ).where(where)
            ).all()
            dead = [(r.id, self._death_note(r, at, stale_after, dead_pids_on)) for r in candidates]
            dead = [(run_id, note) for run_id, note in dead if note]
            for run_id, note in dead:
                running = (runs_table.c.id == run_id) & (runs_table.c.state == "running")
                _update_run(conn, running, state="crashed", ended=at, error=note)
            return [run_id for run_id, _ in dead]

        return self._write(write)

    @staticmethod
    def _death_note(row: Any, now: float, stale_after: float, dead_pids_on: str | None) -> str:
        where = f"host {row.host}, pid {row.pid}"
        local = dead_pids_on is not None and row.host == dead_pids_on and row.pid
        if local and not _pid_alive(row.pid):
            return f"crashed: its process is gone ({where})"
        age = now - (row.heartbeat or 0.0)
        if age > stale_after:
            return f"crashed: no heartbeat for {age:.0f} s ({where})"
        return ""

    # -- helpers -----------------------------------------------------------------------------

    def _run_row(self, conn: Connection, run_id: str) -> Any:
        # the run's control fields and its sweep's state, in one statement
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
        row = conn.execute(query).first()
        if row is None:
            raise SweepNotFound(f"no run {run_id!r} in store {self.display_url}")
        return row

    @staticmethod
    def _next_step(conn: Connection, run_id: str) -> int:
        last = conn.execute(
            sa.select(sa.func.max(history_table.c.step)).where(history_table.c.run_id == run_id)
        ).scalar()
        return 0 if last is None else last + 1

    @staticmethod
    def _history_rows(
        rows: list[dict], start: int, texts: list[str] | None = None
    ) -> list[tuple[int, str]]:
        out, step = [], start
        for i, row in enumerate(rows):
            if "_step" in row:
                step = _step_number(row["_step"])
                text = texts[i] if texts else to_json(row, "history row")
            else:
                text = to_json({**row, "_step": step}, "history row")
            out.append((step, text))
            step += 1
        return out

    @staticmethod
    def _insert_history(conn: Connection, run_id: str, rows: list[tuple[int, str]]) -> None:
        if rows:
            conn.execute(
                sa.insert(history_table),
                [{"run_id": run_id, "step": step, "values": text} for step, text in rows],
            )

    def _touch(self, conn: Connection, run: Any, values: dict) -> dict:
        if run.state == "crashed":
            values.update(state="running", ended=None)
        _update_run(conn, runs_table.c.id == run.id, **values)
        return _control(run, run.sweep_state)


def open_store(store: Any = None) -> Store:
    """A Store from a URL, a path or None (the default store); a Store is returned as is.

    >>> open_store("sqlite:////tmp/example.db").backend
    'sqlite'
    """
    return store if isinstance(store, Store) else Store(store)


def _update_run(conn: Connection, where: Any, **values: Any) -> None:
    conn.execute(
        sa.update(runs_table).where(where).values(version=runs_table.c.version + 1, **values)
    )


def _control(run: Any, sweep_state: str | None) -> dict:
    if run.stop_requested:
        return {"stop": True, "reason": from_json(run.stop_reason), "sweep_state": sweep_state}
    if sweep_state == "cancelled":
        reason = {"rule": "cancel", "message": "the sweep was cancelled"}
        return {"stop": True, "reason": reason, "sweep_state": sweep_state}
    if run.state in ("finished", "failed", "stopped"):
        reason = {"rule": "ended", "message": f"the run is already {run.state}"}
        return {"stop": True, "reason": reason, "sweep_state": sweep_state}
    return {"stop": False, "reason": None, "sweep_state": sweep_state}


def _step_number(value: Any) -> int:
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()  # numpy integer
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StoreError(f"history row _step: expected an integer, got {value!r}")
    return int(value)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
