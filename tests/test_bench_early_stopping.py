"""Smoke test of bench/early_stopping.py: the two sweeps run, hyperband saves epochs, report text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
bench = pytest.importorskip("early_stopping")

RUNS, EPOCHS = 6, 9


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> tuple:
    from sweepnb.store import Store

    store = Store(str(tmp_path_factory.mktemp("bench") / "bench.db"))
    found = tuple(
        bench.run_sweep(
            store, bench.sweep_config("sgd", "random", RUNS, EPOCHS, 0, et), "sgd", label
        )
        for et, label in ((False, "full"), (True, "hyperband"))
    )
    store.close()
    return found


def test_without_early_terminate_every_run_trains_every_epoch(outcomes):
    full, _ = outcomes
    assert (full.epochs, full.stopped) == (RUNS * EPOCHS, 0)


def test_hyperband_stops_runs_and_saves_epochs(outcomes):
    full, early = outcomes
    assert early.stopped > 0
    assert early.epochs < full.epochs


def test_random_search_tries_the_same_configs_in_both_sweeps(outcomes):
    full, early = outcomes
    # the best run of the full sweep leads at every band, so hyperband keeps it
    assert early.best_config == full.best_config and early.best == full.best


def test_report_prints_both_sweeps_and_the_saving(outcomes):
    text = bench.report(*outcomes, "title")
    lines = text.splitlines()
    assert lines[0] == "title" and lines[2].startswith("full") and lines[3].startswith("hyperband")
    saved = 100 * (outcomes[0].epochs - outcomes[1].epochs) / outcomes[0].epochs
    assert f"epochs saved: {saved:.1f} %" in lines[-1]


def test_mlp_model_trains_from_its_own_parameters():
    cfg = bench.sweep_config("mlp", "random", 1, 3, 0, early_terminate=False)
    assert set(cfg["parameters"]) == set(bench.MLP_PARAMETERS) | {"epochs"}
    assert "early_terminate" not in cfg
