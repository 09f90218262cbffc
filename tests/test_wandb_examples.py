"""W&B-style example programs (tests/wandb_examples) run end to end through the no-edit path.

Each example is kept as a W&B user writes it (`import wandb`, no sweepnb import). Program sweeps
go through the real CLI (`sweepnb sweep` + `sweepnb agent` as subprocesses); function sweeps and
scripts run as `python example.py` with `PYTHONPATH=$(sweepnb wandb-path)` first, the documented
switch. The store is a SQLite file in tmp_path; the checks read it back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sweepnb.compat.media_files import media
from sweepnb.compat.shim import real_wandb_origin, shim_path
from sweepnb.store import Store, listing

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "wandb_examples"

pytestmark = pytest.mark.skipif(
    real_wandb_origin() is not None, reason="these tests expect no real wandb"
)


def env_for(tmp_path: Path, *, shim: bool) -> dict[str, str]:
    """This environment without W&B/sweepnb settings, a store in tmp_path, sweepnb importable
    from this checkout; with `shim`, the shim folder first as `$(sweepnb wandb-path)` puts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != shim_path()]
    env["PYTHONPATH"] = os.pathsep.join([*([shim_path()] if shim else []), str(ROOT), *path])
    env["SWEEPNB_STORE"] = str(tmp_path / "s.db")
    return env


def run(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def run_script(name: str, tmp_path: Path) -> str:
    """`python name` in tmp_path with the documented switch; its stdout."""
    shutil.copy(EXAMPLES / name, tmp_path / name)
    wandb_path = run(
        [sys.executable, "-m", "sweepnb", "wandb-path"], tmp_path, env_for(tmp_path, shim=False)
    ).stdout.strip()
    assert wandb_path == shim_path()
    return run([sys.executable, name], tmp_path, env_for(tmp_path, shim=True)).stdout


def program_sweep(folder: str, tmp_path: Path) -> str:
    """Copy an example folder, `sweepnb sweep sweep.yaml`, `sweepnb agent ID`; the sweep id."""
    work = tmp_path / folder
    shutil.copytree(EXAMPLES / folder, work)
    env = env_for(tmp_path, shim=False)
    created = run([sys.executable, "-m", "sweepnb", "sweep", "sweep.yaml"], work, env)
    sweep_id = created.stdout.split("Created sweep with ID: ")[1].split()[0]
    run([sys.executable, "-m", "sweepnb", "agent", sweep_id], work, env)
    return sweep_id


def printed(out: str, key: str) -> str:
    return re.search(rf"^{key}=(\S+)", out, re.MULTILINE).group(1)


def store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "s.db"))


def test_docs_quickstart_function_sweep(tmp_path):
    out = run_script("quickstart.py", tmp_path)
    runs = store(tmp_path).get_runs(printed(out, "SWEEP_ID"))
    assert len(runs) == 4
    for r in runs:
        assert r["state"] == "finished"
        x, y = r["config"]["x"], r["config"]["y"]
        assert 0.01 <= x <= 0.1 and y in (1, 3, 7)
        assert [row["score"] for row in r["history"]] == [pytest.approx(x**3 + y)]
        assert r["project"] == "my-first-sweep"


def test_hyperband_stops_runs_that_fall_behind_at_a_band(tmp_path):
    out = run_script("hyperband.py", tmp_path)
    runs = store(tmp_path).get_runs(printed(out, "SWEEP_ID"))
    assert len(runs) == 4
    states = {r["config"]["alpha"]: r["state"] for r in runs}
    assert states[0.0001] == "finished"
    assert "stopped" in states.values()
    for r in runs:
        losses = [row["val_loss"] for row in r["history"]]
        assert [row["epoch"] for row in r["history"]] == list(range(len(losses)))
        if r["state"] == "stopped":  # ended at a band, before its last epoch
            assert 2 <= len(losses) < 8
        else:
            assert len(losses) == 8


