"""What an agent reports (``AgentResult``) and when it gives up (``FailurePolicy``, W&B's agent
failure policy); ``agent.py`` runs the loop and re-exports both."""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class AgentResult:
    """What an agent did: the runs it executed (id -> final state) and why it stopped.

    ``gave_up``: the failure policy stopped the agent (the CLI then exits non-zero)."""

    sweep_id: str
    runs: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    gave_up: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Number of runs per final state."""
        return dict(collections.Counter(self.runs.values()))

    def merge(self, other: AgentResult) -> AgentResult:
        """This result and ``other`` (another agent on the same sweep) as one."""
        reasons = [r for r in (self.reason, other.reason) if r]
        return AgentResult(
            self.sweep_id,
            {**self.runs, **other.runs},
            "; ".join(dict.fromkeys(reasons)),
            self.gave_up or other.gave_up,
        )

    def __repr__(self) -> str:
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items())) or "no runs"
        gave_up = "; gave up" if self.gave_up else ""
        return f"AgentResult(sweep {self.sweep_id!r}: {states}; ended: {self.reason}{gave_up})"


class FailurePolicy:
    """W&B's agent failure policy (reference §6), one instance per agent.

    ``record(failed)`` after each run returns the reason to shut the agent down, or None.
    Only ``failed`` runs count (an exception, or a program's exit code > 0).
    """

    def __init__(
        self,
        *,
        max_initial_failures: int | None = None,
        flapping_failures: int = 3,
        flapping_seconds: float = 60.0,
        disable_flapping: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        env = os.environ
        if max_initial_failures is None:
            max_initial_failures = int(
                env.get("SWEEPNB_AGENT_MAX_INITIAL_FAILURES")
                or env.get("WANDB_AGENT_MAX_INITIAL_FAILURES")
                or 5
            )
        if disable_flapping is None:
            flag = env.get("SWEEPNB_AGENT_DISABLE_FLAPPING") or env.get(
                "WANDB_AGENT_DISABLE_FLAPPING"
            )
            disable_flapping = (flag or "").lower() in ("1", "true", "yes")
        self.max_initial_failures = max_initial_failures
        self.flapping_failures = flapping_failures
        self.flapping_seconds = flapping_seconds
        self.disable_flapping = disable_flapping
        self.clock = clock
        self.started = clock()
        self.failures = 0
        self.completed = 0  # runs ended so far, failed or not

    def record(self, failed: bool) -> str | None:
        """Count one ended run; the reason to stop the agent, or None to go on."""
        before = self.completed
        self.completed += 1
        if not failed:
            return None
        self.failures += 1
        elapsed = self.clock() - self.started
        if (
            not self.disable_flapping
            and self.failures >= self.flapping_failures
            and elapsed < self.flapping_seconds
        ):
            return (
                f"detected {self.failures} failed runs in the first "
                f"{self.flapping_seconds:g} seconds, shutting down"
            )
        # W&B: failures >= max AND failures >= runs completed before this one, which holds
        # only while at most one run has ended without failing
        if self.failures >= self.max_initial_failures and self.failures >= before:
            return f"detected {self.failures} failed runs in a row, shutting down"
        return None

    def gave_up(self, reason: str) -> bool:
        """Whether ``reason`` (from :meth:`record`) is a failure shutdown, not a plain stop."""
        return reason.startswith("detected ")


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------
