"""The big frameworks' own W&B integrations run unchanged on sweepnb's offline wandb (issue 24).

Each framework's program (tests/frameworks/) is written as its docs show W&B code, with no
sweepnb import, and runs in a subprocess the way users get the offline wandb:
`PYTHONPATH=$(sweepnb wandb-path)`, or as the program of a sweep run by `sweepnb agent`. Each
program runs once per module (a fixture: framework imports cost seconds); the tests read back what
the user sees: the store through `wandb.Api()`, `sweepnb.runs`, `sweepnb show`. Tiny models from
configs with random weights, in-memory data, one or two steps, no hub (HF_HUB_OFFLINE=1).

A framework that is not importable skips its tests, saying which (`pip install sweepnb[frameworks]`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sweepnb
from sweepnb.cli import main as cli
from sweepnb.compat.api import Api
from sweepnb.compat.shim import real_wandb_origin, shim_path
from sweepnb.store import Store

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = Path(__file__).resolve().parent / "frameworks"

pytestmark = pytest.mark.skipif(
    real_wandb_origin() is not None, reason="these tests expect no real wandb installed"
)


def needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install 'sweepnb[frameworks]')")


def env_for(work: Path, **extra: str) -> dict[str, str]:
    """No W&B/sweepnb settings, the store in `work`, this checkout importable, no hub, and the
    offline wandb first on PYTHONPATH as `$(sweepnb wandb-path)` puts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != shim_path()]
    env["PYTHONPATH"] = os.pathsep.join([shim_path(), str(ROOT), *path])
    env.update(SWEEPNB_STORE=str(work / "s.db"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(KERAS_BACKEND="torch", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def fit_program(tmp_path_factory, name: str, *modules: str):
    """Run tests/frameworks/NAME.py in a new folder: its printed result, an Api on its store and
    the store's path (skipped when a framework is not installed)."""
    needs(*modules)
    work = tmp_path_factory.mktemp(name)
    out = run([sys.executable, str(PROGRAMS / f"{name}.py")], work, env_for(work))
    return result(out), Api(store=str(work / "s.db")), work / "s.db"


def run(args: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done.stdout


def result(stdout: str) -> dict:
    return json.loads(stdout.split("RESULT ", 1)[1].splitlines()[0])


def program_sweep(work: Path, yaml: str = "sweep.yaml") -> str:
    """`sweepnb sweep YAML` and `sweepnb agent ID` in `work` (the CLI, as subprocesses)."""
    env = env_for(work)
    env["PYTHONPATH"] = env["PYTHONPATH"].split(os.pathsep, 1)[1]  # the agent adds the shim
    created = run([sys.executable, "-m", "sweepnb", "sweep", yaml], work, env)
    sweep_id = created.split("Created sweep with ID: ")[1].split()[0]
    run([sys.executable, "-m", "sweepnb", "agent", sweep_id], work, env)
    return sweep_id


def keys(run) -> set[str]:
    return {k for row in run.history(pandas=False) for k in row}


def show(sweep_id: str, db: Path, capsys) -> str:
    capsys.readouterr()
    assert cli(["show", sweep_id, "--store", str(db)]) == 0
    return capsys.readouterr().out


def test_the_offline_wandb_has_package_metadata_for_version_checks(tmp_path):
    # Lightning's RequirementCache("wandb>=0.12.10") reads the installed version
    code = "import importlib.metadata as m; print(m.version('wandb'))"
    out = run([sys.executable, "-c", code], tmp_path, env_for(tmp_path))
    assert out.strip() == "0.31.0+sweepnb"


# -- Hugging Face Transformers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    needs("transformers", "torch", "accelerate")
    work = tmp_path_factory.mktemp("hf")
    env = env_for(work, WANDB_PROJECT="hf-demo", WANDB_LOG_MODEL="end", WANDB_WATCH="all")
    out = run([sys.executable, str(PROGRAMS / "transformers_trainer.py"), "--hp-search"], work, env)
    return result(out), Api(store=str(work / "s.db")), work / "s.db"


HF_KEYS = {"train/loss", "train/learning_rate", "train/global_step", "train/epoch", "eval/loss"}


def test_trainer_standalone_run_has_hf_keys_run_name_project_and_config(hf):
    out, api, _db = hf
    run = api.run(out["standalone"])
    assert run.state == "finished"
    assert HF_KEYS <= keys(run)
    steps = [row["train/global_step"] for row in run.history(pandas=False) if "train/loss" in row]
    assert steps == [1, 2]  # logging_steps=1, max_steps=2
    assert run.name == "bert-standalone"  # wandb.Api() shows the run name
    assert run.project == "hf-demo"  # $WANDB_PROJECT
    assert run.config["run_name"] == "bert-standalone" and run.config["max_steps"] == 2
    assert run.config["hidden_size"] == 16 and run.config["model/num_parameters"] > 0
    assert run.summary["train_runtime"] > 0 and "train_loss" in run.summary  # one-off values
    last = [row for row in run.history(pandas=False) if "train/loss" in row][-1]
    assert run.summary["train/loss"] == last["train/loss"]


def test_trainer_logs_the_model_as_an_artifact_with_wandb_log_model_end(hf):
    _, api, _ = hf
    artifact = api.artifact("model-bert-standalone:latest")  # HF names it model-<run_name>
    assert artifact.type == "model" and "final_model" in artifact.aliases
    assert "model.safetensors" in artifact.manifest and "config.json" in artifact.manifest
    assert artifact.metadata["final_model"] is True


def test_trainer_in_a_sweep_trains_each_learning_rate_and_sweepnb_runs_shows_them(hf, capsys):
    out, api, db = hf
    runs = sweepnb.runs(out["sweep"], store=str(db))
    assert sorted(runs["learning_rate"]) == [1e-4, 1e-3] and set(runs["state"]) == {"finished"}
    assert sorted(runs["name"]) == ["lr-0.0001", "lr-0.001"]
    assert runs["eval/loss"].notna().all()  # the sweep's metric, under HF's name
    assert sorted(r.name for r in api.sweep(out["sweep"]).runs) == ["lr-0.0001", "lr-0.001"]
    for record in api.sweep(out["sweep"]).runs:
        assert HF_KEYS <= keys(record)
        rates = [
            r["train/learning_rate"] for r in record.history(pandas=False) if "train/loss" in r
        ]
        assert rates[0] == pytest.approx(record.config["learning_rate"])  # linear decay from it
    text = show(out["sweep"], db, capsys)
    assert "eval/loss" in text and "learning_rate" in text


def test_trainer_logs_each_checkpoint_as_an_artifact_with_wandb_log_model_checkpoint(hf):
    out, api, _ = hf
    for record in api.sweep(out["sweep"]).runs:  # HF names it model-<run name>
        artifact = api.artifact(f"model-{record.name}:checkpoint_global_step_2")  # HF's alias
        assert "epoch_1.0" in artifact.aliases and artifact.type == "model"
        assert "model.safetensors" in artifact.manifest  # the checkpoint-2 folder's files
        assert "trainer_state.json" in artifact.manifest


def test_trainer_watch_from_wandb_watch_all_hooks_the_model_without_error(hf):
    out, api, _ = hf
    # WANDB_WATCH=all: HF calls wandb.watch(model, log="all", log_freq=max(100, logging_steps));
    # two steps are fewer than 100, so no histogram is due (as with W&B), and nothing failed
    run = api.run(out["standalone"])
    assert not any(k.startswith(("gradients/", "parameters/")) for k in keys(run))


def test_hyperparameter_search_with_the_wandb_backend_makes_a_sweep_of_n_trials(hf):
    out, _, db = hf
    best = out["hp_search"]
    record = Store(str(db)).get_run(best["run_id"])
    sweep_runs = Store(str(db)).get_runs(record["sweep_id"])
    assert len(sweep_runs) == 2 and {r["state"] for r in sweep_runs} == {"finished"}
    for r in sweep_runs:
        # HF finished the objective's run and started it again: one run with everything
        assert r["config"]["metric"] == "eval/loss" and r["config"]["assignments"] == {}
        assert HF_KEYS <= {k for row in r["history"] for k in row}
        assert 1e-5 <= r["config"]["learning_rate"] <= 1e-3
    assert best["objective"] == min(r["summary"]["eval/loss"] for r in sweep_runs)
    assert best["learning_rate"] == record["config"]["learning_rate"]


# -- Lightning --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lightning(tmp_path_factory):
    return fit_program(tmp_path_factory, "lightning_fit", "lightning", "torch")


def test_wandb_logger_in_an_agent_reads_the_swept_config_and_logs_self_log_names(lightning):
    out, api, db = lightning
    runs = sweepnb.runs(out["sweep"], store=str(db))
    assert sorted(runs["lr"]) == [0.01, 0.1] and set(runs["state"]) == {"finished"}
    for run in api.sweep(out["sweep"]).runs:
        assert run.project == "lightning-sweep"
        assert {"train/loss", "val_loss", "epoch", "trainer/global_step"} <= keys(run)
        # log_hyperparams: the module's hyperparameters and the function's own call
        assert run.config["hidden"] == 4 and run.config["batch_size"] == 8
        assert run.config["note"] == "from log_hyperparams"
        assert run.summary["val_loss"] > 0


def test_wandb_logger_log_model_true_logs_the_best_checkpoint_as_an_artifact(lightning):
    out, api, _ = lightning
    for run_id in [r.id for r in api.sweep(out["sweep"]).runs] + [out["standalone"]]:
        artifact = api.artifact(f"model-{run_id}:latest")
        assert artifact.type == "model" and {"latest", "best"} <= set(artifact.aliases)
        assert list(artifact.manifest) == ["model.ckpt"]
        assert artifact.metadata["ModelCheckpoint"]["monitor"] == "val_loss"


def test_wandb_logger_watch_records_gradient_and_parameter_histograms(lightning):
    out, api, _ = lightning
    names = keys(api.run(out["standalone"]))
    assert {"gradients/net.0.weight", "parameters/net.0.weight", "parameters/net.2.bias"} <= names


def test_wandb_logger_standalone_run_has_its_name_and_project(lightning):
    out, api, _db = lightning
    run = api.run(out["standalone"])
    assert run.name == "solo-fit"  # wandb.Api() shows the run name
    assert run.project == "lightning-solo" and run.config["lr"] == 0.05


def test_wandb_logger_log_table_and_log_image_are_media_of_the_run(lightning):
    out, api, _ = lightning
    run = api.run(out["standalone"])
    assert run.summary["samples"]["_type"] == "table-file"
    assert run.summary["samples"]["columns"] == ["x", "y"]
    (image,) = run.summary["inputs"]["items"]  # log_image logs a list of wandb.Image
    assert image["_type"] == "image-file" and image["caption"] == "random"
    assert (image["width"], image["height"]) == (4, 4)  # a CxHxW tensor, as W&B reads it


# -- Keras 3 (torch backend) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_runs(tmp_path_factory):
    return fit_program(tmp_path_factory, "keras_fit", "keras", "torch")


def test_wandb_metrics_logger_logs_epoch_and_batch_keys_as_wandb_names_them(keras_runs):
    out, api, _ = keras_runs
    for run in [*api.sweep(out["sweep"]).runs, api.run(out["standalone"])]:
        rows = run.history(pandas=False)
        epochs = [r for r in rows if "epoch/epoch" in r]
        assert [r["epoch/epoch"] for r in epochs] == [0, 1]
        assert {"epoch/loss", "epoch/accuracy", "epoch/val_loss", "epoch/learning_rate"} <= set(
            epochs[0]
        )
        batches = [r["batch/batch_step"] for r in rows if "batch/batch_step" in r]
        assert batches == [0, 2, 4, 6]  # log_freq=2 over 3 batches an epoch, two epochs
        assert epochs[0]["epoch/learning_rate"] == pytest.approx(0.01)


def test_wandb_model_checkpoint_logs_each_saved_model_as_an_artifact(keras_runs):
    out, api, _ = keras_runs
    run_id = out["standalone"]
    versions = api.artifact_versions("model", f"run_{run_id}_model")
    assert len(versions) == 2  # one save per epoch
    latest = api.artifact(f"run_{run_id}_model:latest")
    assert {"latest", "epoch_1"} <= set(latest.aliases)
    assert list(latest.manifest) == [f"{run_id}.keras"]


def test_keras_sweep_ranks_runs_by_the_logged_epoch_metric(keras_runs, capsys):
    out, _, db = keras_runs
    runs = sweepnb.runs(out["sweep"], store=str(db))
    assert sorted(runs["units"]) == [2, 4] and runs["epoch/val_loss"].notna().all()
    assert "epoch/val_loss" in show(out["sweep"], db, capsys)


# -- plain PyTorch ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory):
    needs("torch")
    work = tmp_path_factory.mktemp("torch")
    for name in ("torch_loop.py", "torch_sweep.yaml"):
        shutil.copy(PROGRAMS / name, work / name)
    run([sys.executable, "torch_loop.py", "--name", "solo", "--lr", "0.2"], work, env_for(work))
    sweep_id = program_sweep(work, "torch_sweep.yaml")
    return sweep_id, Api(store=str(work / "s.db")), work / "s.db"


def test_torch_program_sweep_logs_steps_given_and_the_swept_lr(torch_runs, capsys):
    sweep_id, api, db = torch_runs
    runs = sweepnb.runs(sweep_id, store=str(db))
    assert sorted(runs["lr"]) == [0.01, 0.1] and set(runs["state"]) == {"finished"}
    for run in api.sweep(sweep_id).runs:
        steps = [r["_step"] for r in run.history(pandas=False) if "train/loss" in r]
        assert steps == [0, 10]  # wandb.log(..., step=10 * step)
        assert run.summary["final_loss"] == run.summary["train/loss"]  # wandb.summary[...] =
    assert "train/loss" in show(sweep_id, db, capsys)


def test_torch_watch_all_records_gradients_and_parameters_as_histograms(torch_runs):
    sweep_id, api, _ = torch_runs
    run = api.sweep(sweep_id).runs[0]
    first = run.history(pandas=False)[0]
    for key in ("gradients/0.weight", "gradients/2.bias", "parameters/0.weight"):
        assert first[key]["_type"] == "histogram"
    histogram = run.summary["gradients/0.weight"]
    folder = Path(str(api.store.url).removeprefix("sqlite:///")).with_name("s-files")
    data = json.loads((folder / histogram["path"]).read_text())
    assert len(data["values"]) == 64 and sum(data["values"]) == 3 * 4  # every weight's gradient


def test_torch_media_save_artifact_and_code_are_kept_with_the_run(torch_runs):
    _, api, _db = torch_runs
    solo = next(r for r in api.runs() if r.sweep is None)
    assert solo.name == "solo"  # wandb.Api() shows the run name
    assert solo.config["lr"] == 0.2
    assert solo.summary["inputs"]["_type"] == "image-file"  # wandb.Image of a tensor
    assert solo.summary["predictions"]["columns"] == ["x0", "prediction"]  # wandb.Table
    (saved,) = solo.summary["saved"]  # wandb.save copies into run.dir
    assert saved.endswith(f"{solo.id}/files/model.pt") and Path(saved).is_file()
    checkpoint = api.artifact(f"mlp-{solo.id}:best")
    assert list(checkpoint.manifest) == ["model.pt"] and checkpoint.type == "model"
    code = api.artifact("source-torch-loop-torch_loop.py:latest")  # run.log_code(".")
    assert code.type == "code" and "torch_loop.py" in code.manifest


# -- Hydra / OmegaConf ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hydra_runs(tmp_path_factory):
    needs("hydra", "omegaconf")
    work = tmp_path_factory.mktemp("hydra") / "app"
    shutil.copytree(PROGRAMS / "hydra_app", work)
    run([sys.executable, "train.py", "optimizer.lr=0.3", "+run_name=hydra-solo"], work,
        env_for(work))  # fmt: skip
    sweep_id = program_sweep(work)
    return sweep_id, Api(store=str(work / "s.db")), work / "s.db"


def test_hydra_config_update_from_omegaconf_in_a_sweep(hydra_runs):
    sweep_id, api, _ = hydra_runs
    for run in api.sweep(sweep_id).runs:
        lr = run.config["optimizer.lr"]  # the swept key, as W&B names it
        assert run.config["optimizer"] == {"name": "sgd", "lr": lr, "schedule": "sgd-constant"}
        assert run.summary["final/loss"] == pytest.approx((1 - lr) ** 3)
    assert sorted(r.config["optimizer.lr"] for r in api.sweep(sweep_id).runs) == [0.2, 0.5]


def test_hydra_standalone_run_keeps_the_command_line_override(hydra_runs):
    _, api, _db = hydra_runs
    solo = next(r for r in api.runs() if r.sweep is None)
    assert solo.config["optimizer"]["lr"] == 0.3 and solo.config["steps"] == 3
    assert solo.name == "hydra-solo"  # wandb.Api() shows the run name
    assert [row["epoch"] for row in solo.history(pandas=False)] == [0, 1, 2]
