"""The tables every front end prints: ``sweepnb ls`` / ``%sweep ls`` and ``sweepnb show`` /
``%sweep show`` call these, so both show the same columns, in the same order, formatted alike.

Data only (no printing): the CLI prints ``to_string(index=False)``, the magics return the frame.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sweepnb.analysis import INFO_COLUMNS, ranked_runs, runs_frame
from sweepnb.engine.metric import Metric, best_run
from sweepnb.ids import parse_sweep_id

SWEEPS_COLUMNS = ("id", "name", "state", "method", "created", "runs", "metric", "best")
# a column name with a space cannot clash with a parameter name (W&B's name pattern)
WHY_COLUMN = "why it ended"


def sweeps_table(store: Any) -> pd.DataFrame:
    """One row per sweep of ``store``, oldest first: id, name, state, method, created (UTC,
    to the second), runs (total and by state), the metric's name and the best value (6 digits)."""
    rows = []
    for sweep in store.list_sweeps():
        cfg = sweep.get("config") or {}
        metric = Metric.of(cfg)
        best = best_run(metric, store.get_runs(sweep["id"], copy=False)) if metric else None
        rows.append(
            {
                "id": sweep["id"],
                "name": sweep.get("name") or "",
                "state": sweep_state(sweep, sweep.get("runs") or {}),
                "method": cfg.get("method", ""),
                "created": sweep.get("created"),
                "runs": counts_text(sweep.get("runs") or {}),
                "metric": metric.name if metric else "",
                "best": "" if best is None else f"{best[1]:.6g}",
            }
        )
    table = pd.DataFrame(rows, columns=list(SWEEPS_COLUMNS))
    table["created"] = pd.to_datetime(table["created"], unit="s").dt.round("s")
    return table.sort_values("created", kind="stable").reset_index(drop=True)


def display_state(
    sweep_state: str, running: int, done: int, planned: int | None, failed: int = 0
) -> str:
    """What a sweep is doing now: its stored state when it ended or is paused
    (``finished``, ``canceled``, ``stopped``, ``paused``); else ``running`` while a run runs,
    ``finished`` when the planned runs are done, ``idle`` when no agent is running runs (more
    agents may join, as in W&B, where such a sweep stays RUNNING).

    A finished sweep whose ``done`` runs all ``failed`` (failed or crashed) says so, as
    ``finished (all N runs failed)``: plain ``finished`` would read as a success. Only the
    display: the stored state stays ``finished``. Every front end (``ls``, ``show``, the
    dashboard's progress line) gets its state from here.

    >>> display_state("running", 0, 6, 6), display_state("running", 0, 3, None)
    ('finished', 'idle')
    >>> display_state("finished", 0, 3, None, failed=3), display_state("finished", 0, 2, 2, 1)
    ('finished (all 3 runs failed)', 'finished')
    """
    state = _state_now(sweep_state, running, done, planned)
    if state == "finished" and done and failed == done and not running:
        return f"finished (all {done} runs failed)"
    return state


def _state_now(sweep_state: str, running: int, done: int, planned: int | None) -> str:
    if sweep_state != "running":
        return "stopping" if sweep_state == "stopped" and running else sweep_state
    if running:
        return "running"
    if planned and done >= planned:
        return "finished"
    return "idle"


def planned_runs(cfg: dict, count: int | None = None) -> int | None:
    """How many runs the sweep will make, when known: the smallest of the search method's
    planned runs (grid: its size), ``run_cap`` and the agent's ``count``."""
    known = [n for n in (cfg.get("run_cap"), count) if isinstance(n, int) and n > 0]
    size = _method_planned_runs(cfg)
    if size:
        known.append(size)
    return min(known) if known else None


def _method_planned_runs(cfg: dict) -> int | None:
    from sweepnb.engine import search

    method = cfg.get("method")
    known = isinstance(method, str) and method in search.METHODS
    return search.describe(method).planned_runs(cfg) if known else None


def sweep_state(sweep: dict, counts: dict[str, int]) -> str:
    """The state ``ls`` and ``show`` print: :func:`display_state` of the stored state and the
    run counts, against the runs the method or ``run_cap`` plan (a grid's size)."""
    running = counts.get("running", 0)
    done = sum(counts.values()) - running
    failed = counts.get("failed", 0) + counts.get("crashed", 0)
    planned = planned_runs(sweep.get("config") or {})
    return display_state(sweep.get("state") or "", running, done, planned, failed)


def counts_text(counts: dict[str, int]) -> str:
    """``{"finished": 1, "failed": 1}`` -> ``"2 (1 failed, 1 finished)"``; no runs -> ``"0"``."""
    total = sum(counts.values())
    if not total:
        return "0"
    detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if n)
    return f"{total} ({detail})"


