"""The README's main job: `sweepnb demo` runs a real sweep on the embedded SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys

from sweepnb.store import Store


def test_the_demo_command_runs_a_sweep_and_prints_its_best_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SWEEPNB_STORE"}
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "demo", "--count", "4", "--jobs", "1"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "val_accuracy" in done.stdout
    store = Store(str(tmp_path / ".sweepnb" / "sweeps.db"))  # the default store, made on first use
    (sweep,) = store.list_sweeps()
    runs = store.get_runs(sweep["id"])
    assert len(runs) == 4
    assert {run["state"] for run in runs} <= {"finished", "stopped"}
    for run in runs:
        accuracies = [row["val_accuracy"] for row in run["history"]]
        assert accuracies and all(0.0 <= a <= 1.0 for a in accuracies)
    assert max(max(r["val_accuracy"] for r in run["history"]) for run in runs) > 0.8
    # issue 13: one progress bar, a short table, where the results are and how to open them
    assert done.stderr.count("demo:") >= 1 and "4/4" in done.stderr
    assert str(tmp_path / ".sweepnb" / "sweeps.db") in done.stdout
    assert f"sweepnb.dashboard('{sweep['id']}')" in done.stdout
    assert (
        len(
            [
                line
                for line in done.stdout.splitlines()
                if line.split()[:1] in ([r["id"]] for r in runs)
            ]
        )
        <= 5
    )
    # hyperband judges at epochs 3 and 9 only: no run is stopped at its last epoch
    for run in runs:
        if run["state"] == "stopped":
            assert run["stop_reason"]["band"] in (3, 9)
    # what early termination saved, and how it decided
    trained = sum(len(run["history"]) for run in runs)
    assert f"{trained} epochs trained of {4 * 27}" in done.stdout
    assert "hyperband stopped the runs outside the best third at epoch 3 or 9 of 27" in done.stdout