def test_cross_validation_makes_one_run_per_fold_and_the_sweep_run_logs_the_mean(tmp_path):
    # regression: get_sweep_url()/run.save() were AttributeErrors, and init(id=, resume=True)
    # made a new run, so the mean was not in the sweep run
    sweep_id = program_sweep("cross_validation", tmp_path)
    st = store(tmp_path)
    sweep_runs = st.get_runs(sweep_id)
    assert [r["state"] for r in sweep_runs] == ["finished", "finished"]
    others = [st.get_run(i) for i in listing.run_ids(st)]
    folds = [r for r in others if r["sweep_id"] is None]
    assert len(folds) == 6
    for sweep_run in sweep_runs:
        mine = [r for r in folds if r["info"].get("job_type") == sweep_run["id"]]
        assert sorted(r["info"]["name"] for r in mine) == [
            f"{sweep_run['id']}-{n}" for n in range(3)
        ]
        assert {r["info"]["group"] for r in mine} == {sweep_id}
        assert {r["state"] for r in mine} == {"finished"}
        # the notes set from get_project_url() (None offline) before run.save()
        assert sweep_run["info"]["notes"] == f"None/groups/{sweep_id}"
        assert all(r["config"] == sweep_run["config"] for r in mine)
        fold_values = [r["history"][0]["val_accuracy"] for r in mine]
        assert [row["val_accuracy"] for row in sweep_run["history"]] == [
            pytest.approx(sum(fold_values) / 3)
        ]


def test_hydra_program_with_args_no_hyphens(tmp_path):
    pytest.importorskip("hydra")
    sweep_id = program_sweep("hydra_app", tmp_path)
    runs = store(tmp_path).get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    for r in runs:
        n = r["config"]["model.n_estimators"]
        # Hydra applied the override: the config the app logged and the model it trained
        assert r["config"]["model"] == {"n_estimators": n, "max_depth": 3}
        assert r["config"]["data"] == {"test_size": 0.25}
        assert r["history"][0]["n_trees"] == n
        assert 0.5 < r["history"][0]["accuracy"] <= 1.0
    assert sorted(r["config"]["model.n_estimators"] for r in runs) == [2, 8]


def test_tables_images_histograms_and_plots_are_files_with_references_in_history(tmp_path):
    out = run_script("media_logging.py", tmp_path)
    run_id = printed(out, "RUN_ID")
    files = media(run_id, store=str(tmp_path / "s.db"))
    keys = {k.split("/")[0] for k in files["key"]}
    assert {"predictions", "examples", "coefficients", "loss_curve", "conf_mat", "roc"} <= keys
    for path in files["path"]:
        assert Path(path).is_file() and Path(path).stat().st_size > 0, path
    assert any(files["type"].str.contains("image")), files
    assert (files["key"] == "examples").sum() + files["key"].str.startswith("examples/").sum() == 4
    record = store(tmp_path).get_run(run_id)
    assert record["state"] == "finished"
    (row,) = record["history"]
    assert 0.8 < row["accuracy"] <= 1.0
    for key in ("predictions", "examples", "coefficients", "loss_curve", "conf_mat", "roc"):
        assert key in row and not isinstance(row[key], (int, float)), row
        assert "object at 0x" not in json.dumps(row[key])
    written = [p for p in (tmp_path / "s-files").rglob("*") if p.is_file()]
    assert any(p.suffix == ".png" for p in written)
    assert any(p.suffix in (".json", ".csv", ".parquet") for p in written)


def test_an_artifact_logged_by_one_run_is_used_by_the_next(tmp_path):
    out = run_script("artifacts.py", tmp_path)
    used, folder = re.search(r"USED=(\S+) DIR=(\S+)", out).groups()
    assert used == "v0"
    assert (Path(folder) / "model.pkl").read_bytes() == (tmp_path / "model.pkl").read_bytes()
    st = store(tmp_path)
    train, evaluate = (st.get_run(i) for i in listing.run_ids(st))
    assert train["info"]["job_type"] == "train" and evaluate["info"]["job_type"] == "evaluate"
    assert evaluate["history"][0]["accuracy"] == pytest.approx(
        train["history"][0]["train_accuracy"]
    )


def test_analysis_with_the_public_api_after_a_sweep(tmp_path):
    out = run_script("api_analysis.py", tmp_path)
    result = json.loads(out.strip().splitlines()[-1])
    runs = store(tmp_path).get_runs(result["sweep_id"])
    assert sorted(r["id"] for r in runs) == sorted(r["id"] for r in result["runs"])
    by_id = {r["id"]: r for r in runs}
    for row in result["runs"]:
        stored = by_id[row["id"]]
        assert row["state"] == "finished"
        assert row["max_depth"] == stored["config"]["max_depth"]
        assert row["accuracy"] == pytest.approx(stored["history"][-1]["accuracy"])
        assert row["history_rows"] == len(stored["history"]) == 4
        assert row["mean_fold_accuracy"] == pytest.approx(row["accuracy"])
    best = max(result["runs"], key=lambda r: r["accuracy"])["accuracy"]
    assert by_id[result["best"]]["history"][-1]["accuracy"] == best
    assert result["best_config"] == by_id[result["best"]]["config"]
