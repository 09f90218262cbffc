"""Small helpers several test modules share (imported as ``helpers``: pytest puts this folder on
``sys.path`` with the conftest next to it)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120.0  # seconds before a wait for a state of the store gives up (2 shared cores)


def grid(n: int, **extra: Any) -> dict:
    """A grid sweep over ``x`` in 0..n-1 with the metric ``loss``, plus ``extra`` keys."""
    return {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": list(range(n))}},
        **extra,
    }


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def checkout_pythonpath() -> str:
    """``PYTHONPATH`` for a kernel or subprocess that must import this checkout's sweepnb."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
