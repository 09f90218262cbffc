"""The public Python API: create a sweep, run agents on it, read its results, change its state.

    import sweepnb
    sweep_id = sweepnb.sweep({"method": "grid", "metric": {"name": "loss"},
                              "parameters": {"x": {"values": [1, 2, 3]}}})
    sweepnb.agent(sweep_id, lambda: sweepnb.log({"loss": sweepnb.config.x ** 2}))
    sweepnb.best_run(sweep_id)["config"]          # {'x': 1}

Names follow W&B (``sweep``, ``agent``); W&B's ``entity``/``project`` are accepted and recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sweepnb.errors import SweepnbError, SweepNotFound
from sweepnb.ids import parse_sweep_id
from sweepnb.runtime.agent import AgentResult, run_agent

PRIOR_RUN_STATES = ("finished", "stopped")  # runs that ended normally or early-terminated


def _store(store: Any = None, *, create: bool = False) -> Any:
    """A Store; only ``sweep()`` (``create=True``) may create a SQLite store."""
    from sweepnb.store import open_store

    return open_store(store, create=create)


# ---------------------------------------------------------------------------------------------
# Creating and changing sweeps
# ---------------------------------------------------------------------------------------------


def sweep(
    config: Any = None,
    project: str | None = None,
    entity: str | None = None,
    store: Any = None,
    *,
    sweep: Any = None,
    name: str | None = None,
    program: str | None = None,
    prior_runs: list[str] | None = None,
    check_program: bool = False,
) -> str:
    """Create a sweep; return its id (8 lowercase letters/digits).

    ``config``: a dict, YAML text, a path to a YAML file, or a zero-argument callable returning
    one of those (W&B accepts that too). ``name``/``program`` override the config's.
    ``prior_runs``: ids of sweeps (their finished/stopped runs) or of single runs to copy into
    the new sweep, so they seed bayes and cover grid points. Nothing is written when the
    config is invalid (``ConfigError``) or a prior id is unknown (``SweepNotFound``), nor, with
    ``check_program``, when the config's ``program`` is not a file here (the CLI checks it).
    ``sweep=``: W&B's name for ``config`` (``wandb.sweep(sweep=config, project=...)``).
    """
    config = _config_argument(config, sweep)  # issue 12: W&B's keyword form
    cfg = load(config)
    if name is not None:
        cfg["name"] = name
    if program is not None:
        cfg["program"] = program
    if check_program and cfg.get("program") and not os.path.isfile(cfg["program"]):
        raise SweepnbError(f"program not found: {cfg['program']!r} (relative to {os.getcwd()})")
    st = _store(store, create=True)
    prior = _prior_runs(st, prior_runs or [])
    sweep_id = st.create_sweep(
        cfg,
        name=cfg.get("name"),
        project=project or cfg.get("project"),
        entity=entity or cfg.get("entity"),
    )
    for run in prior:
        st.add_run(
            sweep_id,
            run["config"],
            state=run["state"],
            summary=run.get("summary"),
            history=run.get("history"),
            host=run.get("host"),
        )
    return sweep_id


def _config_argument(config: Any, sweep: Any) -> Any:
    if sweep is not None and config is not None:
        raise TypeError("sweep: the config was given twice (as `config` and as W&B's `sweep=`)")
    if sweep is None and config is None:
        raise TypeError("config: missing the sweep config (a dict, YAML text or a path)")
    return config if sweep is None else sweep


def load(config: Any) -> dict:
    """A validated, defaults-filled config from a dict, YAML text, a path or a callable."""
    from sweepnb.engine import load_config

    if callable(config) and not isinstance(config, (dict, str, os.PathLike)):
        config = config()
    return load_config(config)


def _prior_runs(store: Any, ids: list[str]) -> list[dict]:
    """The runs named by ``ids``: every finished/stopped run of a sweep id, or one run id."""
    runs: list[dict] = []
    for ident in ids:
        try:
            found = store.get_runs(parse_sweep_id(ident))
        except SweepNotFound:
            try:
                found = [store.get_run(ident)]
            except SweepNotFound:
                raise SweepNotFound(
                    f"prior run: no sweep or run {ident!r} in store {store.display_url}"
                ) from None
        runs += [r for r in found if r["state"] in PRIOR_RUN_STATES]
    return runs


def update(sweep_id: str, config: Any, store: Any = None) -> None:
    """Replace the config of an existing sweep (``sweepnb sweep --update ID CONFIG``)."""
    st = _store(store)
    sid = parse_sweep_id(sweep_id)
    st.get_sweep(sid)
    st.update_sweep_config(sid, load(config))


def _set_state(
    sweep_id: str, store: Any, state: str, allowed: tuple[str, ...], refusal: str
) -> dict:
    st = _store(store)
    sweep = st.get_sweep(parse_sweep_id(sweep_id))
    if sweep["state"] not in allowed:
        raise SweepnbError(f"sweep {sweep['id']} is {sweep['state']}: {refusal}")
    st.set_sweep_state(sweep["id"], state)
    return sweep


def stop(sweep_id: str, store: Any = None) -> None:
    """Stop the sweep (W&B ``--stop``): no new runs; running runs complete. State ``finished``."""
    _set_state(sweep_id, store, "finished", ("running", "paused"), "cannot stop it")


def cancel(sweep_id: str, store: Any = None) -> None:
    """Cancel the sweep: no new runs, and running runs end (at their next ``log`` for functions,
    SIGTERM then SIGKILL for programs) as ``stopped``. State ``cancelled``."""
    sweep = _set_state(sweep_id, store, "cancelled", ("running", "paused"), "cannot cancel it")
    st = _store(store)
    for run in st.get_runs(sweep["id"], history=False):
        if run["state"] == "running" and not run.get("stop_requested"):
            st.request_stop(run["id"], {"rule": "cancel", "message": "the sweep was cancelled"})


def pause(sweep_id: str, store: Any = None) -> None:
    """Pause the sweep: no new runs until ``resume``; running runs go on."""
    _set_state(sweep_id, store, "paused", ("running", "paused"), "only a running sweep pauses")


def resume(sweep_id: str, store: Any = None) -> None:
    """Set the sweep ``running`` again, from any state (W&B allows resuming a finished sweep)."""
    _set_state(sweep_id, store, "running", ("running", "paused", "finished", "cancelled"), "")


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------


def _check_agent_arguments(function: Any, count: Any, n_jobs: Any) -> None:
    # Refuse bad arguments before any run is claimed: a non-callable function would otherwise
    # turn every run it claims into a failed one.
    if function is not None and not callable(function):
        raise TypeError(f"function: expected a callable or None, got {type(function).__name__}")
    for name, value, low in (("count", count, 0), ("n_jobs", n_jobs, None)):
        if value is None and name == "count":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name}: expected an integer, got {value!r}")
        if low is not None and value < low:
            raise ValueError(f"{name}: must be >= {low}, got {value}")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: must be >= 1 or -1 (one per CPU), got {n_jobs}")


def agent(
    sweep_id: str,
    function: Callable | None = None,
    count: int | None = None,
    n_jobs: int = 1,
    store: Any = None,
    *,
    backend: str | None = None,
    scheduler: str | None = None,
    gpus: Any = None,
    retry_failed: bool = False,
    entity: str | None = None,
    project: str | None = None,
    wandb: str | None = None,
    **kw: Any,
) -> AgentResult:
    """Run the sweep: call ``function`` (or the config's ``program``) for each new run.

    ``count``: the most runs this call executes (all agents together when ``n_jobs > 1``).
    ``n_jobs > 1`` (or -1: one per CPU) runs that many agents in parallel through joblib, with
    ``backend`` (a joblib backend name; default: ``joblib.parallel_config``'s, else loky
    processes). ``scheduler="tcp://HOST:8786"`` runs them on that Dask cluster. ``gpus="0,1"``:
    agent ``i`` sees ``CUDA_VISIBLE_DEVICES=gpus[i % 2]``. ``retry_failed``: grid points whose
    runs failed, crashed or were killed (Ctrl-C) before this call are run again. The result's
    ``gave_up`` is True when W&B's failure policy stopped an agent. Other keywords go to
    :func:`sweepnb.runtime.agent.run_agent` (``kill_delay``, ``quiet``...); W&B's
    ``project``/``entity`` are accepted and ignored, and so are ``entity/project/`` before the id.
    ``wandb``: which ``wandb`` a program run imports, ``"sweepnb"`` (sweepnb's offline one) or
    ``"real"``; default ``$SWEEPNB_WANDB``, else sweepnb's when the real one is not installed.

        >>> sweepnb.agent(sweep_id, train, count=20, n_jobs=2)        # doctest: +SKIP
    """
    _check_agent_arguments(function, count, n_jobs)
    if wandb is not None:  # issue 12: the program runs' wandb (sweepnb.compat.shim)
        from sweepnb.compat.shim import check_choice

        kw["wandb"] = check_choice(wandb)
    if retry_failed:
        kw["retry_failed"] = retry_failed
    if n_jobs == 1 and backend is None and scheduler is None and gpus is None:
        return run_agent(sweep_id, function, count, store=_store(store), **kw)
    from sweepnb.runtime.parallel import run_agents

    return run_agents(
        sweep_id,
        function,
        count,
        n_jobs=n_jobs,
        store=_store(store),
        backend=backend,
        scheduler=scheduler,
        gpus=gpus,
        **kw,
    )


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


def runs(sweep_id: str, store: Any = None) -> Any:
    """The sweep's runs as a pandas DataFrame (see ``analysis.runs_frame`` for the columns)."""
    from sweepnb.analysis import runs_frame

    st = _store(store)
    sweep = st.get_sweep(parse_sweep_id(sweep_id))
    # read only: the frame holds the runs' scalars, never their dicts
    return runs_frame(sweep["config"], st.get_runs(sweep["id"], copy=False))


def best_run(sweep_id: str, store: Any = None) -> dict | None:
    """The run with the best metric value (a run dict, plus ``"metric": {name, goal, value}``),
    or None when no run has logged the metric yet."""
    from sweepnb.analysis import best_run as best

    st = _store(store)
    sweep = st.get_sweep(parse_sweep_id(sweep_id))
    return best(sweep["config"], st.get_runs(sweep["id"]))
