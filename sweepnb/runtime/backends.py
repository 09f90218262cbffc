"""Where parallel agents (``parallel.py``) run: the joblib backend and Dask client, the GPUs
each agent gets (``CUDA_VISIBLE_DEVICES``), and the failure policies through which a parent
tells its agents to stop (a stop file for local processes, a Dask event for a cluster's)."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sweepnb.errors import SweepnbError
from sweepnb.runtime.agent import FailurePolicy

STOP_EVENT_INTERVAL = 1.0  # seconds between two looks at the Dask stop event by an agent


@contextlib.contextmanager
def joblib_backend(backend: str | None, scheduler: str | None) -> Iterator[None]:
    """Within: joblib uses ``backend`` (a Dask client on ``scheduler`` for ``"dask"``)."""
    import joblib

    if backend is None and scheduler is None:
        yield
        return
    if scheduler is not None and backend not in (None, "dask"):
        raise SweepnbError(f"scheduler: only used with backend 'dask', not {backend!r}")
    if backend != "dask" and scheduler is None:
        try:
            config = joblib.parallel_config(backend=backend)
        except ValueError as err:
            raise SweepnbError(f"backend: {err}") from None
        with config:
            yield
        return
    with _dask_client(scheduler), joblib.parallel_config(backend="dask"):
        yield


@contextlib.contextmanager
def _dask_client(scheduler: str | None) -> Iterator[Any]:
    """A client on ``scheduler`` (closed afterwards), else the caller's current client."""
    try:
        import distributed
    except ImportError:  # pragma: no cover (a dependency of sweepnb)
        raise SweepnbError("backend 'dask' needs the 'distributed' package") from None
    if scheduler is None:
        try:
            yield distributed.get_client()
        except ValueError:
            raise SweepnbError(
                "backend 'dask' needs a scheduler: pass scheduler='tcp://HOST:8786' "
                "(--scheduler) or create a distributed.Client first"
            ) from None
        return
    try:
        client = distributed.Client(scheduler, timeout="10s", set_as_default=True)
    except OSError as err:
        raise SweepnbError(f"scheduler: cannot connect to {scheduler!r}: {err}") from None
    try:
        yield client
    finally:
        client.close()


def _effective_jobs(n_jobs: int) -> int:
    import joblib

    return joblib.effective_n_jobs(n_jobs) if n_jobs == -1 else n_jobs


def _on_dask() -> bool:
    from joblib.parallel import get_active_backend

    return type(get_active_backend()[0]).__name__ == "DaskDistributedBackend"


def _set_dask_event(name: str) -> None:
    import distributed

    try:
        distributed.Event(name).set()
    except Exception as err:  # noqa: BLE001 (Ctrl-C must still end the parent's wait)
        print(f"sweepnb: could not tell the Dask agents to stop: {err}", file=sys.stderr)


class StopFilePolicy(FailurePolicy):
    """W&B's failure policy, and: stop once the file ``path`` exists (the parent creates it on a
    first Ctrl-C: the running run finishes, no new one starts)."""

    def __init__(self, path: str, **kw: Any):
        super().__init__(**kw)
        self.path = path

    def record(self, failed: bool) -> str | None:
        why = super().record(failed)
        if why is None and os.path.exists(self.path):
            return "interrupted (Ctrl-C): the running run finished"
        return why


class StopEventPolicy(FailurePolicy):
    """W&B's failure policy, and: stop once the parent set the Dask event ``name`` (after
    Ctrl-C; the parent has already ended the agents' running runs ``stopped``)."""

    def __init__(self, name: str, interval: float = STOP_EVENT_INTERVAL, **kw: Any):
        super().__init__(**kw)
        self.name, self.interval = name, interval
        self._last_check = -math.inf

    def record(self, failed: bool) -> str | None:
        why = super().record(failed)
        if why is None and self._is_time() and _dask_event_is_set(self.name):
            return "the agents were interrupted (Ctrl-C in the process that started them)"
        return why

    def _is_time(self) -> bool:
        """At most one round trip to the scheduler per ``interval`` seconds."""
        now = time.monotonic()
        if now - self._last_check < self.interval:
            return False
        self._last_check = now
        return True


def _dask_event_is_set(name: str) -> bool:
    import distributed

    try:
        return distributed.Event(name).is_set()
    except Exception:  # noqa: BLE001 (no scheduler reachable: nothing told us to stop)
        return False


def _check_process_backend() -> None:
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if getattr(backend, "uses_threads", False):
        raise SweepnbError(
            "gpus: the agents run in threads of one process, which share CUDA_VISIBLE_DEVICES; "
            "use a process backend (loky, the default, or dask)"
        )


def parse_gpus(gpus: str | int | Sequence[Any] | None) -> list[str]:
    """GPU ids for ``CUDA_VISIBLE_DEVICES``, one per agent, from ``"0,1"`` or ``[0, 1]``.

    An entry may list several devices for one agent with ``+``: ``"0+1,2+3"``.

    >>> parse_gpus("0,1"), parse_gpus([2, 3]), parse_gpus("0+1,2+3"), parse_gpus(None)
    (['0', '1'], ['2', '3'], ['0,1', '2,3'], [])
    """
    if gpus is None:
        return []
    if isinstance(gpus, int) and not isinstance(gpus, bool):
        gpus = [gpus]
    items = gpus.split(",") if isinstance(gpus, str) else list(gpus)
    parsed = []
    for item in items:
        text = str(item).strip()
        devices = [d.strip() for d in text.split("+")]
        if isinstance(item, bool) or not all(d and d.replace("-", "").isalnum() for d in devices):
            raise SweepnbError(
                f"gpus: expected GPU ids like '0,1' (or '0+1,2+3' for several per agent), "
                f"got {gpus!r}"
            )
        parsed.append(",".join(devices))
    if not parsed:
        raise SweepnbError(f"gpus: no GPU id given in {gpus!r}")
    return parsed


@contextlib.contextmanager
def gpu_env(gpu: str | None) -> Iterator[None]:
    """Within: ``CUDA_VISIBLE_DEVICES=gpu`` (restored after; nothing changes for None)."""
    if gpu is None:
        yield
        return
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = before
