"""What the dashboard shows, as data: a sweep's progress, the best runs, the planned run count
and a fingerprint telling when anything changed. Pure functions of the config and run dicts (no
drawing, no display), so they are tested without a notebook and reusable by other front ends.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass

import pandas as pd

from sweepnb.analysis import plotdata as plots
from sweepnb.analysis import ranked_runs
from sweepnb.engine.metric import Metric, best_run
from sweepnb.engine.states import TERMINAL_RUN_STATES

ACTIVE_SWEEP = ("running", "paused")


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

    def text(self) -> str:
        """Two lines: counts and timing, then the best run."""
        planned = f"/{self.planned}" if self.planned else ""
        eta = f", ETA {_duration(self.eta)}" if self.eta is not None else ""
        counts = (
            f"sweep {self.sweep_id} [{self.sweep_state}]: {self.done}{planned} runs done, "
            f"{self.running} running, {self.failed} failed, {self.stopped} stopped; "
            f"elapsed {_duration(self.elapsed)}{eta}"
        )
        if self.best_id is None:
            return counts + "\nbest: none yet"
        best = f"best {self.metric} = {self.best_value:.6g}"
        return f"{counts}\n{best} ({self.best_id}: {_params(self.best_config)})"

    def html(self) -> str:
        """The same as a small HTML block with a progress bar."""
        share = min(1.0, self.done / self.planned) if self.planned else 0.0
        bar = (
            f'<progress value="{share:.3f}" max="1" style="width:240px"></progress> '
            if self.planned
            else ""
        )
        lines = [html.escape(line) for line in self.text().splitlines()]
        return f'<div class="sweepnb-progress">{bar}<b>{lines[0]}</b><br>{lines[1]}</div>'


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


def progress(
    cfg: dict,
    runs: list[dict],
    *,
    sweep_id: str,
    sweep_state: str,
    count: int | None = None,
    now: float | None = None,
) -> Progress:
    """Progress of a sweep from its config and run dicts (``store.get_runs``).

    ``now`` defaults to ``time.time()``; ``count`` is the agent's run count, if any."""
    now = time.time() if now is None else now
    metric = Metric.of(cfg)
    states = [r.get("state") for r in runs]
    done = sum(s in TERMINAL_RUN_STATES for s in states)
    best = best_run(metric, runs)
    created = [r["created"] for r in runs if isinstance(r.get("created"), (int, float))]
    ended = [r["ended"] for r in runs if isinstance(r.get("ended"), (int, float))]
    live = sweep_state in ACTIVE_SWEEP or "running" in states
    end = now if live or not ended else max(ended)
    elapsed = max(0.0, end - min(created)) if created else 0.0
    planned = planned_runs(cfg, count)
    eta = None
    if planned and live and done:
        eta = max(0.0, elapsed / done * (planned - done))
    return Progress(
        sweep_id=sweep_id,
        sweep_state=sweep_state,
        metric=metric.name if metric else None,
        goal=metric.goal if metric else "minimize",
        done=done,
        planned=max(planned, done) if planned else None,
        running=states.count("running"),
        failed=states.count("failed") + states.count("crashed"),
        stopped=states.count("stopped"),
        best_value=best[1] if best else None,
        best_id=best[0]["id"] if best else None,
        best_config=best[0].get("config") if best else None,
        elapsed=elapsed,
        eta=eta,
    )


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
