"""Run states and run-record limits shared by the store, the runtime and the front ends.

Kept apart from the store so a notebook or the CLI can name them without loading SQLAlchemy.
"""

from __future__ import annotations

RUN_STATES = ("running", "finished", "failed", "crashed", "stopped")
TERMINAL_RUN_STATES = ("finished", "failed", "crashed", "stopped")
# a failed run keeps only the end of its traceback: the store's column and the runtime agree
MAX_ERROR_CHARS = 20_000