def sweep_detail(store: Any, sweep_id: str) -> tuple[str, pd.DataFrame]:
    """A sweep's summary line and its runs frame, best run first (runs without the metric
    last, ties in creation order), with the runs' names (tags, group...) where any has one and
    a ``why it ended`` column (stop reason or last error
    line). ``sweep_id`` may be a W&B path (``entity/project/id``). Raises SweepNotFound naming
    the id when the store has no such sweep."""
    sweep = store.get_sweep(parse_sweep_id(sweep_id))
    cfg = sweep.get("config") or {}
    runs = store.get_runs(sweep["id"], copy=False)  # read only
    metric = Metric.of(cfg)
    frame = runs_frame(cfg, runs)
    best = best_run(metric, runs, _frame_values(frame, metric, runs)) if metric else None
    counts: dict[str, int] = {}
    for run in runs:
        counts[run["state"]] = counts.get(run["state"], 0) + 1
    line = (
        f"sweep {sweep['id']}"
        + (f" ({sweep['name']})" if sweep.get("name") else "")
        + f": {sweep_state(sweep, counts)}, {cfg.get('method')} search, {len(runs)} runs"
        + (f" ({counts_text(counts).split(' ', 1)[1][1:-1]})" if runs else "")
        + (f", metric {metric.name} ({metric.goal})" if metric else "")
        + (f", best {metric.name} = {best[1]:.6g}" if best else "")
        + why_note(cfg, runs)
    )
    for column in INFO_COLUMNS:  # a run given no name (tags...) shows a blank, not NaN
        if column in frame:
            frame[column] = frame[column].fillna("")
    frame[WHY_COLUMN] = [why_it_ended(run) for run in runs]
    if metric and metric.name in frame:
        ranked = ranked_runs(frame, metric)
        frame = pd.concat([ranked, frame.drop(index=ranked.index)])
    return line, frame.drop(columns=["created"]).reset_index(drop=True)


def _frame_values(frame: pd.DataFrame, metric: Metric, runs: list[dict]) -> Any:
    """``metric.value`` of each run, read from the runs frame's metric column (which holds it,
    NaN for None) instead of scanning every history a second time."""
    values = {
        id(run): None if value is None or _is_nan(value) else value
        for run, value in zip(runs, frame[metric.name].tolist())
    }
    return lambda run: values[id(run)]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def why_note(cfg: dict, runs: list[dict]) -> str:
    """A second summary line when hyperband stopped runs: its "value" is not the metric column.

    Hyperband (strict, W&B's default) compares the value a run logged at the band's iteration,
    which is usually not the run's best, the value the metric column shows; without this line the
    two numbers look inconsistent. "" when no run was stopped by hyperband.

    >>> why_note({"metric": {"name": "acc"}}, [{"stop_reason": {"rule": "hyperband"}}]).strip()[:40]
    'why it ended: hyperband compared the acc'
    """
    reasons = [run.get("stop_reason") for run in runs]
    if not any(isinstance(r, dict) and r.get("rule") == "hyperband" for r in reasons):
        return ""
    name = (cfg.get("metric") or {}).get("name") or "metric"
    if (cfg.get("early_terminate") or {}).get("strict", True):
        judged = f"the {name} logged at the band's iteration (Band 3: its 3rd value)"
    else:
        judged = f"each run's best {name} so far when it was judged"
    return f"\nwhy it ended: hyperband compared {judged}; the {name} column is each run's best"


def why_it_ended(run: dict) -> str:
    """Why a run ended early: its stop reason, or the last line of its error ("" otherwise)."""
    reason = run.get("stop_reason")
    if run["state"] in ("stopped", "killed") and reason:
        if isinstance(reason, dict):
            return str(reason.get("message") or reason.get("rule"))
        return str(reason)
    error = (run.get("error") or "").strip()
    if run["state"] in ("failed", "crashed", "stopped", "killed") and error:
        return error.splitlines()[-1]
    return ""


def rerun_command(cfg: dict, run: dict, sweep_id: str = "SWEEP_ID") -> str:
    """How to run ``run``'s config again: for a ``program`` sweep the shell command the agent
    ran (W&B's ``command`` macros expanded), else the Python lines that make a one-run grid
    sweep of that config and run it through the sweep's function (``train`` stands for it).

    >>> rerun_command({"program": "train.py"}, {"id": "r1", "config": {"lr": 0.1}})
    'python train.py --lr=0.1'
    """
    import shlex

    config = run.get("config") or {}
    if cfg.get("program") or cfg.get("command"):
        from sweepnb.runtime.command import build_command

        try:
            argv = build_command(
                cfg.get("command"),
                program=cfg.get("program"),
                params=config,
                sweep_id=sweep_id,
                run_id=str(run.get("id")),
                json_file_dir=".",
                environ={},
            )
        except Exception as exc:  # noqa: BLE001 - a command the agent could not build either
            return f"# the config's command cannot be built: {exc}"
        # ${env} gives no tokens here; the interpreter reads as `python`, not this kernel's path
        import sys

        argv = ["python" if a == sys.executable else a for a in argv]
        if argv and argv[0].endswith("/env"):
            argv = argv[1:]
        return shlex.join(argv)
    metric = {k: v for k, v in (cfg.get("metric") or {}).items() if k in ("name", "goal")}
    one = {
        "method": "grid",
        **({"metric": metric} if metric else {}),
        "parameters": {k: {"value": v} for k, v in config.items()},
    }
    return (
        f"sweep_id = sweepnb.sweep({one!r})\n"
        "sweepnb.agent(sweep_id, train, count=1)  # train: the sweep's function"
    )
