"""engine.Suggester (issue 22): the incremental path gives what the pure ``suggest`` gives on the
same runs, and a grid's index gives what a scan of every run and point gives."""

from __future__ import annotations

import itertools
import random

import pytest

from sweepnb import engine
from sweepnb.engine.params import flatten, nest
from sweepnb.engine.search import grid

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "a": {"values": [1, 2, 3]},
        "opt": {"parameters": {"lr": {"values": [0.1, 0.01]}, "name": {"value": "sgd"}}},
        "shape": {"values": [[1, 2], {"w": 1}, None]},
    },
}
RANDOM = {
    "method": "random",
    "seed": 7,
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "n": {"values": [1, 2, 3]}},
}


def scanned(cfg: dict, runs: list[dict], n: int) -> list[dict]:
    """The grid's next ``n`` points as the engine found them before issue 22: every run's point,
    then every point of the product in order, skipping the covered ones."""
    axes, constants = grid.axes_of(cfg)
    seen = {p for p in (grid.point_of(axes, run) for run in runs) if p is not None}
    free = (p for p in itertools.product(*(range(len(a.values)) for a in axes)) if p not in seen)
    order = {p.path: k for k, p in enumerate(flatten(cfg))}
    out = []
    for point in itertools.islice(free, n):
        flat = {a.param.path: a.values[i] for a, i in zip(axes, point)}
        flat.update({p.path: p.to_value(0.0) for p in constants})
        out.append(nest(dict(sorted(flat.items(), key=lambda kv: order[kv[0]]))))
    return out


def random_grid_run(rng: random.Random, run_id: str) -> dict:
    """A run on a random point of GRID, sometimes off the grid or missing a key."""
    config = {
        "a": rng.choice([1, 2, 3, 4]),
        "opt": {"lr": rng.choice([0.1, 0.01]), "name": "sgd"},
        "shape": rng.choice([[1, 2], (1, 2), {"w": 1}, None]),
    }
    if rng.random() < 0.1:
        del config["a"]
    state = rng.choice(["finished", "failed", "running", "crashed"])
    return {"id": run_id, "state": state, "config": config, "summary": {}}


@pytest.mark.parametrize("seed", range(6))
def test_incremental_grid_equals_pure_suggest_and_the_old_scan(seed):
    rng = random.Random(seed)
    cfg = engine.load_config(GRID)
    suggester = engine.Suggester(cfg)
    runs: dict[str, dict] = {}
    for step in range(25):
        changed = []
        for _ in range(rng.randint(0, 3)):  # new runs, and changed ones (a new config)
            run_id = rng.choice(list(runs)) if runs and rng.random() < 0.3 else f"r{step}-{_}"
            runs[run_id] = random_grid_run(rng, run_id)
            changed.append(runs[run_id])
        removed = [run_id for run_id in list(runs) if rng.random() < 0.05]
        for run_id in removed:
            del runs[run_id]
        suggester.apply([r for r in changed if r["id"] in runs], removed)
        n = rng.randint(1, 13)
        current = list(runs.values())
        expected = scanned(cfg, current, n)
        assert engine.suggest(cfg, current, n=n) == expected
        assert suggester.suggest(n=n) == expected


def test_a_grid_suggester_fed_its_own_suggestions_ends_at_the_grid_size():
    cfg = engine.load_config(GRID)
    suggester = engine.Suggester(cfg)
    points = []
    while suggestion := suggester.suggest():
        run = {"id": f"r{len(points)}", "state": "running", "config": suggestion[0]}
        suggester.apply([run])
        points.append(repr(suggestion[0]))
    assert len(points) == len(set(points)) == grid.grid_size(cfg) == 18


def method_suggest(cfg: dict, runs: list[dict], seed: int | None = None) -> list[dict]:
    """The search method's own function on every run, with the draw the engine gives it (the
    seeded sweep's generator after len(runs) runs), not through a Suggester."""
    from sweepnb.engine.inputs import _rng
    from sweepnb.engine.search import describe

    return describe(cfg["method"]).suggest(cfg, runs, 1, _rng(cfg, len(runs), seed))


def test_random_suggester_draws_what_the_method_draws():
    cfg = engine.load_config({**RANDOM, "run_cap": 5})
    suggester = engine.Suggester(cfg)
    runs = []
    while True:
        expected = method_suggest(cfg, runs) if len(runs) < 5 else []  # run_cap: then none
        got = suggester.suggest()
        assert got == expected
        if not got:
            break
        run = {"id": f"r{len(runs)}", "state": "finished", "config": got[0], "summary": {}}
        runs.append(run)
        suggester.apply([run])
    assert len(runs) == 5  # run_cap


def test_retried_runs_do_not_cover_their_point():
    cfg = engine.load_config(GRID)
    failed = {"id": "f", "state": "failed", "config": engine.suggest(cfg, [])[0]}
    suggester = engine.Suggester(cfg, covers=lambda run: run["state"] != "failed")
    suggester.apply([failed])
    assert suggester.suggest() == engine.suggest(cfg, []) and suggester.count == 0
    suggester.apply([{**failed, "state": "finished"}])  # the same run, now covering
    assert suggester.suggest() == engine.suggest(cfg, [failed]) and suggester.count == 1


def test_a_reached_target_ends_and_a_deleted_one_reopens():
    cfg = engine.load_config({**RANDOM, "metric": {"name": "loss", "target": 0.1}})
    suggester = engine.Suggester(cfg)
    good = {"id": "g", "state": "finished", "config": {}, "summary": {"loss": 0.05}}
    suggester.apply([{**good, "state": "running"}])
    assert suggester.suggest() != []  # a running run's value does not end the sweep
    suggester.apply([good])
    assert suggester.suggest() == [] == engine.suggest(cfg, [good])
    suggester.apply([], removed=["g"])
    assert suggester.suggest() != []


def test_bayes_goes_through_the_suggester_with_every_run():
    cfg = engine.load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    runs = [
        {"id": f"r{i}", "state": "finished", "config": {"x": i / 10}, "summary": {"loss": i}}
        for i in range(6)
    ]
    suggester = engine.Suggester(cfg)
    suggester.apply(runs)
    assert suggester.suggest(seed=3) == method_suggest(cfg, runs, seed=3)
