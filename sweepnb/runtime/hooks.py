"""Where the runtime calls out to a layer above it: a registry of named hooks.

The runtime knows nothing of W&B. Where a run or an agent must hand something to the W&B surface
(``sweepnb/compat``) — a logged ``Image`` to write as files, a program run's ``PYTHONPATH`` that
makes ``import wandb`` give sweepnb's — it calls a hook by name; ``sweepnb/__init__.py`` (which
every import of a sweepnb module runs first) registers the W&B surface's functions, each importing
its module on first call so ``import sweepnb`` stays light.

>>> sorted(HOOKS)
['history_values', 'ignored_init_keywords', 'program_choice', 'program_env', 'run_attribute']
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

# name: what the runtime passes and expects (the default when nothing is registered)
HOOKS = {
    "history_values": "(run, row, step) -> row of storable values (media written as files); "
    "default: the row unchanged",
    "ignored_init_keywords": "(keywords) -> None: say which init() keywords are not recorded",
    "program_env": "(env) -> env of a program run (PYTHONPATH for its `import wandb`); "
    "default: env unchanged",
    "program_choice": "(choice) -> context manager: the `wandb` this thread's program runs get",
    "run_attribute": "(run, name) -> the value of an attribute the Run class lacks (W&B's run "
    "methods: watch, log_artifact, settings...) or AttributeError",
}
_HOOKS: dict[str, Callable[..., Any]] = {}


def register(name: str, function: Callable[..., Any]) -> None:
    """Make the runtime call ``function`` for hook ``name`` (the last registration wins)."""
    if name not in HOOKS:
        raise LookupError(f"no hook {name!r}: the runtime calls {', '.join(sorted(HOOKS))}")
    _HOOKS[name] = function


def run_attribute(run: Any, name: str) -> Any:
    function = _HOOKS.get("run_attribute")
    if function is None or name.startswith("__"):  # probes (__wrapped__...) load nothing
        raise AttributeError(f"'Run' object has no attribute {name!r}")
    return function(run, name)


def history_values(run: Any, row: dict, step: int) -> dict:
    function = _HOOKS.get("history_values")
    return row if function is None else function(run, row, step)


def ignored_init_keywords(keywords: dict) -> None:
    function = _HOOKS.get("ignored_init_keywords")
    if function is not None:
        function(keywords)


def program_env(env: dict[str, str]) -> dict[str, str]:
    function = _HOOKS.get("program_env")
    return env if function is None else function(env)


@contextlib.contextmanager
def program_choice(choice: str | None) -> Iterator[None]:
    function = _HOOKS.get("program_choice")
    if function is None:
        yield
        return
    with function(choice):
        yield
