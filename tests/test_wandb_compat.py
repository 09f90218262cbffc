"""`import sweepnb as wandb`: W&B tutorial code runs unchanged on the default embedded store."""

from __future__ import annotations

import math

import pytest

import sweepnb as wandb


@pytest.fixture(autouse=True)
def default_store(tmp_path, monkeypatch):
    """W&B code passes no store: run in tmp_path so ./.sweepnb/sweeps.db lands there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPNB_STORE", raising=False)
    return tmp_path / ".sweepnb" / "sweeps.db"


# The sweep of W&B's "Organizing Hyperparameter Sweeps in PyTorch" tutorial
SWEEP_CONFIG = {
    "method": "random",
    "metric": {"name": "val loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd"]},
        "fc_layer_size": {"values": [128, 256, 512]},
        "dropout": {"values": [0.3, 0.4, 0.5]},
        "epochs": {"value": 3},
        "learning_rate": {"distribution": "uniform", "min": 0, "max": 0.1},
        "batch_size": {"distribution": "q_log_uniform_values", "q": 8, "min": 32, "max": 256},
    },
}


def test_the_pytorch_tutorial_runs_unchanged(default_store):
    sweep_id = wandb.sweep(SWEEP_CONFIG, project="pytorch-sweeps-demo")

    def train(config=None):
        with wandb.init(config=config):
            config = wandb.config
            for epoch in range(config.epochs):
                avg_loss = config.learning_rate * (1 + config.dropout) / (epoch + 1)
                wandb.log({"val loss": avg_loss, "epoch": epoch})

    wandb.agent(sweep_id, train, count=5)

    assert default_store.exists()
    df = wandb.runs(sweep_id)
    assert len(df) == 5 and set(df.state) == {"finished"}
    assert df["val loss"].notna().all()
    assert (df.batch_size % 8 == 0).all()
    best = wandb.best_run(sweep_id)
    assert best["metric"]["value"] == df["val loss"].min()
    assert all(r["project"] == "pytorch-sweeps-demo" for r in wandb.Store().get_runs(sweep_id))


def test_the_quickstart_style_without_with_or_finish():
    sweep_id = wandb.sweep(
        {
            "method": "grid",
            "metric": {"goal": "maximize", "name": "score"},
            "parameters": {"x": {"values": [1, 2, 3]}, "y": {"values": [1, 5]}},
        },
        project="my-first-sweep",
    )

    def objective(config):
        return config.x**2 + config.y

    def main():
        wandb.init(project="my-first-sweep")
        score = objective(wandb.config)
        wandb.log({"score": score})

    wandb.agent(sweep_id, function=main, count=10)
    best = wandb.best_run(sweep_id)
    assert best["config"] == {"x": 3, "y": 5}
    assert best["metric"]["value"] == 14


def test_init_defaults_are_overridden_by_the_swept_values_and_finish_is_explicit():
    sweep_id = wandb.sweep(
        {"method": "grid", "parameters": {"lr": {"values": [0.5]}}}, entity="team", project="p"
    )
    seen = {}

    def train():
        run = wandb.init(config={"lr": 0.001, "layers": 2}, entity="ignored", project="ignored")
        seen.update(run.config.as_dict())
        run.log({"loss": math.inf})  # non-finite values are stored, never the metric's best
        wandb.finish()

    wandb.agent(sweep_id, train)
    assert seen == {"lr": 0.5, "layers": 2}
    (run,) = wandb.Store().get_runs(sweep_id)
    assert run["state"] == "finished"
    assert wandb.Store().get_sweep(sweep_id)["entity"] == "team"


def test_a_standalone_init_lets_a_function_be_tried_alone(default_store):
    def train(config=None):
        with wandb.init(config=config or {"lr": 0.1}) as run:
            wandb.log({"loss": run.config.lr})
            return run

    run = train()
    record = wandb.Store().get_run(run.id)
    assert record["state"] == "finished" and record["sweep_id"] is None
    assert record["history"][0]["loss"] == 0.1
