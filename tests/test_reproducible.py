"""Issue 13: a class gets the same sweep on every laptop — `seed` with one job repeats the run
sequence exactly, early-termination decisions included."""

from __future__ import annotations

import math
import time

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


# median stopping: the run with plateau 0.8 is worse than the median from its 8th value on; its
# checkpoints are 3, 6, 12, and a time-driven check would judge it wherever the clock fell
MEDIAN = {
    "method": "grid",
    "seed": 0,
    "metric": {"name": "acc", "goal": "maximize"},
    "early_terminate": {"type": "median", "min_iter": 3, "min_runs": 3},
    "parameters": {"plateau": {"values": [1.0, 0.98, 0.96, 0.8]}},
}


def median_sequence(tmp_path, name: str, epoch_seconds: float) -> list[tuple]:
    def train():
        plateau = sweepnb.config.plateau
        for epoch in range(1, 16):
            if plateau < 0.9:
                time.sleep(epoch_seconds)  # slow epochs: more than a second from value 6 to 12
            sweepnb.log({"acc": plateau * (1 - math.exp(-epoch / 2))})

    url = str(tmp_path / f"{name}.db")
    sid = sweepnb.sweep(MEDIAN, store=url)
    sweepnb.agent(sid, train, store=url, n_jobs=1, quiet=True)
    runs = Store(url).get_runs(sid)
    return [(r["config"]["plateau"], r["state"], len(r["history"])) for r in runs]


def test_with_a_seed_the_stopping_iteration_does_not_depend_on_the_epochs_duration(tmp_path):
    fast = median_sequence(tmp_path, "fast", 0.0)
    slow = median_sequence(tmp_path, "slow", 0.25)
    assert slow == fast
    assert fast[-1] == (0.8, "stopped", 12)  # judged at its checkpoint 12, not by the clock
