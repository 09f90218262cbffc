"""The notebook front end: `%sweep`/`%agent` magics, the config form and the live dashboard.

`%load_ext sweepnb` registers the magics (`sweepnb.notebook.magics`); `SweepBuilder` is the form
`%sweep` opens (`sweepnb.notebook.builder`); `Dashboard`/`dashboard` are the live view
(`sweepnb.notebook.dashboard`). Names are imported on first use, so `import sweepnb` does not
import IPython or ipywidgets.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "SweepMagics": "sweepnb.notebook.magics",
    "AgentHandle": "sweepnb.notebook.magics",
    "SweepBuilder": "sweepnb.notebook.builder",
    "Dashboard": "sweepnb.notebook.dashboard",
    "dashboard": "sweepnb.notebook.dashboard",
}

__all__ = ["AgentHandle", "Dashboard", "SweepBuilder", "SweepMagics", "dashboard"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sweepnb.notebook' has no attribute {name!r}")
