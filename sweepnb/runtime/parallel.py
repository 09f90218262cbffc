"""Several agents at once: ``sweepnb.agent(sweep_id, train, n_jobs=N)``.

Each job is an ordinary single-process agent loop (``sweepnb.runtime.agent.run_agent``); the store
coordinates them, so nothing here is shared but the sweep id and the store URL. Jobs go through
joblib, whose backend the caller chooses (``with joblib.parallel_config(backend=...)``, or
``backend=``; loky processes by default). ``backend="dask"`` with ``scheduler="tcp://host:8786"``
(or under an existing ``distributed.Client``) runs the agents on a Dask cluster. The function
travels by cloudpickle, so one defined in a notebook cell works in a worker process.

Fault tolerance: with a process backend (loky, the default) each agent has a worker process of its
own (a single-worker loky executor, kept between calls). When one dies (SIGKILL, out of memory, a
segfault) only its run is recorded ``crashed`` and only that agent starts again for its remaining
runs; the other agents' runs go on. Each agent knows by its name how many runs it already did,
so ``count`` still holds. Dask reschedules an agent whose worker died the same way. Workers
ignore SIGINT: a first Ctrl-C in the parent lets the running runs finish and starts no new one,
a second records them ``killed`` and ends the workers.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sweepnb.errors import SweepnbError
from sweepnb.ids import parse_sweep_id
from sweepnb.runtime.agent import AgentResult, run_agent
from sweepnb.runtime.backends import (  # the joblib/Dask seam; names kept importable from here
    StopEventPolicy,
    StopFilePolicy,
    _check_process_backend,
    _effective_jobs,
    _on_dask,
    _set_dask_event,
    gpu_env,
    joblib_backend,
    parse_gpus,
)

if TYPE_CHECKING:
    from sweepnb.store import Store

MAX_BARREN_RESTARTS = 3  # worker deaths in a row with no run ending in between, then give up
ENDED_NORMALLY = ("finished", "failed", "stopped", "killed")  # ended on its own (not crashed)
WORKER_IDLE_TIMEOUT = 300  # seconds an idle agent process waits for the next call (joblib's)


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


@dataclass(frozen=True)
class AgentPlan:
    """One parallel agent: its name (``<group>-<i>``), its share of ``count``, its GPU(s), and
    the Dask event that tells it to stop (a task running on a cluster cannot be interrupted)."""

    name: str
    count: int | None
    gpu: str | None = None
    stop_event: str | None = None


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


def plan_agents(
    group: str, count: int | None, n_jobs: int, gpus: list[str], stop_event: str | None = None
) -> list[AgentPlan]:
    """The agents of one call: agent ``i`` gets ``gpus[i % len(gpus)]``.

    >>> [(p.name, p.count, p.gpu) for p in plan_agents("g", 3, 2, ["0", "1"])]
    [('g-0', 2, '0'), ('g-1', 1, '1')]
    """
    return [
        AgentPlan(f"{group}-{i}", c, gpus[i % len(gpus)] if gpus else None, stop_event)
        for i, c in enumerate(split_count(count, n_jobs))
    ]


# ---------------------------------------------------------------------------------------------
# The parent: start the agents, restart them after a worker died
# ---------------------------------------------------------------------------------------------


def run_agents(
    sweep_id: str,
    function: Callable | None,
    count: int | None,
    *,
    n_jobs: int,
    store: Any,
    backend: str | None = None,
    scheduler: str | None = None,
    gpus: str | Sequence[Any] | None = None,
    **kw: Any,
) -> AgentResult:
    """Run ``n_jobs`` agents (-1: one per CPU or Dask worker thread); ``count`` is shared.

    ``backend``: a joblib backend name (``"loky"``, ``"threading"``, ``"dask"``...; default:
    whatever ``joblib.parallel_config`` says). ``scheduler``: a Dask scheduler address (implies
    ``backend="dask"``). ``gpus``: ``"0,1"`` gives agent ``i`` ``CUDA_VISIBLE_DEVICES=gpus[i %
    len(gpus)]`` (process backends only; with ``n_jobs=1``, one agent per GPU entry). Other
    keywords go to ``run_agent``. Returns what the agents did, read back from the store (so
    runs of restarted agents count too).
    """
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise SweepnbError(f"n_jobs: must be >= 1 or -1 (one agent per CPU), got {n_jobs!r}")
    sweep_id = parse_sweep_id(sweep_id)
    store.get_sweep(sweep_id)  # an unknown id fails here, not once per worker
    gpu_list = parse_gpus(gpus)
    if kw.get("retry_failed") is True:  # one cutoff for all agents: their own failures count
        kw["retry_failed"] = time.time()
    with joblib_backend(backend, scheduler):
        n_jobs = len(gpu_list) if n_jobs == 1 and gpu_list else _effective_jobs(n_jobs)
        if gpu_list and n_jobs > 1:
            _check_process_backend()
        group = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
        stop_event = f"sweepnb-stop-{group}" if _on_dask() else None
        plans = plan_agents(group, count, n_jobs, gpu_list, stop_event)
        stop_file = os.path.join(tempfile.gettempdir(), f"sweepnb-stop-{group}")
        try:
            reasons = _run_with_restarts(sweep_id, function, plans, store, kw, stop_file)
        except KeyboardInterrupt:
            if stop_event is not None:
                _set_dask_event(stop_event)
            stop_group_runs(store, sweep_id, group)
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(stop_file)
    return group_result(store, sweep_id, group, reasons)


def _run_with_restarts(
    sweep_id: str,
    function: Callable | None,
    plans: list[AgentPlan],
    store: Any,
    kw: dict,
    stop_file: str,
) -> list[str]:
    """Run the planned agents; a process backend (loky, the default) gives each agent a process
    of its own (``_run_isolated``), any other backend goes through ``joblib.Parallel``."""
    if _uses_processes():
        return _run_isolated(sweep_id, function, plans, store, kw, stop_file)
    return _run_joblib(sweep_id, function, plans, store, kw)


def _uses_processes() -> bool:
    """Whether joblib's active backend is a local process pool (loky or multiprocessing)."""
    from joblib.parallel import get_active_backend

    name = type(get_active_backend()[0]).__name__
    return name in ("LokyBackend", "MultiprocessingBackend")


