"""How a run ends: the store's control reply (stop flag, sweep state) taken into a run or a
program run's watcher, and the final state and error of a stop request or a ``sys.exit``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def apply_control(target: Any, control: Mapping | None) -> None:
    """Take the store's control reply (from log or heartbeat) into ``target``'s ``sweep_state``
    and ``stop_reason`` (a run here, a program run's watcher in the agent)."""
    if not control:
        return
    target.sweep_state = control.get("sweep_state", target.sweep_state)
    if control.get("stop"):
        target.stop_reason = control.get("reason") or "stop requested"
    elif target.sweep_state == "cancelled":
        target.stop_reason = {"rule": "cancel", "message": "the sweep was cancelled"}


USER_STOP_RULES = ("interrupt",)  # stop reasons that come from the user, not the sweep


def stopped_state(reason: Any) -> str:
    """The final state of a run ended on request: ``killed`` when the user asked (a notebook
    interrupt's ``{"rule": "interrupt"}``), else ``stopped`` (early termination, sweep stop).

    >>> stopped_state({"rule": "interrupt"}), stopped_state({"rule": "hyperband"})
    ('killed', 'stopped')
    """
    rule = reason.get("rule") if isinstance(reason, Mapping) else None
    return "killed" if rule in USER_STOP_RULES else "stopped"


def exit_outcome(code: Any) -> tuple[str, str | None]:
    """The state and error of a run whose code called ``sys.exit(code)``: 0 or None finish,
    anything else fails with ``SystemExit: code`` (a Python exit status, as W&B's agent reads).

    >>> exit_outcome(0), exit_outcome(None), exit_outcome(2)
    (('finished', None), ('finished', None), ('failed', 'SystemExit: 2'))
    """
    if code is None or code == 0:
        return "finished", None
    return "failed", f"SystemExit: {code}"


def reason_text(reason: Any) -> str:
    """A stop reason (a rule's dict or a string) as one line for messages and errors."""
    if isinstance(reason, Mapping):
        return str(reason.get("message") or reason.get("rule") or reason)
    return str(reason)
