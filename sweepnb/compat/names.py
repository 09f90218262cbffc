"""The W&B top-level names and what sweepnb does for each: one table drives behaviour and README.

Each entry of ``NAMES`` is a kind and a one-line note:

- ``full``: W&B's behaviour, here (``init``, ``log``, ``sweep``, ``agent``...);
- ``offline``: an offline equivalent (media and artifacts are files beside the store, ``Api()``
  reads the store, ``alert`` prints);
- ``no-op``: accepted and does nothing, because it has no offline meaning (``login``); when
  a call drops data (``watch``, ``save``), it says so once per process on stderr;
- ``refused``: using the name raises :class:`NotSupported` naming it (an ``AttributeError``, so
  ``hasattr(wandb, "Molecule")`` is False).

Names outside the table are refused the same way, never with a bare ``AttributeError``.

>>> resolve("login")()
True
>>> resolve("Molecule")
Traceback (most recent call last):
...
sweepnb.compat.names.NotSupported: wandb.Molecule: sweepnb does not support it (3-D molecules ...
"""

from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import Any

from sweepnb._meta import LAZY_NAMES
from sweepnb.errors import SweepnbError

KINDS = ("full", "offline", "no-op", "refused")


@dataclass(frozen=True)
class Name:
    """One W&B name: its kind, a one-line note, and where sweepnb's object lives.

    ``target`` is ``"module:attribute"`` or ``"module"`` (a submodule such as ``wandb.plot``).
    """

    kind: str
    note: str
    target: str | None = None


_O = "sweepnb.compat.offline"
_MEDIA = "sweepnb.compat.media"
_ART = "sweepnb.compat.artifacts"
_RUN = "sweepnb.runtime.run"
_TORCH = "sweepnb.compat.integrations.torch"  # issue 24

# W&B client 0.31.0's `wandb.__all__` (shared/reference/wandb-api.md)
WANDB_ALL = [
    "Api",
    "ArtifactTTL",
    "Audio",
    "EvalTable",
    "Graph",
    "Histogram",
    "Html",
    "Image",
    "Molecule",
    "Object3D",
    "Plotly",
    "Run",
    "Table",
    "Video",
    "__version__",
    "agent",
    "box3d",
    "config",
    "controller",
    "define_metric",
    "finish",
    "init",
    "join",
    "link_model",
    "log",
    "log_artifact",
    "log_model",
    "plot_table",
    "save",
    "setup",
    "summary",
    "sweep",
    "unwatch",
    "use_artifact",
    "use_model",
    "watch",
]
# Used at top level by W&B code though not in `__all__` (same reference)
WANDB_EXTRA = [
    "login",
    "run",
    "Artifact",
    "plot",
    "sklearn",
    "keras",
    "integration",
    "errors",
    "util",
    "alert",
    "restore",
    "require",
    "Settings",
]

