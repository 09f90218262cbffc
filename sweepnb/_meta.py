"""The package's version and the table of its public names resolved on first use.

Below every layer, beside ``errors.py``: ``sweepnb/__init__.py`` resolves ``sweepnb.X`` from
:data:`LAZY_NAMES`, and the W&B surface (``compat``) reads the same table and version without
importing the package it is itself a part of.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public names and the module that defines each. Resolved on first use, so `import sweepnb`
# stays light and every layer can be imported on its own.
LAZY_NAMES: dict[str, str] = {
    "sweep": "sweepnb.api",
    "agent": "sweepnb.api",
    "runs": "sweepnb.api",
    "best_run": "sweepnb.api",
    "stop": "sweepnb.api",
    "cancel": "sweepnb.api",
    "pause": "sweepnb.api",
    "resume": "sweepnb.api",
    "init": "sweepnb.runtime.run_start",
    "log": "sweepnb.runtime.run",
    "finish": "sweepnb.runtime.run",
    "Run": "sweepnb.runtime.run",
    "summary": "sweepnb.runtime.run",
    "dashboard": "sweepnb.notebook.dashboard",
    "config": "sweepnb.runtime.run",
    "Store": "sweepnb.store",
    "Artifact": "sweepnb.compat.artifacts",
    "Api": "sweepnb.compat.api",
    "log_artifact": "sweepnb.compat.run_wandb",
    "define_metric": "sweepnb.compat.run_wandb",
    "use_artifact": "sweepnb.compat.run_wandb",
    "Table": "sweepnb.compat.media",
    "Image": "sweepnb.compat.media",
    "Histogram": "sweepnb.compat.media",
    "Html": "sweepnb.compat.media",
    "Audio": "sweepnb.compat.media",
    "Video": "sweepnb.compat.media",
    "media": "sweepnb.compat.media_files",
    "show_media": "sweepnb.compat.media_files",
}
