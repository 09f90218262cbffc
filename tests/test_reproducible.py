"""Issue 13: a class gets the same sweep on every laptop — `seed` with one job repeats the run
sequence exactly, early-termination decisions included."""

from __future__ import annotations

import math

import sweepnb
from sweepnb.store import Store

CONFIG = {
    "method": "bayes",
    "seed": 0,
    "metric": {"name": "acc", "goal": "maximize"},
    "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        "width": {"values": [8, 16, 32]},
    },
}


def train():
    c = sweepnb.config
    for epoch in range(1, 28):
        sweepnb.log({"acc": (1 - math.exp(-epoch * c.lr)) * (1 - abs(math.log10(c.lr) + 2) / 5)})


def sequence(tmp_path, name: str) -> list[tuple]:
    url = str(tmp_path / f"{name}.db")
    sid = sweepnb.sweep(CONFIG, store=url)
    sweepnb.agent(sid, train, count=14, store=url, n_jobs=1, quiet=True)
    runs = Store(url).get_runs(sid)
    return [(r["config"], r["state"], len(r["history"])) for r in runs]


def test_seed_with_one_job_repeats_the_sweep(tmp_path):
    first, second = sequence(tmp_path, "a"), sequence(tmp_path, "b")
    assert first == second
    assert any(state == "stopped" for _, state, _ in first)  # the rule did act
