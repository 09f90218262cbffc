"""How a run starts: ``sweepnb.init()``, joining the run an agent claimed for a program, or a
standalone run (when the thread has no active run).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sweepnb.runtime import hooks
from sweepnb.runtime.run import Run, activate, current, deactivate
from sweepnb.runtime.run_config import Config, as_mapping
from sweepnb.runtime.run_info import INFO_KEYS

_joined = threading.local()  # .run_id: the agent's run this thread's program already joined
_function_run = threading.local()  # .run: the run an agent is calling this thread's function for


class AgentFunctionRun(Run):
    """The run an agent calls the user's function for (issue 24).

    W&B's agent gives the function's process the run's id (``WANDB_RUN_ID``), so a function
    that calls ``wandb.finish()`` and then ``wandb.init()`` again logs into the same run: Hugging
    Face's ``hyperparameter_search(backend="wandb")`` does exactly that (its callback finishes the
    run the objective started, then starts it again with the trial's name). Here ``finish()``
    inside the function writes what is buffered and leaves ``wandb.run`` None; the next
    ``init()`` joins the same run again; the agent records the final state when the function
    returns. ``finish(exit_code=1)`` ends the run ``failed`` at once.

    ``initialized`` turns true at the function's first ``init()``: W&B's ``wandb.run`` is None
    until then (the W&B surface reads it), so Lightning's ``WandbLogger`` and Hugging Face's
    callback call ``wandb.init(name=...)`` themselves, as they do under W&B's agent."""

    initialized = False

    def _apply_defaults(self, defaults: Any) -> None:
        self.initialized = True  # init() calls this every time (sweepnb.runtime.run_start.init)
        super()._apply_defaults(defaults)

    def finish(self, exit_code: int | None = None, state: str | None = None) -> None:
        if exit_code or state not in (None, "finished") or self.state != "running":
            super().finish(exit_code=exit_code, state=state)
            return
        self.flush()

        deactivate()


def calling_function_for(run: Run | None) -> None:
    """The agent is calling this thread's function for ``run`` (None: the call is over)."""
    _function_run.run = run


def resumes_agent_run(kwargs: dict) -> bool:
    """``init(id=ID, resume=...)`` with the id of the run the agent claimed for this program:
    W&B's cross-validation example finishes its sweep run, then resumes it to log the mean."""
    run_id = os.environ.get("SWEEPNB_RUN_ID")
    return bool(run_id and kwargs.get("resume") and kwargs.get("id") == run_id)


def run_from_env(*, resume: bool = False) -> Run | None:
    """The run of a program started by an agent (env SWEEPNB_RUN_ID), or None.

    The agent also sets W&B's ``WANDB_RUN_ID``: a process that removed it (W&B's
    cross-validation example does, to make one run per fold) starts a run of its own.
    A second ``init()`` in the program makes a standalone run unless it ``resume``s this one."""
    rejoin = getattr(_function_run, "run", None)  # issue 24: init() after finish() in a function
    if rejoin is not None and rejoin.state == "running":
        return rejoin
    run_id = os.environ.get("SWEEPNB_RUN_ID")
    if not run_id or (getattr(_joined, "run_id", None) == run_id and not resume):
        return None
    if os.environ.get("SWEEPNB_WANDB_ENV") and os.environ.get("WANDB_RUN_ID") != run_id:
        return None
    from sweepnb.store import Store

    store = Store(os.environ.get("SWEEPNB_STORE"))
    record = store.get_run(run_id)
    sweep_id = os.environ.get("SWEEPNB_SWEEP_ID") or record.get("sweep_id")
    cfg = store.get_sweep(sweep_id)["config"] if sweep_id else {}
    run = Run(
        store=store,
        run_id=run_id,
        sweep_id=sweep_id,
        config=record.get("config"),
        metric=cfg.get("metric"),
        owner=False,
        project=record.get("project"),
    )
    if cfg.get(
        "early_terminate"
    ):  # the program judges its own bands too (sweepnb.runtime.termination)
        from sweepnb.runtime.termination import Monitor

        Monitor(store, sweep_id, cfg).watch(run)
    _joined.run_id = run_id  # a second init() in the same program makes a standalone run
    run.start_heartbeat()
    return run


def standalone_run(
    config: Any, project: str | None, entity: str | None, mode: str | None, store: Any
) -> Run:
    if mode == "disabled":
        return Run(run_id=None, project=project, entity=entity)
    from sweepnb.store import open_store

    st = open_store(store)
    plain = Config(as_mapping(config)).as_dict()
    run_id = st.add_run(None, plain, state="running", host=host(), pid=os.getpid(), project=project)
    run = Run(store=st, run_id=run_id, project=project, entity=entity)
    run.start_heartbeat()
    return run


def host() -> str:
    import socket

    return socket.gethostname()


def init(
    config: Any = None,
    project: str | None = None,
    entity: str | None = None,
    *,
    mode: str | None = None,
    store: Any = None,
    **ignored: Any,
) -> Run:
    """Start (or join) a run and make it the active one; ``config`` gives defaults.

    Inside an agent it joins the claimed run: the swept values are deep-merged over ``config``.
    Outside a sweep it records a standalone run (``mode="disabled"``: nothing recorded).
    ``name``, ``tags``, ``notes``, ``group`` and ``job_type`` are recorded with the run; other
    W&B keyword arguments (``reinit``, ``settings``...) are accepted.

    >>> with init(config={"lr": 0.1}, mode="disabled") as run:
    ...     run.log({"loss": 0.5})
    >>> run.config.lr, run.summary["loss"], run.state
    (0.1, 0.5, 'finished')
    """
    resume = resumes_agent_run(ignored)
    unrecorded = {k: v for k, v in ignored.items() if not (resume and k in ("id", "resume"))}
    if unrecorded:  # issue 12: W&B keywords sweepnb does not record say so, once each
        hooks.ignored_init_keywords(unrecorded)
    run = current()
    if run is None:
        run = run_from_env(resume=resume) or standalone_run(config, project, entity, mode, store)
    if project is not None and run.project is None:
        run.project = project
    if entity is not None and run.entity is None:
        run.entity = entity
    for key in INFO_KEYS:
        if ignored.get(key) is not None:
            setattr(run, key, ignored[key])
    run._apply_defaults(config)
    activate(run)
    return run
