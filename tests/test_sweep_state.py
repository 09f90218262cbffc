"""Issue 21: a sweep whose runs all failed is not shown as plain ``finished``.

The dashboard's progress line, ``sweepnb ls`` and ``sweepnb show`` all say
``finished (all N runs failed)``; the stored state stays what it was (other code compares it).
Real sweeps on a SQLite store in tmp_path, run by ``sweepnb.agent``; the CLI in-process, as in
test_cli.py.
"""

from __future__ import annotations

import pytest
from helpers import grid

import sweepnb
from sweepnb import cli
from sweepnb.analysis.tables import sweep_state
from sweepnb.notebook.progress import progress
from sweepnb.store import Store

ALL_FAILED = "finished (all 3 runs failed)"


def diverge(config):
    raise ValueError(f"x={config.x} diverged")


@pytest.fixture(params=["the agent gives up", "sweepnb.stop"])
def all_failed(request, tmp_path) -> tuple[str, str]:
    """A grid of 3 whose every run raised: left as the failure policy leaves it (stored
    ``running``, every planned run done), or stopped afterwards (stored ``finished``)."""
    db = str(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(grid(3), store=db, name="broken")
    sweepnb.agent(sweep_id, diverge, store=db, quiet=True)
    if request.param == "sweepnb.stop":
        sweepnb.stop(sweep_id, store=db)
    return db, sweep_id


@pytest.fixture
def one_failed(tmp_path) -> tuple[str, str]:
    """A grid of 2: run x=0 fails, run x=1 finishes."""
    db = str(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(grid(2), store=db, name="half")

    def train(config):
        if config.x == 0:
            raise ValueError("x=0 diverged")
        sweepnb.log({"loss": 1.0})

    sweepnb.agent(sweep_id, train, store=db, quiet=True)
    return db, sweep_id


def progress_of(db: str, sweep_id: str):
    store = Store(db)
    sweep = store.get_sweep(sweep_id)
    return progress(
        sweep["config"], store.get_runs(sweep_id), sweep_id=sweep_id, sweep_state=sweep["state"]
    )


def cli_out(capsys, *args: str) -> str:
    code = cli.main(list(args))
    out, _ = capsys.readouterr()
    assert code == 0
    return out


def test_the_progress_line_says_every_run_failed(all_failed):
    db, sweep_id = all_failed
    prog = progress_of(db, sweep_id)
    head = prog.text().splitlines()[0]
    assert head.startswith(f"sweep {sweep_id} [{ALL_FAILED}]: 3/3 runs done"), head
    assert "3 failed" in head and "took" in head and "ETA" not in head
    assert f"[{ALL_FAILED}]" in prog.html()


def test_ls_says_every_run_failed(capsys, all_failed):
    db, sweep_id = all_failed
    out = cli_out(capsys, "ls", "--store", db)
    (line,) = [line for line in out.splitlines() if line.startswith(sweep_id)]
    assert f" {ALL_FAILED} " in line and "3 (3 failed)" in line


def test_show_says_every_run_failed(capsys, all_failed):
    db, sweep_id = all_failed
    first = cli_out(capsys, "show", sweep_id, "--store", db).splitlines()[0]
    assert first.startswith(f"sweep {sweep_id} (broken): {ALL_FAILED}, grid search, 3 runs")


def test_the_stored_state_is_left_as_it_was(all_failed):
    db, sweep_id = all_failed
    prog = progress_of(db, sweep_id)
    assert prog.sweep_state == Store(db).get_sweep(sweep_id)["state"]
    assert prog.sweep_state in ("running", "finished")  # never the display string


def test_one_finished_run_among_failed_ones_is_plain_finished(capsys, one_failed):
    db, sweep_id = one_failed
    assert "[finished]: 2/2 runs done" in progress_of(db, sweep_id).text()
    out = cli_out(capsys, "ls", "--store", db)
    (line,) = [line for line in out.splitlines() if line.startswith(sweep_id)]
    assert line.split()[2] == "finished" and "runs failed" not in line
    first = cli_out(capsys, "show", sweep_id, "--store", db).splitlines()[0]
    assert first.startswith(f"sweep {sweep_id} (half): finished, grid search, 2 runs")


def test_crashed_runs_count_as_failed_and_a_running_one_keeps_the_sweep_open():
    sweep = {"state": "finished", "config": grid(3)}
    assert sweep_state(sweep, {"failed": 2, "crashed": 1}) == ALL_FAILED
    assert sweep_state(sweep, {"failed": 2, "running": 1}) == "finished"  # not all ended
    assert sweep_state(sweep, {"failed": 2, "stopped": 1}) == "finished"
    assert sweep_state(sweep, {}) == "finished"  # no runs: nothing failed
