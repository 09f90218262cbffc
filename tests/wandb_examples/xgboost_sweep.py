"""W&B's XGBoost sweep, as a W&B user writes it: keyword sweep/agent forms and the callback."""

import sys

import wandb
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from wandb.integration.xgboost import WandbCallback

sweep_config = {
    "method": "grid",
    "metric": {"name": "validation_0-logloss", "goal": "minimize"},
    "parameters": {"max_depth": {"values": [2, 4]}, "learning_rate": {"value": 0.3}},
}


def train():
    with wandb.init() as run:
        X, y = load_breast_cancer(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        model = xgb.XGBClassifier(
            n_estimators=5,
            max_depth=run.config.max_depth,
            learning_rate=run.config.learning_rate,
            callbacks=[WandbCallback(log_model=False)],
        )
        model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)


if __name__ == "__main__":
    sweep_id = wandb.sweep(sweep=sweep_config, entity="me", project="xgboost-sweeps")
    wandb.agent(
        f"me/xgboost-sweeps/{sweep_id}",
        function=train,
        entity="me",
        project="xgboost-sweeps",
        count=2,
    )
    sys.stdout.write(sweep_id)