def _run_joblib(
    sweep_id: str, function: Callable | None, plans: list[AgentPlan], store: Any, kw: dict
) -> list[str]:
    """Threads, Dask...: one ``joblib.Parallel`` call; a dead Dask worker's agents start again."""
    import joblib

    barren = 0
    while True:
        ended_before = _ended_count(store, sweep_id, plans)
        jobs = [
            joblib.delayed(_agent_job)(sweep_id, _CloudFunction(function), plan, store, kw)
            for plan in plans
        ]
        try:
            results = joblib.Parallel(n_jobs=len(jobs))(jobs)
            return [r.reason for r in results]
        except Exception as err:  # only a dead worker is retried, see below
            if not _worker_died(err):
                raise
            crashed = store.reap(sweep_id, dead_pids_on=socket.gethostname())
            barren = 0 if _ended_count(store, sweep_id, plans) > ended_before else barren + 1
            _say(kw, f"a worker died ({type(err).__name__}); runs crashed: {crashed or 'none'}")
            if barren >= MAX_BARREN_RESTARTS:
                return [f"workers died {barren} times in a row with no run ending; gave up"]
            _say(kw, "starting the agents again for the remaining runs")


# One single-worker loky executor per agent slot, kept between calls like joblib's reusable
# executor (process start and imports are paid once per session). A pool of N workers would
# not do: loky ends every worker of a pool when one dies, and with it the other agents' runs.
_slots: list[Any] = []
_slots_lock = threading.Lock()


def _slot_executor(i: int) -> Any:
    """Slot ``i``'s executor, a new one when it has none or its worker died."""
    from joblib.externals.loky import ProcessPoolExecutor

    with _slots_lock:
        while len(_slots) <= i:
            _slots.append(None)
        executor = _slots[i]
        broken = getattr(getattr(executor, "_flags", None), "broken", None)  # loky's flag
        if executor is None or broken is not None:
            executor = ProcessPoolExecutor(
                max_workers=1, timeout=WORKER_IDLE_TIMEOUT, initializer=_ignore_sigint
            )
            _slots[i] = executor
        return executor


@atexit.register
def _close_slots() -> None:
    """At interpreter exit: end the idle agent processes (before loky's own clean-up runs)."""
    _kill_slots(len(_slots))