NAMES: dict[str, Name] = {
    # -- runs and sweeps
    "init": Name(
        "full",
        "starts or joins the run; `mode`, `reinit`, `settings`... accepted (said once if lost)",
        "sweepnb.runtime.run_start:",
    ),
    "log": Name("full", "history rows in the store", f"{_RUN}:log"),
    "finish": Name("full", "ends the active run (none active: nothing happens)", f"{_RUN}:finish"),
    "join": Name("full", "W&B's old alias of `finish`", f"{_RUN}:finish"),
    "config": Name("full", "the active run's config", f"{_RUN}:config"),
    "summary": Name("full", "the active run's summary", f"{_RUN}:summary"),
    "run": Name("full", "the active run, or None outside a run", None),
    "Run": Name("full", "sweepnb's Run", f"{_RUN}:Run"),
    "sweep": Name(
        "full", "`sweep(sweep=config, entity=, project=, prior_runs=)`", "sweepnb.api:sweep"
    ),
    "agent": Name(
        "full",
        "`agent(sweep_id, function=, entity=, project=, count=)`; `entity/project/id` ids",
        "sweepnb.api:agent",
    ),
    "define_metric": Name(
        "full",
        "`step_metric`, `summary`, `goal` shape the run's summary",
        "sweepnb.compat.run_wandb:define_metric",
    ),
    "__version__": Name("offline", "sweepnb's version", "sweepnb._meta:__version__"),
    # -- media and charts (files beside the store)
    "Table": Name("offline", "CSV + JSON files beside the store", f"{_MEDIA}:"),
    "Image": Name("offline", "PNG files beside the store", f"{_MEDIA}:"),
    "Histogram": Name("offline", "JSON files beside the store", f"{_MEDIA}:"),
    "Html": Name("offline", "HTML files beside the store", f"{_MEDIA}:"),
    "Audio": Name("offline", "the audio file, copied beside the store", f"{_MEDIA}:"),
    "Video": Name("offline", "the video file, copied beside the store", f"{_MEDIA}:"),
    "plot": Name("offline", "`plot.line`, `scatter`, `bar`... as CSV + PNG", "sweepnb.compat.plot"),
    "sklearn": Name("offline", "`plot_*` drawn with matplotlib, stored as PNG", "sweepnb.sklearn"),
    "Graph": Name("refused", "model graphs (from `watch`) are not drawn offline"),
    "Molecule": Name("refused", "3-D molecules are not rendered offline"),
    "Object3D": Name("refused", "3-D point clouds are not rendered offline"),
    "box3d": Name("refused", "3-D boxes are not rendered offline"),
    "Plotly": Name("refused", "log a matplotlib figure with `Image` instead"),
    "plot_table": Name("refused", "custom Vega charts need W&B's UI; use `plot.*`"),
    "EvalTable": Name("refused", "evaluation tables need W&B's Weave UI"),
    # -- artifacts and the public API (read from the store)
    "Artifact": Name(
        "offline", "versions v0, v1... stored once by hash beside the store", f"{_ART}:"
    ),
    "log_artifact": Name(
        "offline", "logs an Artifact of the active run", "sweepnb.compat.run_wandb:log_artifact"
    ),
    "use_artifact": Name(
        "offline",
        "`name:latest` / `name:v3` of this store",
        "sweepnb.compat.run_wandb:use_artifact",
    ),
    "Api": Name("offline", "reads sweeps and runs from the store", "sweepnb.compat.api:"),
    "ArtifactTTL": Name("refused", "artifacts are kept until you delete the store"),
    "log_model": Name("refused", "use `Artifact(name, type='model')` and `log_artifact`"),
    "use_model": Name("refused", "use `use_artifact('name:latest').download()`"),
    "link_model": Name("refused", "there is no model registry offline"),
    # -- integrations
    "keras": Name(
        "full",
        "`WandbCallback`, `WandbMetricsLogger`, `WandbModelCheckpoint` (checkpoints as artifacts)",
        "sweepnb.compat.integrations.keras",
    ),
    "integration": Name(
        "full",
        "`integration.keras`, `.xgboost`, `.lightgbm`, `.sklearn`; Transformers and Lightning "
        "run unchanged (README: frameworks)",
        "sweepnb.compat.integrations",
    ),
    # -- no offline meaning
    "login": Name("no-op", "nothing to log in to; returns True", f"{_O}:"),
    "setup": Name("no-op", "no service process to start", f"{_O}:"),
    "require": Name("no-op", "no optional W&B features to turn on", f"{_O}:"),
    "Settings": Name("no-op", "accepts any settings and keeps them, unused", f"{_O}:"),
    # issue 24: watch records histograms, save copies the files into the run's folder
    "watch": Name(
        "offline",
        "PyTorch gradients/parameters as histograms every `log_freq` batches (no graph)",
        f"{_TORCH}:",
    ),
    "unwatch": Name("offline", "removes `watch`'s hooks", f"{_TORCH}:"),
    "save": Name("offline", "copies the files into the run's folder (`run.dir`)", f"{_O}:"),
    "termwarn": Name("offline", "printed on stderr", f"{_O}:"),
    "termerror": Name("offline", "printed on stderr", f"{_O}:"),
    "restore": Name("refused", "no cloud copy to restore files from"),
    "controller": Name("refused", "no controller: agents decide under the store's lock"),
    "alert": Name("offline", "printed on stderr", f"{_O}:"),
    "termlog": Name("offline", "printed on stderr", f"{_O}:"),
    "errors": Name("full", "`Error`, `CommError`, `UsageError`...", "sweepnb.compat.errors"),
    "util": Name("offline", "`generate_id`", "sweepnb.compat.util"),
}


