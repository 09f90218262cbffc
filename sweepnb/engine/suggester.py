"""``engine.suggest`` for one sweep, kept up to date from the runs that changed.

An agent claims run after run of the same sweep; handing the pure ``suggest`` all 20,000 runs
each time makes every claim cost the whole sweep. A :class:`Suggester` holds what the search
needs (a grid's covered points, the run count for ``run_cap``, the runs that reached the
target) and takes only the runs that changed since the last claim. It is pure in the engine's
sense: no I/O, no clock, no global random state; ``engine.suggest(cfg, runs)`` is a Suggester
built from ``runs`` and asked once, so both paths give the same suggestions.

>>> s = Suggester({"method": "grid", "parameters": {"a": {"values": [1, 2, 3]}}})
>>> s.apply([{"id": "r1", "state": "finished", "config": {"a": 1}}])
>>> s.suggest(n=5)
[{'a': 2}, {'a': 3}]
>>> s.apply([], removed=["r1"])
>>> s.suggest()
[{'a': 1}]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from sweepnb.engine import search

__all__ = ["Suggester"]


class _RunList:
    """The fallback index of a search method without its own (bayes): it keeps the runs, in the
    order they first came, and hands them all to the method's pure ``suggest``."""

    def __init__(self, cfg: dict, suggest: Callable):
        self.cfg, self._suggest = cfg, suggest
        self.runs: dict[Hashable, dict] = {}

    def add(self, key: Hashable, run: dict) -> None:
        self.runs[key] = run  # a changed run keeps its place

    def discard(self, key: Hashable) -> None:
        self.runs.pop(key, None)

    def suggest(self, n: int, rng: Any) -> list[dict]:
        return self._suggest(self.cfg, list(self.runs.values()), n, rng)


class Suggester:
    """The next runs of one sweep, from runs given as they change.

    ``apply(changed, removed)`` takes the runs new or changed since the last call (whole run
    dicts, with an ``id``) and the ids deleted; ``reset(runs)`` starts again from every run.
    ``covers(run)`` says whether a run counts (its point is taken, it counts towards
    ``run_cap``); default: every run. Run dicts are kept, never changed.
    """

    def __init__(self, cfg: dict | str, covers: Callable[[dict], bool] | None = None):
        from sweepnb.engine.inputs import _load
        from sweepnb.engine.metric import Metric

        self.cfg = _load(cfg)
        self.covers = covers
        self._method = search.describe(self.cfg["method"])
        metric = Metric.of(self.cfg)
        self._target = metric if metric is not None and metric.target is not None else None
        self.reset([])

    def reset(self, runs: Iterable[dict], *, by_id: bool = True) -> None:
        """Forget every run, then take ``runs``. ``by_id=False`` keys runs by position (the pure
        ``suggest``: its runs may lack ids, or share one)."""
        index = self._method.index
        self._index = index(self.cfg) if index else _RunList(self.cfg, self._method.suggest)
        self._keys: set[Hashable] = set()
        self._reached: set[Hashable] = set()
        for key, run in ((run.get("id"), run) for run in runs) if by_id else enumerate(runs):
            self._take(key, run)

    def apply(self, changed: Iterable[dict], removed: Iterable[str] = ()) -> None:
        """Take the runs new or changed since the last call, and drop the ``removed`` ids."""
        for key in removed:
            self._drop(key)
        for run in changed:
            self._take(run.get("id"), run)

    @property
    def count(self) -> int:
        """How many runs count (towards ``run_cap``, the seed's draw number)."""
        return len(self._keys)

    def is_done(self) -> bool:
        """True when no run may start any more: ``run_cap`` runs exist or the target was reached
        (``engine.is_done``)."""
        cap = self.cfg.get("run_cap")
        return (cap is not None and self.count >= cap) or bool(self._reached)

    def suggest(self, n: int = 1, seed: int | None = None) -> list[dict]:
        """The next ``n`` run configs, as ``engine.suggest`` would give for the runs taken."""
        from sweepnb.engine.inputs import _check_n, _rng

        n = _check_n(n)
        if self.is_done():
            return []
        if self.cfg.get("run_cap") is not None:
            n = min(n, self.cfg["run_cap"] - self.count)
        if n <= 0:
            return []
        return self._index.suggest(n, _rng(self.cfg, self.count, seed))

    def _take(self, key: Hashable, run: dict) -> None:
        if self.covers is not None and not self.covers(run):
            self._drop(key)
            return
        self._keys.add(key)
        self._index.add(key, run)  # replaces the key's earlier run, if any
        if self._target is not None and self._target.reached_by(run):
            self._reached.add(key)
        else:
            self._reached.discard(key)

    def _drop(self, key: Hashable) -> None:
        if key in self._keys:
            self._keys.discard(key)
            self._reached.discard(key)
            self._index.discard(key)
