"""Exceptions and warnings raised by sweepnb."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


class SweepnbError(Exception):
    """Base class of every error sweepnb raises on purpose."""


class ConfigError(SweepnbError, ValueError):
    """A sweep config is invalid. ``.errors`` lists every problem, each starting with its key path.

    >>> err = ConfigError(["parameters.lr: min 5 is not less than max 3"])
    >>> err.errors
    ['parameters.lr: min 5 is not less than max 3']
    """

    def __init__(self, errors: list[str] | str):
        if isinstance(errors, str):
            errors = [errors]
        self.errors: list[str] = list(errors)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.errors) == 1:
            return f"invalid sweep config: {self.errors[0]}"
        lines = [f"invalid sweep config ({len(self.errors)} problems):"]
        lines += [f"  - {e}" for e in self.errors]
        return "\n".join(lines)

    def __reduce__(self):  # keep .errors across processes (joblib, Dask)
        return (type(self), (self.errors,))


class SweepNotFound(SweepnbError, LookupError):
    """No sweep (or run) with that id in the store."""


class StoreError(SweepnbError):
    """The store cannot be opened or used (bad URL, unknown schema version, ...)."""


class RunStopped(BaseException):
    """Raised inside a run's function at its next ``sweepnb.log`` once the run must end.

    A BaseException (like KeyboardInterrupt) so that a training loop's ``except Exception``
    does not swallow it; the agent catches it and records the run as ``stopped``.
    """

    def __init__(self, reason: str = "stopped"):
        self.reason = reason
        super().__init__(reason)


class SweepnbWarning(UserWarning):
    """Something works but is probably not what the user meant (deprecated distribution, ...)."""


def one_line(err: BaseException) -> str:
    """An error as the single line the CLI and the magics print: a config error's problems
    joined with '; ', a missing file or sweep named, any other error's text on one line.

    >>> one_line(ConfigError(["method: required", "metric.goal: bad"]))
    'invalid sweep config: method: required; metric.goal: bad'
    """
    if isinstance(err, ConfigError):
        return "invalid sweep config: " + "; ".join(err.errors)
    if isinstance(err, FileNotFoundError) and err.filename:
        return f"no such file: {err.filename}"
    if isinstance(err, SweepNotFound):
        # KeyError-style messages arrive quoted; a bare id gets a sentence around it
        text = str(err).strip().strip("'\"")
        return text if " " in text else f"no sweep with id {text!r}"
    return " ".join(str(err).split())


# issue 12: `import sweepnb as wandb` makes this module `wandb.errors`, so W&B's exception names
# (CommError, UsageError...) resolve here too. They live in the W&B surface (`compat/errors.py`),
# a layer above every other: `sweepnb/__init__.py` registers the lookup, this module imports none.
name_lookups: list[Callable[[str], Any]] = []


def __getattr__(name: str):
    if not name.startswith("_"):
        for lookup in name_lookups:
            with contextlib.suppress(AttributeError):
                return lookup(name)
    raise AttributeError(f"module 'sweepnb.errors' has no attribute {name!r}")
