"""A run's config (``Config``) and the ``sweepnb.config`` / ``sweepnb.summary`` proxies.

Kept apart from ``sweepnb.runtime.run`` (the Run and its lifecycle); not to be confused with
``sweepnb.engine.config``, which reads and checks *sweep* configs.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from sweepnb.errors import SweepnbError, SweepnbWarning
from sweepnb.runtime.values import config_value

# ---------------------------------------------------------------------------------------------
# Config: a dict with attribute access, nested
# ---------------------------------------------------------------------------------------------


class Config(dict):
    """A run's config: a dict whose keys are also attributes, nested dicts included.

    >>> c = Config({"lr": 0.1, "optimizer": {"name": "adam"}})
    >>> c.lr, c["lr"], c.optimizer.name
    (0.1, 0.1, 'adam')
    """

    def __init__(self, data: Mapping | None = None, *, _prefix: str = "", **kw: Any):
        super().__init__()
        object.__setattr__(self, "_on_change", None)
        object.__setattr__(self, "_locked", frozenset())
        object.__setattr__(self, "_prefix", _prefix)  # "optimizer." in a nested config
        self.update(data or {}, allow_val_change=True, **kw)

    def watch(self, on_change: Callable[[], None] | None, locked: Mapping | None = None) -> None:
        """Call ``on_change`` after every change (nested dicts included), and keep the keys of
        ``locked`` (the sweep's values) as they are: W&B ignores a run's update of a swept key."""
        object.__setattr__(self, "_on_change", on_change)
        object.__setattr__(self, "_locked", frozenset(locked or ()))
        for key, value in self.items():
            if isinstance(value, Config):
                nested = (locked or {}).get(key)
                value.watch(on_change, nested if isinstance(nested, Mapping) else None)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r} (keys: {sorted(self)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setitem__(self, key: str, value: Any) -> None:
        # checked now, naming the key, rather than refused by the store at the next write
        value = value if isinstance(value, Config) else config_value(f"{self._prefix}{key}", value)
        if key in self._locked and key in self and dict.__getitem__(self, key) != value:
            _ignored(key, value)
            return
        value = _wrap(value, f"{self._prefix}{key}.")
        if isinstance(value, Config) and self._on_change is not None:
            value.watch(self._on_change)
        super().__setitem__(key, value)
        if self._on_change is not None:
            self._on_change()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(  # type: ignore[override]
        self, data: Mapping | None = None, allow_val_change: bool = False, **kw: Any
    ) -> None:
        """Deep-merge ``data`` (a mapping, or an object with ``__dict__`` like argparse's
        Namespace) into this config: nested dicts are merged key by key, other values set.

        As in W&B, changing the value of a key the config already has raises unless
        ``allow_val_change=True``; a key the sweep set is kept (the update is ignored, with a
        warning)."""
        for key, value in {**as_mapping(data), **kw}.items():
            current = self.get(key, _MISSING)
            if isinstance(current, Config) and isinstance(value, Mapping):
                current.update(value, allow_val_change=allow_val_change)
                continue
            if not isinstance(value, Config):
                value = config_value(f"{self._prefix}{key}", value)  # Path("a") is "a" here
            if isinstance(current, Config) and isinstance(value, Mapping):
                current.update(value, allow_val_change=allow_val_change)
            elif (
                not allow_val_change
                and key not in self._locked
                and current is not _MISSING
                and current != value
            ):
                raise ConfigChangeError(
                    f"config.{key}: update() would change {current!r} to {value!r}; pass "
                    "allow_val_change=True to change it"
                )
            else:
                self[key] = value

    @property
    def __dict__(self) -> dict:  # type: ignore[override]
        """``vars(config)``: W&B's config keeps its values in ``_items``, and Hugging Face's
        ``hyperparameter_search(backend="wandb")`` reads ``vars(wandb.config)["_items"]``
        (issue 24). Attribute writes still go to the instance (``object.__setattr__``)."""
        return {"_items": self}

    def as_dict(self) -> dict:
        """A plain nested ``dict`` copy (JSON-able if the values are)."""
        return {
            k: v.as_dict() if isinstance(v, Config) else copy.deepcopy(v) for k, v in self.items()
        }

    def __deepcopy__(self, memo: dict) -> Config:
        return Config(self.as_dict(), _prefix=self._prefix)

    def __reduce__(self):
        return (Config, (self.as_dict(),))


_MISSING = object()
_WARNED: set[str] = set()


class ConfigChangeError(SweepnbError, ValueError):
    """``config.update()`` would change a value without ``allow_val_change=True`` (as W&B)."""


def _ignored(key: str, value: Any) -> None:
    if key not in _WARNED:  # once per key and process: a training loop may set it every epoch
        _WARNED.add(key)
        warnings.warn(
            f"config.{key} is set by the sweep; the run's value {value!r} is ignored (as in W&B)",
            SweepnbWarning,
            stacklevel=3,
        )


def _wrap(value: Any, prefix: str) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, Config):
        return Config(value, _prefix=prefix)
    return value


def as_mapping(data: Any) -> Mapping:
    """``data`` as a mapping: a dict as is, an object's public attributes, None as {}."""
    if data is None:
        return {}
    if isinstance(data, Mapping):
        return data
    if hasattr(data, "__dict__"):  # argparse.Namespace, simple objects (W&B accepts them too)
        return {k: v for k, v in vars(data).items() if not k.startswith("_")}
    raise TypeError(
        f"config must be a dict (or an object with attributes), not {type(data).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# Proxies
# ---------------------------------------------------------------------------------------------


class RunProxy:
    """``sweepnb.config`` / ``sweepnb.summary``: attribute ``attr`` of the run ``resolve()``
    returns (the active run, else the thread's last one), looked up at every access."""

    def __init__(self, attr: str, resolve: Callable[[], Any]):
        object.__setattr__(self, "_attr", attr)
        object.__setattr__(self, "_resolve", resolve)

    def _target(self) -> Any:
        run = self._resolve()
        if run is None:
            raise SweepnbError(f"sweepnb.{self._attr}: no run yet; call sweepnb.init() first")
        return getattr(run, self._attr)

    @property
    def __dict__(self) -> dict:  # type: ignore[override]
        """``vars(wandb.config)``: the config's (``{"_items": config}``, as W&B's; issue 24)."""
        try:
            return vars(self._target())
        except SweepnbError:
            return {"_items": {}}

    def __getattr__(self, name: str) -> Any:
        try:
            target = self._target()
        except SweepnbError as err:
            raise AttributeError(str(err)) from None
        if isinstance(target, Config) or name in dir(dict):
            return getattr(target, name)
        try:
            return target[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._target()[name] = value

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._target()[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def __iter__(self):
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __eq__(self, other: object) -> bool:
        return self._target() == other

    def __dir__(self):
        try:
            return sorted(set(dir(type(self._target()))) | set(self._target()))
        except SweepnbError:
            return []

    def __repr__(self) -> str:
        try:
            return repr(self._target())
        except SweepnbError:
            return f"<sweepnb.{self._attr}: no run yet>"
