"""A sweep's program run by an agent: a subprocess per run, its output copied, its end judged.

The agent (``sweepnb.runtime.agent``) builds the command line, starts a :class:`ProgramRun`,
polls the run's stop flag into a :class:`RunControl` and records :func:`program_outcome`.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from sweepnb.errors import SweepnbError
from sweepnb.runtime import run as runmod

OUTPUT_TAIL = 200  # lines of a program's output kept with its run
LEFTOVER_GRACE = 1.0  # seconds the processes a program left behind get between SIGTERM and SIGKILL
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def check_program(sweep: dict) -> None:
    """Without a function the sweep needs a program that exists (checked before any claim)."""
    cfg = sweep["config"]
    program = cfg.get("program")
    uses_program = any("${program}" in str(part) for part in (cfg.get("command") or ["${program}"]))
    if uses_program and not program:
        raise SweepnbError(
            f"sweep {sweep['id']} has no 'program' to run: give the agent a "
            "function, or set 'program' in the config"
        )
    if uses_program and not os.path.exists(program):
        raise SweepnbError(f"program not found: {program!r} (relative to {os.getcwd()})")


def json_dir() -> str:
    """Where ``${args_json_file}`` files go (``<dir>/sweep-<id>/config-<run>.json``)."""
    return os.path.join(os.getcwd(), ".sweepnb")


class RunControl:
    """The latest stop flag / sweep state the store replied for a program run (the agent's
    side of a run that lives in another process)."""

    def __init__(self):
        self.stop_reason: Any = None
        self.sweep_state: str | None = None

    def update(self, control: dict | None) -> None:
        """Take a control reply from the store (log or heartbeat)."""
        runmod.apply_control(self, control)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the program get SIGKILL when the agent dies, whatever kills
    it (Linux's parent-death signal; None elsewhere). Set in the child between fork and exec;
    libc is loaded here, in the parent, so the child only makes one system call."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the agent died before the signal was armed
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class ProgramRun:
    """A program in its own session (no shell), its output copied through and its tail kept.

    The agent owns the run's whole process tree: the program dies with the agent (SIGKILL
    included, Linux), and whatever it left running in its process group is ended with the run.
    """

    def __init__(self, argv: list[str], env: dict[str, str], kill_delay: float):
        self.kill_delay = kill_delay
        self.signalled = False
        self.tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL)
        self.proc = subprocess.Popen(  # an argv list from the config, never a shell
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # safe with threads: the function takes no lock and imports nothing (see above)
            preexec_fn=_die_with_parent(),  # noqa: PLW1509
        )
        self.readers = [
            threading.Thread(
                target=self._copy, args=(self.proc.stdout, sys.stdout, False), daemon=True
            ),
            threading.Thread(
                target=self._copy, args=(self.proc.stderr, sys.stderr, True), daemon=True
            ),
        ]
        for reader in self.readers:
            reader.start()

    def _copy(self, pipe: Any, sink: Any, keep: bool) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace")
            if keep:
                self.tail.append(line)
            try:
                sink.write(line)
                sink.flush()
            except (OSError, ValueError):  # the terminal/notebook stream went away
                pass
        pipe.close()

    def wait(self, control: RunControl, on_tick: Callable[[], None]) -> int:
        """Wait for the program; end it once the store says the run must stop."""
        while True:
            try:
                return self._finish(self.proc.wait(timeout=0.2))
            except subprocess.TimeoutExpired:
                pass
            on_tick()
            if control.stop_reason is not None and not self.signalled:
                return self._finish(self.terminate())

    def terminate(self) -> int:
        """SIGTERM the program's process group, SIGKILL it after ``kill_delay`` seconds (or at
        once on a second Ctrl-C)."""
        self.signalled = True
        self._signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=self.kill_delay)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            return self.proc.wait()
        except KeyboardInterrupt:
            self._signal(signal.SIGKILL)
            self.proc.wait()
            raise

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _finish(self, code: int) -> int:
        """The program ended: end what it left in its process group (a background child would
        hold its output pipes open and outlive the run), then collect the last output."""
        self._join_readers(0.2)
        if any(reader.is_alive() for reader in self.readers) or self._group_alive():
            self._signal(signal.SIGTERM)
            self._join_readers(LEFTOVER_GRACE)
            self._signal(signal.SIGKILL)
            self._join_readers(5)
        return code

    def _join_readers(self, timeout: float) -> None:
        for reader in self.readers:
            reader.join(timeout=timeout)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def error_tail(self) -> str:
        """The program's last ``OUTPUT_TAIL`` lines of stderr."""
        return "".join(self.tail)


def program_outcome(
    code: int, program: ProgramRun, control: RunControl, store: Any, run_id: str
) -> tuple[str, str | None]:
    """Final state of a program run from its exit code (reference §6: only code > 0 fails)."""
    if code == 0 and control.stop_reason is None:  # a program may poll should_stop and exit 0
        return "finished", None
    if control.stop_reason is None and not program.signalled:
        control.update(store.heartbeat(run_id))  # did the sweep end it (child raised RunStopped)?
    if control.stop_reason is not None or program.signalled:
        why = runmod.reason_text(control.stop_reason or "stopped by the agent")
        state = runmod.stopped_state(control.stop_reason)
        return state, f"stopped: {why} (exit code {code})\n{program.error_tail()}"
    if code > 0:
        return "failed", f"exit code {code}\n{program.error_tail()}"
    name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
    return "crashed", f"killed by signal {name}\n{program.error_tail()}"
