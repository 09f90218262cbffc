"""A W&B LightGBM sweep, as a W&B user writes it: the callback and log_summary."""

import sys

import lightgbm as lgb
import wandb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from wandb.integration.lightgbm import log_summary, wandb_callback

sweep_config = {
    "method": "grid",
    "metric": {"name": "valid_0_binary_logloss", "goal": "minimize"},
    "parameters": {"num_leaves": {"values": [4, 8]}},
}


def train():
    wandb.init(project="lightgbm-sweeps")
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    params = {"objective": "binary", "num_leaves": wandb.config.num_leaves, "verbose": -1}
    booster = lgb.train(
        params,
        lgb.Dataset(X_train, y_train),
        num_boost_round=5,
        valid_sets=[lgb.Dataset(X_test, y_test)],
        callbacks=[wandb_callback()],
    )
    log_summary(booster, save_model_checkpoint=False)
    wandb.finish()


if __name__ == "__main__":
    sweep_id = wandb.sweep(sweep_config, project="lightgbm-sweeps")
    wandb.agent(sweep_id, train, count=2)
    sys.stdout.write(sweep_id)
