"""The agent loop: claim a run from the store, execute it, record how it ended, repeat.

One agent runs one run at a time (W&B's agents do too); ``sweepnb.agent(..., n_jobs=N)`` starts
N of these loops (``sweepnb.runtime.parallel``). There is no controller: each claim asks the search engine
for the next config inside one store transaction, and every agent checks the early-termination
rule for the whole sweep as its runs log.

The agent ends when ``count`` runs are done, the sweep is no longer ``running`` (finished, paused,
cancelled), the search has nothing left (the sweep is then marked ``finished``), Ctrl-C, or W&B's
failure policy trips (reference §6): 3 failed runs in the agent's first 60 s, or 5 failed runs
before 2 runs ended without failing.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from sweepnb.engine import search
from sweepnb.errors import RunStopped, SweepnbError
from sweepnb.ids import parse_sweep_id
from sweepnb.runtime import run as runmod
from sweepnb.runtime import termination
from sweepnb.runtime.heartbeat import HEARTBEAT_INTERVAL, Heartbeat
from sweepnb.runtime.policy import AgentResult, FailurePolicy  # importable from here as before
from sweepnb.runtime.program import ProgramRun, RunControl, check_program, json_dir, program_outcome

KILL_DELAY = 30.0  # seconds between SIGTERM and SIGKILL for a program run (W&B's KILL_DELAY)
REAP_INTERVAL = 5.0  # seconds between two reaps of dead runs by one agent
FAILED_STATES = ("failed",)
# runs whose grid point ``retry_failed`` runs again: killed ones (Ctrl-C) left a partial result
RETRIED_STATES = ("failed", "crashed", "killed")


def run_agent(
    sweep_id: str,
    function: Callable | None = None,
    count: int | None = None,
    store: Any = None,
    *,
    kill_delay: float | None = None,
    heartbeat: float = HEARTBEAT_INTERVAL,
    quiet: bool = False,
    agent_name: str | None = None,
    policy: FailurePolicy | None = None,
    progress: bool | None = None,
    retry_failed: bool | float = False,
    wandb: str | None = None,
    **ignored: Any,
) -> AgentResult:
    """Run sweep ``sweep_id`` in this process, one run at a time; return what was done.

    ``function`` (no argument, or one: the run's config) is called for each run; without it the
    sweep's ``program`` runs through its ``command`` in a subprocess. ``count`` caps the runs of
    this agent. ``kill_delay``: seconds between SIGTERM and SIGKILL when a program run must end
    (default: env ``SWEEPNB_AGENT_KILL_DELAY`` or ``WANDB_AGENT_KILL_DELAY``, else 30).
    ``retry_failed``: runs that failed, crashed or were killed (Ctrl-C) before the agent started (or before that epoch
    time, when a number) no longer cover their config, so a grid runs those points again (a
    finished sweep is reopened for them). W&B keywords (``project``, ``entity``) are accepted
    and ignored. ``wandb``: "sweepnb" or "real", the ``wandb`` program runs import.

    >>> result = run_agent(sweep_id, train, count=5)      # doctest: +SKIP
    """
    agent = _Agent(
        sweep_id,
        function,
        _open_store(store),
        kill_delay=_kill_delay() if kill_delay is None else kill_delay,
        heartbeat=heartbeat,
        quiet=quiet,
        name=agent_name,
        policy=policy or FailurePolicy(),
        retry_before=_retry_cutoff(retry_failed),
    )
    from sweepnb.runtime import hooks  # issue 12: the program runs' wandb

    with hooks.program_choice(wandb):
        return agent.loop(count, progress=progress)


def _retry_cutoff(retry_failed: bool | float) -> float | None:
    """``retry_failed`` as the time before which failed/crashed runs are retried, or None."""
    if retry_failed is True:
        return time.time()
    if retry_failed is False or retry_failed is None:
        return None
    if isinstance(retry_failed, (int, float)):
        return float(retry_failed)
    raise SweepnbError(f"retry_failed: expected True/False or an epoch time, got {retry_failed!r}")


def covers(run: dict, before: float | None) -> bool:
    """Whether the run covers its config: every run does, except (with ``retry_failed``) one that
    failed, crashed or was killed before ``before``. A retried point that fails again then covers
    it (no loop)."""
    return before is None or not (
        run["state"] in RETRIED_STATES and (run.get("created") or 0) < before
    )


def _kill_delay() -> float:
    env = os.environ
    text = env.get("SWEEPNB_AGENT_KILL_DELAY") or env.get("WANDB_AGENT_KILL_DELAY")
    try:
        return float(text) if text else KILL_DELAY
    except ValueError:
        raise SweepnbError(f"SWEEPNB_AGENT_KILL_DELAY: expected seconds, got {text!r}") from None


def _open_store(store: Any) -> Any:
    from sweepnb.store import open_store

    return open_store(store)


class _Agent:
    def __init__(
        self,
        sweep_id: str,
        function: Callable | None,
        store: Any,
        *,
        kill_delay: float,
        heartbeat: float,
        quiet: bool,
        name: str | None,
        policy: FailurePolicy,
        retry_before: float | None = None,
    ):
        self.sweep_id = parse_sweep_id(sweep_id)
        self.retry_before = retry_before
        self.function = function
        self.store = store
        self.kill_delay = kill_delay
        self.heartbeat = heartbeat
        self.quiet = quiet
        self.host = socket.gethostname()
        self.name = name or f"{self.host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.policy = policy
        self.result = AgentResult(self.sweep_id)
        self.exhausted = False
        self.best: float | None = None
        sweep = store.get_sweep(self.sweep_id)  # SweepNotFound before anything is written
        self.sweep = sweep  # as of the last claim (propose sees the fresh row)
        self.beat = Heartbeat(store, heartbeat)
        self._last_reap = -math.inf
        self._suggester: Any = None  # engine.Suggester, kept between claims
        self._suggester_config: dict | None = None
        self._changes_token: Any = None
        self.monitor = termination.Monitor(
            store, self.sweep_id, sweep["config"], interval=termination.CHECK_INTERVAL
        )
        if function is None:
            check_program(sweep)
        if retry_before is not None and sweep["state"] == "finished":
            self._reopen_for_retry()

    def _reopen_for_retry(self) -> None:
        """A finished sweep with runs to retry is set running again (the user asked for it)."""
        runs = self.store.get_runs(self.sweep_id, history=False)
        if not all(covers(run, self.retry_before) for run in runs):
            self.store.set_sweep_state(self.sweep_id, "running")
            self._say(f"sweep {self.sweep_id} running again to retry its failed/crashed runs")

    # -- main loop -----------------------------------------------------------------------------

    def loop(self, count: int | None, progress: bool | None = None) -> AgentResult:
        if count is not None and count < 0:
            raise SweepnbError(f"count must be >= 0, got {count}")
        bar = _progress_bar(count, progress)
        current = None
        self.beat.start()
        try:
            while True:
                if count is not None and len(self.result.runs) >= count:
                    self.result.reason = f"count {count} reached"
                    break
                run = self._claim()
                if run is None:
                    break
                current = run["id"]
                self.result.runs[current] = "running"
                state = self._execute(run)
                self.result.runs[current], current = state, None
                if bar is not None:
                    self._advance(bar, current_run=run)
                why = self.policy.record(state in FAILED_STATES)
                if why:
                    self.result.reason = why
                    self.result.gave_up = self.policy.gave_up(why)
                    break
        except KeyboardInterrupt:
            self.result.reason = "interrupted (Ctrl-C)"
            if current is not None:
                self.result.runs[current] = self._stop_interrupted(current)
        finally:
            self.beat.stop()
            if bar is not None:
                bar.close()
        self._say(f"agent {self.name} stopped: {self.result.reason}")
        return self.result

    def _advance(self, bar: Any, current_run: dict) -> None:
        """One more run on the progress bar, with the best metric value seen by this agent."""
        bar.update(1)
        from sweepnb.engine.metric import Metric

        metric = Metric.of(self.sweep["config"])
        if metric is None:
            return
        self.best = metric.best_of([self.best, metric.value(self.store.get_run(current_run["id"]))])
        if self.best is not None:
            bar.set_postfix({f"best {metric.name}": f"{self.best:.4g}"})

    def _stop_interrupted(self, run_id: str) -> str:
        """After Ctrl-C: the interrupted run ends ``killed`` (unless it already ended)."""
        state = self.store.get_run(run_id, history=False)["state"]
        if state == "running":
            self.store.finish_run(
                run_id, "killed", error="KeyboardInterrupt: the agent was interrupted"
            )
            state = "killed"
        return state

    def _claim(self) -> dict | None:
        """Claim the next run, or None after setting ``result.reason``."""
        if time.monotonic() - self._last_reap >= REAP_INTERVAL:
            self.store.reap(self.sweep_id, dead_pids_on=self.host)
            self._last_reap = time.monotonic()
        self.exhausted = False
        run = self.store.claim_run(
            self.sweep_id,
            self._propose,
            host=self.host,
            pid=os.getpid(),
            agent=self.name,
            history=_needs_history(self.sweep["config"]),
            incremental=True,
        )
        if run is not None:
            return run
        state = self.store.get_sweep(self.sweep_id)["state"]
        if self.exhausted and state == "running":
            self.store.set_sweep_state(self.sweep_id, "finished")
            self.result.reason = "the search has no more runs to propose; sweep finished"
        elif self.exhausted:
            self.result.reason = "the search has no more runs to propose"
        else:
            self.result.reason = f"sweep is {state}"
        return None

    def _propose(self, sweep: dict, changes: Callable) -> dict | None:
        self.sweep = sweep
        suggestions = self._suggester_for(sweep, changes).suggest(n=1)
        if not suggestions:
            self.exhausted = True
            return None
        return suggestions[0]

    def _suggester_for(self, sweep: dict, changes: Callable) -> Any:
        """This agent's ``engine.Suggester`` of the sweep, brought up to date with the runs that
        changed since its last claim (``changes``: ``Store.claim_run(incremental=True)``); a new
        one when the sweep's config changed (``sweepnb sweep --update``)."""
        from sweepnb import engine

        if self._suggester is None or self._suggester_config != sweep["config"]:
            cover = functools.partial(covers, before=self.retry_before)
            self._suggester = engine.Suggester(sweep["config"], covers=cover)
            self._suggester_config, self._changes_token = sweep["config"], None
        got = changes(self._changes_token)
        if got.reset:
            self._suggester.reset(got.runs)
        else:
            self._suggester.apply(got.changed, got.removed)
        self._changes_token = got.token
        return self._suggester

    def _execute(self, run: dict) -> str:
        """Execute one claimed run and record its final state; return that state."""
        sweep = self.sweep
        self._say(f"run {run['id']} started: {_short(run['config'])}")
        if self.function is not None:
            state = self._call_function(run, sweep)
        else:
            state = self._run_program(run, sweep)
        self._say(f"run {run['id']} {state}")
        return state

    # -- function runs -------------------------------------------------------------------------

    def _call_function(self, record: dict, sweep: dict) -> str:
        from sweepnb.runtime.run_start import AgentFunctionRun, calling_function_for

        cfg = sweep["config"]
        run = AgentFunctionRun(  # issue 24: finish() then init() in the function: the same run
            store=self.store,
            run_id=record["id"],
            sweep_id=self.sweep_id,
            config=record["config"],
            metric=cfg.get("metric"),
            project=sweep.get("project"),
            entity=sweep.get("entity"),
        )
        self.monitor.watch(run)  # early termination (sweepnb.runtime.termination); no-op without it
        runmod.activate(run)
        calling_function_for(run)
        run.attach_heartbeat(self.beat)
        try:
            _call(self.function, run.config)
        except RunStopped as stop:
            run.end(runmod.stopped_state(run.stop_reason), error=f"RunStopped: {stop.reason}")
        except KeyboardInterrupt:
            run.end("killed", error="KeyboardInterrupt: the agent was interrupted")
            raise
        except SystemExit as exit_:  # W&B's agent carries on with the next run
            run.end(*runmod.exit_outcome(exit_.code))
        except Exception as exc:  # noqa: BLE001 (any error of the user's function fails the run)
            text = traceback.format_exc()
            self._say(f"run {record['id']} errored: {type(exc).__name__}: {exc}\n{text}")
            run.end("failed", error=text)
        finally:
            # no-op when already ended
            run.end(runmod.stopped_state(run.stop_reason) if run.should_stop else "finished")
            runmod.deactivate()
            calling_function_for(None)
        return run.state

    # -- program runs --------------------------------------------------------------------------

    def _run_program(self, record: dict, sweep: dict) -> str:
        from sweepnb.runtime import command

        cfg = sweep["config"]
        argv = command.build_command(
            cfg.get("command"),
            program=cfg.get("program"),
            params=record["config"],
            sweep_id=self.sweep_id,
            run_id=record["id"],
            json_file_dir=json_dir(),
        )
        env = command.run_env(
            None,
            sweep_id=self.sweep_id,
            run_id=record["id"],
            store_url=self.store.url,
            project=sweep.get("project") or cfg.get("project"),
            entity=sweep.get("entity") or cfg.get("entity"),
        )
        program = ProgramRun(argv, env, self.kill_delay)
        control = RunControl()
        self.beat.watch(record["id"], control.update)
        try:
            code = program.wait(control, on_tick=lambda: self._program_tick(record, control))
        except KeyboardInterrupt:
            try:
                program.terminate()
            finally:  # even when a second Ctrl-C cut the grace period short
                self.store.finish_run(
                    record["id"], "killed", error="KeyboardInterrupt: the agent was interrupted"
                )
            raise
        finally:
            self.beat.unwatch(record["id"])
        state, error = program_outcome(code, program, control, self.store, record["id"])
        self.store.finish_run(record["id"], state, error=error)
        return state

    def _program_tick(self, record: dict, control: RunControl) -> None:
        """While a program runs, at the monitor's pace: the stopping rule and the run's flag."""
        if self.monitor.due():
            if self.monitor.on_time:  # with a seed the program's own process judges its bands
                self.monitor.check(force=True)
            control.update(self.store.heartbeat(record["id"]))

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"sweepnb: {text}", file=sys.stderr, flush=True)


def _needs_history(cfg: dict) -> bool:
    """Whether the search reads the runs' history: bayes does (best values), and so does the
    ``metric.target`` check; grid and random need only configs and states (cheaper claims)."""
    method = cfg.get("method")
    free = method in search.METHODS and not search.describe(method).needs_history  # loaded: a str
    return not free or "target" in (cfg.get("metric") or {})


def _call(function: Callable, config: runmod.Config) -> Any:
    """Call ``function()`` or ``function(config)`` when it has a required parameter."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins, some C callables: W&B calls them bare
        return function()
    required = [
        p
        for p in params
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return function(config) if required else function()


def _short(config: dict, limit: int = 120) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _progress_bar(count: int | None, progress: bool | None) -> Any:
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=count, desc="sweepnb runs", unit="run", file=sys.stderr)
