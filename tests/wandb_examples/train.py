"""A W&B program run: reads its config from wandb.config, logs per epoch.

Like W&B's cross-validation example, it also starts a child process with the WANDB_* variables
cleared; the child imports wandb too and writes which one it got.
"""

import os
import subprocess
import sys

import wandb

wandb.login()
run = wandb.init(config={"learning_rate": 0.5, "epochs": 1, "dropout": 0.2})
config = wandb.config
for epoch in range(config.epochs):
    val_loss = config.learning_rate * (1 + config.dropout) / (epoch + 1)
    wandb.log({"val_loss": val_loss, "epoch": epoch})

env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
child = "import wandb, sys; sys.stdout.write(wandb.__file__)"
where = subprocess.run(
    [sys.executable, "-c", child], env=env, capture_output=True, text=True, check=False
)
with open(f"child-{run.id}.txt", "w") as f:
    f.write(where.stdout or where.stderr)
wandb.finish()