def _kill_slots(n: int) -> None:
    """End the workers of the first ``n`` slots at once (a second Ctrl-C)."""
    with _slots_lock:
        for i in range(min(n, len(_slots))):
            if _slots[i] is not None:
                _slots[i].shutdown(wait=False, kill_workers=True)
                _slots[i] = None


def _ignore_sigint() -> None:
    """In a worker: Ctrl-C and a kernel interrupt reach the whole process group, but only the
    parent decides what they mean (first: finish the running runs; second: stop them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_isolated(
    sweep_id: str,
    function: Callable | None,
    plans: list[AgentPlan],
    store: Any,
    kw: dict,
    stop_file: str,
) -> list[str]:
    """Each agent in its own worker process; a worker that dies costs its own run only (crashed)
    and that agent alone starts again. Ctrl-C: see ``_Interrupts``."""
    agents = _IsolatedAgents(sweep_id, _CloudFunction(function), plans, store, kw, stop_file)
    interrupts = _Interrupts(store, sweep_id, plans, stop_file, kw)
    try:
        with interrupts.counted():
            agents.start()
            while agents.pending:
                done, _ = concurrent.futures.wait(
                    agents.pending, timeout=0.2, return_when=concurrent.futures.FIRST_COMPLETED
                )
                interrupts.handle()
                for future in done:
                    agents.collect(future)
    except BaseException:  # a second Ctrl-C, SIGTERM, an error here: leave no worker running
        _kill_slots(len(plans))
        raise
    if agents.error is not None:
        raise agents.error
    return agents.reasons


class _IsolatedAgents:
    """The jobs of ``_run_isolated``: agent ``i`` runs in slot ``i``'s worker process."""

    def __init__(self, sweep_id, function, plans, store, kw, stop_file):
        self.sweep_id, self.function, self.plans, self.store = sweep_id, function, plans, store
        self.kw, self.stop_file = {**kw, "stop_file": stop_file}, stop_file
        self.pending: dict[Any, int] = {}
        self.reasons = [""] * len(plans)
        self.barren = [0] * len(plans)  # worker deaths in a row with no run of its ending
        self.ended = [_ended_count(store, sweep_id, [plan]) for plan in plans]
        self.error: BaseException | None = None

    def start(self) -> None:
        for i in range(len(self.plans)):
            self.submit(i)

    def submit(self, i: int) -> None:
        args = (self.sweep_id, self.function, self.plans[i], self.store, self.kw)
        self.pending[_slot_executor(i).submit(_agent_job, *args)] = i

    def collect(self, future: Any) -> None:
        """Take an ended job: its result, an error (kept; the other agents stop after their
        running run), or a dead worker (its run is crashed and the agent starts again)."""
        i = self.pending.pop(future)
        try:
            self.reasons[i] = future.result().reason
            return
        except Exception as err:  # noqa: BLE001 (a dead worker restarts, others are raised)
            if not _worker_died(err):
                self.error = self.error or err
                _touch(self.stop_file)
                return
            died = err
        crashed = self.store.reap(self.sweep_id, dead_pids_on=socket.gethostname())
        name = self.plans[i].name
        _say(self.kw, f"agent {name}'s worker died ({type(died).__name__}); crashed: {crashed}")
        ended = _ended_count(self.store, self.sweep_id, [self.plans[i]])
        self.barren[i] = 0 if ended > self.ended[i] else self.barren[i] + 1
        self.ended[i] = ended
        if self.barren[i] >= MAX_BARREN_RESTARTS:
            self.reasons[i] = f"its worker died {self.barren[i]} times in a row; gave up"
        elif os.path.exists(self.stop_file):
            self.reasons[i] = "interrupted (Ctrl-C)"
        else:
            _say(self.kw, f"starting agent {name} again for its remaining runs")
            self.submit(i)


