"""Several agents at once: ``sweepnb.agent(sweep_id, train, n_jobs=N)``.

Each job is an ordinary single-process agent loop (``sweepnb.agent_loop.run_agent``); the store
coordinates them, so nothing here is shared but the sweep id and the store URL. Jobs go through
joblib, whose backend the caller chooses (``with joblib.parallel_config(backend=...)``; loky
processes by default). The function travels by cloudpickle, so one defined in a notebook cell
works in a worker process.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from .agent_loop import AgentResult, parse_sweep_id, run_agent


class _CloudFunction:
    """Wraps the function so that pickling it (only process backends pickle) uses cloudpickle;
    the threading backend calls the very same object."""

    def __init__(self, function: Callable | None):
        self.function = function

    def __reduce__(self):
        import cloudpickle

        return (_load_function, (cloudpickle.dumps(self.function),))


def _load_function(payload: bytes) -> _CloudFunction:
    import cloudpickle

    return _CloudFunction(cloudpickle.loads(payload))


def split_count(count: int | None, n_jobs: int) -> list[int | None]:
    """``count`` runs shared as evenly as possible by ``n_jobs`` agents (None: no cap each).

    >>> split_count(10, 4), split_count(None, 2), split_count(2, 4)
    ([3, 3, 2, 2], [None, None], [1, 1])
    """
    if count is None:
        return [None] * n_jobs
    base, extra = divmod(count, n_jobs)
    counts = [base + (i < extra) for i in range(n_jobs)]
    return [c for c in counts if c > 0]


def run_agents(
    sweep_id: str,
    function: Callable | None,
    count: int | None,
    *,
    n_jobs: int,
    store: Any,
    **kw: Any,
) -> AgentResult:
    """Run ``n_jobs`` agents (-1: one per CPU) in parallel; ``count`` is shared among them.

    Returns their results merged. Runs a killed worker leaves ``running`` are reaped as
    ``crashed`` by the next claim (their process is gone) or after their heartbeat goes stale.
    """
    import joblib

    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: must be >= 1 or -1 (one agent per CPU), got {n_jobs}")
    sweep_id = parse_sweep_id(sweep_id)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    store.get_sweep(sweep_id)  # an unknown id fails here, not once per worker
    group = f"{socket.gethostname()}-{os.getpid()}"
    jobs = [
        joblib.delayed(_agent_job)(
            sweep_id, _CloudFunction(function), c, store.url, {**kw, "agent_name": f"{group}-{i}"}
        )
        for i, c in enumerate(split_count(count, n_jobs))
    ]
    try:
        results = joblib.Parallel(n_jobs=len(jobs))(jobs)
    except KeyboardInterrupt:
        stop_group_runs(store, sweep_id, group)
        raise
    merged = AgentResult(sweep_id)
    for result in results:
        merged = merged.merge(result)
    return merged


def stop_group_runs(store: Any, sweep_id: str, group: str) -> list[str]:
    """After Ctrl-C: the runs our agents left ``running`` end ``stopped`` (workers are gone)."""
    stopped = []
    for run in store.get_runs(sweep_id, history=False):
        if run["state"] == "running" and str(run.get("agent") or "").startswith(group + "-"):
            store.finish_run(
                run["id"], "stopped", error="KeyboardInterrupt: the agents were interrupted"
            )
            stopped.append(run["id"])
    return stopped


def _agent_job(
    sweep_id: str, function: _CloudFunction, count: int | None, store_url: str, kw: dict
) -> AgentResult:
    from .store import Store

    return run_agent(sweep_id, function.function, count, store=Store(store_url), **kw)
