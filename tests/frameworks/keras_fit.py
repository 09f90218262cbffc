"""Keras 3 on the torch backend with W&B's callbacks from `wandb.integration.keras`:
`WandbMetricsLogger` (epoch and batch metrics) and `WandbModelCheckpoint` (checkpoints as
artifacts), in a `wandb.agent` function and standalone. A tiny dense model, 32 in-memory
examples, 2 epochs. Prints one JSON line for the test."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import wandb
from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint

rng = np.random.default_rng(0)
x = rng.normal(size=(32, 3)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")


def fit(units, lr):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(units, activation="relu"),
         keras.layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(
        x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0,
        callbacks=[
            WandbMetricsLogger(log_freq=2),
            WandbModelCheckpoint(f"models/{wandb.run.id}.keras", monitor="val_loss"),
        ],
    )  # fmt: skip


def train():
    run = wandb.init(project="keras-sweep")
    fit(run.config.units, run.config.lr)
    run.finish()


out = {}
sweep = {
    "method": "grid",
    "metric": {"name": "epoch/val_loss", "goal": "minimize"},
    "parameters": {"units": {"values": [2, 4]}, "lr": {"value": 0.01}},
}
out["sweep"] = wandb.sweep(sweep, project="keras-sweep")
wandb.agent(out["sweep"], function=train, count=2)

run = wandb.init(project="keras-solo", name="keras-standalone", config={"units": 3, "lr": 0.01})
fit(run.config.units, run.config.lr)
out["standalone"] = run.id
run.finish()
print("RESULT " + json.dumps(out))
