"""A function sweep with hyperband early termination: the model trains epoch by epoch and logs
its validation loss each epoch, so the sweep can stop runs that fall behind at a band."""

import numpy as np
import wandb
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

sweep_config = {
    "method": "grid",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    "parameters": {
        # good settings first, so the later (worse) runs meet a band already set
        "alpha": {"values": [0.0001, 0.001, 1.0, 3.0]},
        "epochs": {"value": 8},
    },
}


def train():
    run = wandb.init()
    config = wandb.config
    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, random_state=0)
    model = SGDClassifier(loss="log_loss", alpha=config.alpha, random_state=0)
    classes = np.unique(y)
    for epoch in range(config.epochs):
        model.partial_fit(X_train, y_train, classes=classes)
        val_loss = log_loss(y_val, model.predict_proba(X_val), labels=classes)
        wandb.log({"epoch": epoch, "val_loss": val_loss})
    run.finish()


if __name__ == "__main__":
    sweep_id = wandb.sweep(sweep_config, project="hyperband-demo")
    wandb.agent(sweep_id, function=train)
    print(f"SWEEP_ID={sweep_id}")
