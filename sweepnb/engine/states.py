"""Run states and run-record limits shared by the store, the runtime and the front ends.

Kept apart from the store so a notebook or the CLI can name them without loading SQLAlchemy.
"""

from __future__ import annotations

# stopped: early-terminated (the stopping rule, a sweep stop/cancel); killed: ended by the user
# (Ctrl-C, a kernel interrupt, SIGTERM to the agent), W&B's state of the same name, which
# ``--retry-failed`` runs again (a partial result is not the point's result)
RUN_STATES = ("running", "finished", "failed", "crashed", "stopped", "killed")
TERMINAL_RUN_STATES = ("finished", "failed", "crashed", "stopped", "killed")
# a failed run keeps only the end of its traceback: the store's column and the runtime agree
MAX_ERROR_CHARS = 20_000