class _Interrupts:
    """Ctrl-C in the parent while isolated agents run (W&B's agent does the same): the first
    lets the running runs finish and no new run start; the second stops them now (recorded
    ``killed``), ends the workers and raises KeyboardInterrupt."""

    def __init__(self, store: Any, sweep_id: str, plans: list[AgentPlan], stop_file: str, kw):
        self.store, self.sweep_id, self.plans = store, sweep_id, plans
        self.stop_file, self.kw = stop_file, kw
        self.received = self.handled = 0

    @contextlib.contextmanager
    def counted(self) -> Iterator[None]:
        """Within (on the main thread): SIGINT is counted, not raised at a random point, so
        each one is handled whole by :meth:`handle`."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def count(_signum: int, _frame: Any) -> None:
            self.received += 1

        previous = signal.signal(signal.SIGINT, count)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def handle(self) -> None:
        """Act on the interrupts received since the last call."""
        while self.handled < self.received:
            self.handled += 1
            self._interrupt(self.handled)

    def _interrupt(self, number: int) -> None:
        _touch(self.stop_file)
        if number == 1:
            _say(
                self.kw,
                "interrupted: running runs finish, no new run starts "
                "(interrupt again to stop them now)",
            )
            return
        group = self.plans[0].name.rsplit("-", 1)[0]
        stop_group_runs(self.store, self.sweep_id, group)
        _kill_slots(len(self.plans))
        raise KeyboardInterrupt


def _touch(path: str) -> None:
    with open(path, "a"):
        pass


def _worker_died(err: BaseException) -> bool:
    """joblib/loky's TerminatedWorkerError (any broken pool) or Dask's KilledWorker."""
    from concurrent.futures import BrokenExecutor

    return isinstance(err, BrokenExecutor) or type(err).__name__ == "KilledWorker"


def _ended_count(store: Any, sweep_id: str, plans: list[AgentPlan]) -> int:
    names = {plan.name for plan in plans}
    return sum(
        1
        for run in store.get_runs(sweep_id, history=False)
        if run.get("agent") in names and run["state"] in ENDED_NORMALLY
    )


def _say(kw: dict, text: str) -> None:
    if not kw.get("quiet"):
        print(f"sweepnb: {text}", file=sys.stderr, flush=True)


def group_result(store: Any, sweep_id: str, group: str, reasons: list[str]) -> AgentResult:
    """The runs of the agents named ``<group>-<i>`` (from the store) and why they ended."""
    runs = {
        run["id"]: run["state"]
        for run in store.get_runs(sweep_id, history=False)
        if str(run.get("agent") or "").startswith(group + "-")
    }
    gave_up = any(r.startswith("detected ") or r.endswith("gave up") for r in reasons)
    return AgentResult(sweep_id, runs, "; ".join(dict.fromkeys(r for r in reasons if r)), gave_up)


def stop_group_runs(store: Any, sweep_id: str, group: str) -> list[str]:
    """After Ctrl-C: the runs our agents left ``running`` end ``killed`` (workers are gone)."""
    stopped = []
    for run in store.get_runs(sweep_id, history=False):
        if run["state"] == "running" and str(run.get("agent") or "").startswith(group + "-"):
            store.finish_run(
                run["id"], "killed", error="KeyboardInterrupt: the agents were interrupted"
            )
            stopped.append(run["id"])
    return stopped


# ---------------------------------------------------------------------------------------------
# One job, in a worker
# ---------------------------------------------------------------------------------------------


def _agent_job(
    sweep_id: str, function: _CloudFunction, plan: AgentPlan, shared: Store, kw: dict
) -> AgentResult:
    # The job gets the Store, not its URL: a task's arguments show up in Dask's dashboard and
    # logs, and a Store's repr masks the password. Each job opens its own connections (with the
    # threading backend the parent's Store object is shared, and this job closes what it opens).
    from sweepnb.store import Store

    store = Store(shared.url)
    count = plan.count
    if count is not None:  # a restarted agent does only what it has not done yet
        count = max(0, count - _runs_of(store, sweep_id, plan.name))
    if count == 0:
        store.close()
        return AgentResult(sweep_id, reason=f"count {plan.count} reached")
    stop_file = kw.get("stop_file")
    kw = {k: v for k, v in kw.items() if k != "stop_file"}
    if plan.stop_event is not None and kw.get("policy") is None:
        kw["policy"] = StopEventPolicy(plan.stop_event)
    elif stop_file is not None and kw.get("policy") is None:
        kw["policy"] = StopFilePolicy(stop_file)
    try:
        with gpu_env(plan.gpu):
            return run_agent(
                sweep_id, function.function, count, store=store, agent_name=plan.name, **kw
            )
    finally:
        store.close()  # workers live on (loky reuses them): leave no connection behind


def _runs_of(store: Any, sweep_id: str, agent: str) -> int:
    return sum(1 for run in store.get_runs(sweep_id, history=False) if run.get("agent") == agent)
