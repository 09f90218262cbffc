"""What a running run writes to the store (``Store``'s base, ``store/__init__.py``): history rows
and summary (``log``), heartbeats, its end, a stop request, and the reaping of dead runs. Each
write answers the run's control reply (stop flag, sweep state)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.engine import Connection

from sweepnb.errors import SweepNotFound
from sweepnb.store.db import Database
from sweepnb.store.records import (
    bound_error,
    check_state,
    control_reply,
    from_json,
    history_rows,
    to_json,
)
from sweepnb.store.tables import (
    TERMINAL_RUN_STATES,
    control_row,
    crash_dead_runs,
    insert_history,
    next_step,
    runs_table,
    update_run,
)


class RunWrites(Database):
    """The run-side writes of a store: ``log``, ``heartbeat``, ``finish_run``, ``request_stop``,
    ``reap``."""

    # -- logging, control --------------------------------------------------------------------

    def log(
        self,
        run_id: str,
        rows: list[dict],
        summary: dict | None = None,
        *,
        config: dict | None = None,
        info: dict | None = None,
    ) -> dict:
        """Append history rows, merge ``summary`` into the run's, bump its heartbeat.

        ``config`` (the run's whole config, swept values and the ones it set itself) and
        ``info`` (its W&B attributes: name, tags, notes, group, job_type) replace the stored
        ones when given.

        Each row should hold ``"_step"``; rows without it get the next step number. Returns the
        control dict ``{"stop": bool, "reason": dict | None, "sweep_state": str | None}``
        (``stop`` is true when the run was asked to stop, the sweep was cancelled, or the run
        already ended). A run the reaper marked ``crashed`` turns ``running`` again: it is alive.
        """
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError("rows: expected a list of dicts")
        texts = [to_json(row, f"run {run_id} history row") for row in rows]
        summary_text = None if summary is None else to_json(summary, f"run {run_id} summary")
        config_text = None if config is None else to_json(config, f"run {run_id} config")
        info_text = None if info is None else to_json(info, f"run {run_id} name, tags and notes")

        starts: list[int] = []  # the first attempt's: a retry after a lost COMMIT reply
        # numbers rows without a _step as that attempt did, so insert_history finds them there

        def write(conn: Connection) -> dict:
            run = self._run_row(conn, run_id)
            if not starts:
                steps_missing = any("_step" not in row for row in rows)
                starts.append(next_step(conn, run_id) if steps_missing else 0)
            insert_history(conn, run_id, history_rows(rows, starts[0], texts))
            values: dict[str, Any] = {"heartbeat": time.time()}
            if summary_text is not None:
                merged = from_json(run.summary)
                merged = merged if isinstance(merged, dict) else {}
                merged.update(from_json(summary_text))
                values["summary"] = to_json(merged, f"run {run_id} summary")
            if config_text is not None:
                values["config"] = config_text
            if info_text is not None:
                values["notes"] = info_text
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
        check_state(state, TERMINAL_RUN_STATES, "state")
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
                merged = merged if isinstance(merged, dict) else {}
                merged.update(from_json(summary_text))
                values["summary"] = to_json(merged, f"run {run_id} summary")
            if values:
                update_run(conn, runs_table.c.id == run_id, **values)

        self._write(write)

    def request_stop(self, run_id: str, reason: dict) -> None:
        """Flag the run to stop; its next :meth:`log` / :meth:`heartbeat` answers ``stop``."""
        text = to_json(reason, "reason")

        def write(conn: Connection) -> None:
            self._run_row(conn, run_id)
            update_run(conn, runs_table.c.id == run_id, stop_requested=True, stop_reason=text)

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

        return self._write(
            lambda conn: crash_dead_runs(conn, sweep_id, stale_after, dead_pids_on, now)
        )

    # -- helpers -----------------------------------------------------------------------------

    def _run_row(self, conn: Connection, run_id: str) -> Any:
        row = control_row(conn, run_id)
        if row is None:
            raise SweepNotFound(f"no run {run_id!r} in store {self.display_url}")
        return row

    def _touch(self, conn: Connection, run: Any, values: dict) -> dict:
        if run.state == "crashed":
            values.update(state="running", ended=None)
        update_run(conn, runs_table.c.id == run.id, **values)
        return control_reply(run, run.sweep_state)
