"""What the dashboard shows, as data: a sweep's progress, the best runs, the planned run count
and a fingerprint telling when anything changed. Pure functions of the config and run dicts (no
drawing, no display), so they are tested without a notebook and reusable by other front ends.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sweepnb.analysis import plotdata as plots
from sweepnb.analysis import ranked_runs
from sweepnb.analysis.tables import display_state, planned_runs
from sweepnb.engine.metric import Metric, best_run
from sweepnb.engine.states import TERMINAL_RUN_STATES

ACTIVE_SWEEP = ("running", "paused")
LIVE = ("running", "stopping")  # display states with runs going: "elapsed", an ETA


# --------------------------------------------------------------------------- progress (pure)


@dataclass
class Progress:
    """Counts, best run and timing of a sweep at one moment."""

    sweep_id: str
    sweep_state: str
    metric: str | None
    goal: str
    done: int
    planned: int | None
    running: int
    failed: int
    stopped: int
    best_value: float | None
    best_id: str | None
    best_config: dict | None
    elapsed: float
    eta: float | None
    # what the sweep is doing now (tables.display_state): running, idle, finished, paused, ...,
    # "finished (all 3 runs failed)"; `sweep_state` is the stored one, for comparisons
    state: str = ""
    total: int | None = None  # the sweep's runs, when the counts above are one call's
    failures: tuple[str, ...] = ()  # why runs failed, and metric hints (see failure_notes)

    def text(self) -> str:
        """Two lines: counts and timing, then the best run (plus failure notes, if any)."""
        planned = f"/{self.planned}" if self.planned else ""
        state = self.state or self.sweep_state
        live = state in LIVE
        eta = f", ETA {_duration(self.eta)}" if self.eta is not None and live else ""
        timing = f"elapsed {_duration(self.elapsed)}" if live else f"took {_duration(self.elapsed)}"
        whose = " (this call)" if self.total is not None else ""
        total = f"; {self.total} runs in the sweep" if self.total is not None else ""
        counts = (
            f"sweep {self.sweep_id} [{state}]: {self.done}{planned} runs done{whose}, "
            f"{self.running} running, {self.failed} failed, {self.stopped} stopped{total}; "
            f"{timing}{eta}"
        )
        if self.best_id is None:
            lines = [counts, "best: none yet"]
        else:
            best = f"best {self.metric} = {self.best_value:.6g}"
            lines = [counts, f"{best} ({self.best_id}: {_params(self.best_config)})"]
        return "\n".join(lines + list(self.failures))

    def html(self) -> str:
        """The same as a small HTML block with a progress bar."""
        share = min(1.0, self.done / self.planned) if self.planned else 0.0
        bar = (
            f'<progress value="{share:.3f}" max="1" style="width:240px"></progress> '
            if self.planned
            else ""
        )
        lines = [html.escape(line) for line in self.text().splitlines()]
        head = f'<div class="sweepnb-progress">{bar}<b>{lines[0]}</b><br>{lines[1]}</div>'
        if not self.failures:
            return head
        notes = html.escape("\n".join(self.failures))
        return (
            head + '<pre class="sweepnb-failures" style="color:#a40000;background:#fff4f4;'
            'padding:6px;white-space:pre-wrap;font-size:13px">' + notes + "</pre>"
        )


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _params(config: dict | None, prefix: str = "") -> str:
    parts = []
    for key, value in (config or {}).items():
        if isinstance(value, dict):
            parts.append(_params(value, f"{prefix}{key}."))
        else:
            parts.append(
                f"{prefix}{key}={value:.4g}"
                if isinstance(value, float)
                else f"{prefix}{key}={value}"
            )
    return ", ".join(p for p in parts if p)


def progress(
    cfg: dict,
    runs: list[dict],
    *,
    sweep_id: str,
    sweep_state: str,
    count: int | None = None,
    now: float | None = None,
    since: float | None = None,
    value_of: Any = None,
) -> Progress:
    """Progress of a sweep from its config and run dicts (``store.get_runs``).

    ``now`` defaults to ``time.time()``; ``count`` is the agent's run count, if any; ``since``
    (an ``%agent`` call's start time) counts only the runs created from then on, the sweep's
    total given beside them; ``value_of(run)``: the run's metric value when the caller keeps it
    (the live dashboard: a big sweep's histories are not read again every refresh)."""
    now = time.time() if now is None else now
    metric = Metric.of(cfg)
    total = None
    if since is not None:
        total = len(runs)
        runs = [r for r in runs if (r.get("created") or 0) >= since]
    states = [r.get("state") for r in runs]
    done = sum(s in TERMINAL_RUN_STATES for s in states)
    best = best_run(metric, runs, value_of)
    created = [r["created"] for r in runs if isinstance(r.get("created"), (int, float))]
    ended = [r["ended"] for r in runs if isinstance(r.get("ended"), (int, float))]
    planned = planned_runs(cfg, count)
    running = states.count("running")
    failed = states.count("failed") + states.count("crashed")
    state = display_state(sweep_state, running, done, planned, failed)
    # the clock runs while runs run (also under a paused or stopped sweep); an idle or ended
    # sweep took until its last run ended
    live = state in LIVE or running > 0 or (sweep_state in ACTIVE_SWEEP and not ended)
    end = now if live or not ended else max(ended)
    elapsed = max(0.0, end - min(created)) if created else 0.0
    if since is not None:
        elapsed = max(0.0, end - since)
    eta = None
    if planned and live and done:
        eta = max(0.0, elapsed / done * (planned - done))
    return Progress(
        state=state,
        total=total,
        failures=tuple(failure_notes(cfg, runs)),
        sweep_id=sweep_id,
        sweep_state=sweep_state,
        metric=metric.name if metric else None,
        goal=metric.goal if metric else "minimize",
        done=done,
        planned=max(planned, done) if planned else None,
        running=running,
        failed=failed,
        stopped=states.count("stopped") + states.count("killed"),
        best_value=best[1] if best else None,
        best_id=best[0]["id"] if best else None,
        best_config=best[0].get("config") if best else None,
        elapsed=elapsed,
        eta=eta,
    )


ERROR_LINES = 3  # lines of a traceback shown for each failed run after the first


def failure_notes(cfg: dict, runs: list[dict], limit: int = 5) -> list[str]:
    """Why runs failed, as text for the dashboard: the first failed run's error in full (its
    traceback's last 40 lines), the last lines of the next ones, and a hint when finished runs
    never logged the sweep's metric (naming the keys they did log)."""
    notes: list[str] = []
    failed = [r for r in runs if r.get("state") in ("failed", "crashed") and r.get("error")]
    for n, run in enumerate(failed[:limit]):
        lines = [line for line in str(run["error"]).rstrip().splitlines() if line.strip()]
        shown = lines[-40:] if n == 0 else lines[-ERROR_LINES:]
        head = f"run {run.get('id')} {run.get('state')}:"
        notes.append(head + ("\n" if n == 0 else " ") + "\n".join(shown))
    if len(failed) > limit:
        notes.append(f"... and {len(failed) - limit} more failed runs (sweepnb show for all)")
    metric = Metric.of(cfg)
    if metric is not None:
        ended = [r for r in runs if r.get("state") == "finished"]
        logged: set[str] = set()
        missing = 0
        for run in ended:
            keys = set(run.get("summary") or {})
            for row in run.get("history") or ():
                keys.update(row)
            if metric.name not in keys:
                missing += 1
                logged.update(k for k in keys if not k.startswith("_"))
        if missing:
            names = ", ".join(sorted(logged)[:12]) or "nothing"
            notes.append(
                f"{missing} finished run(s) never logged the metric {metric.name!r} "
                f"(they logged: {names}); check metric.name in the config"
            )
    return notes


def fingerprint(runs: list[dict], sweep_state: str) -> int:
    """Changes whenever a run starts, ends, logs or updates its summary. Cheap: the store's
    per-run ``version`` stands for the history when present, so run dicts read without history
    give the same fingerprint."""
    return hash(
        (
            sweep_state,
            tuple(
                (
                    r.get("id"),
                    r.get("state"),
                    r["version"] if "version" in r else len(r.get("history") or ()),
                    repr(r.get("summary")),
                )
                for r in runs
            ),
        )
    )


def best_table(df: pd.DataFrame, cfg: dict, top: int = 5) -> pd.DataFrame:
    """The ``top`` runs by the metric: id (and name, when runs have one), state, the metric, the
    swept parameters, runtime."""
    metric = Metric.of(cfg)
    if not metric or metric.name not in df.columns or df.empty:
        return df.head(0)[["id"]] if "id" in df.columns else pd.DataFrame()
    ranked = ranked_runs(df, metric).head(top)
    params = [p.name for p in plots.swept_params(df, cfg)]
    first = ("id", "name", "state", metric.name, *params, "runtime")
    columns = [c for c in first if c in ranked.columns]
    return ranked[list(dict.fromkeys(columns))].reset_index(drop=True)