class NotSupported(SweepnbError, AttributeError):
    """A W&B name sweepnb does not have. An ``AttributeError`` so ``hasattr`` answers False."""


def resolve(name: str, prefix: str = "wandb") -> Any:
    """sweepnb's object for the W&B top-level ``name`` (``prefix`` names the module in errors).

    Raises :class:`NotSupported` for refused or unknown names, and when the module that
    implements a name is missing from this copy of sweepnb.

    >>> resolve("config") is resolve("config")
    True
    """
    entry = NAMES.get(name)
    if entry is None:
        if name.startswith("_"):  # Python's and tools' probes (__wrapped__, _repr_html_...)
            raise AttributeError(f"module {prefix!r} has no attribute {name!r}")
        raise NotSupported(
            f"{prefix}.{name}: sweepnb does not support it (not a W&B name sweepnb knows; the "
            "README's table 'Running W&B code unchanged' lists what it has)"
        )
    if entry.kind == "refused":
        raise NotSupported(f"{prefix}.{name}: sweepnb does not support it ({entry.note})")
    if name == "run":
        from sweepnb.runtime.run import current

        run = current()
        # issue 24: in an agent's function, W&B's `wandb.run` is None until the function's init()
        return None if getattr(run, "initialized", True) is False else run
    registered = LAZY_NAMES.get(name)  # a name sweepnb itself exports: the very same object
    if registered and registered != __package__:
        module_name, colon, attribute = registered, ":", name
    else:
        module_name, colon, attribute = (entry.target or "").partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:  # an attribute lookup: stay an AttributeError, with the cause
        missing = isinstance(err, ModuleNotFoundError) and module_name.startswith(err.name or "-")
        cause = f"{module_name} is missing" if missing else f"{module_name}: {err}"
        raise NotSupported(
            f"{prefix}.{name}: sweepnb does not support it in this installation ({cause})"
        ) from err
    if not colon:  # a module target: "sweepnb.compat.plot"
        return module
    try:
        return getattr(module, attribute or name)
    except AttributeError:
        raise NotSupported(
            f"{prefix}.{name}: sweepnb does not support it in this installation "
            f"({module_name} has no {attribute or name})"
        ) from None


_noticed: set[str] = set()
_notice_lock = threading.Lock()


def notice_once(key: str, message: str) -> bool:
    """Print ``message`` on stderr the first time ``key`` is seen in this process.

    Returns True when it printed. Used where a W&B call is accepted but drops data.

    >>> notice_once("doc-example", "shown once")  # doctest: +SKIP
    True
    """
    with _notice_lock:
        if key in _noticed:
            return False
        _noticed.add(key)
    print(f"sweepnb: {message}", file=sys.stderr, flush=True)
    return True


def markdown_table() -> str:
    """The README's table: W&B's ``__all__`` and the extra names, the kind and note of each.

    >>> markdown_table().splitlines()[0]
    '| W&B name | sweepnb | what it does |'
    """
    lines = ["| W&B name | sweepnb | what it does |", "|---|---|---|"]
    for name in sorted(WANDB_ALL + WANDB_EXTRA, key=lambda n: (n.strip("_").lower(), n)):
        entry = NAMES[name]
        lines.append(f"| `{name}` | {entry.kind} | {entry.note.replace('|', '/')} |")
    return "\n".join(lines)
