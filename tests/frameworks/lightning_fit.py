"""A Lightning `Trainer` with `WandbLogger`, as Lightning's docs show: in a `wandb.agent`
function reading `wandb.config` (and `logger.experiment.config`), and standalone. A tiny
regression module, 16 in-memory examples, 2 steps. Prints one JSON line for the test."""

import json

import lightning as L
import torch
import wandb
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger


class Regression(L.LightningModule):
    def __init__(self, lr=0.01, hidden=4):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=8)


def fit(logger, lr, hidden, folder):
    torch.manual_seed(0)
    model = Regression(lr=lr, hidden=hidden)
    checkpoint = ModelCheckpoint(dirpath=folder, monitor="val_loss", save_top_k=1)
    trainer = L.Trainer(
        max_epochs=1, logger=logger, callbacks=[checkpoint], log_every_n_steps=1,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    logger.watch(model, log="all", log_freq=1)
    trainer.fit(model, loader(), loader())


def train():
    logger = WandbLogger(project="lightning-sweep", log_model=True)
    hidden = logger.experiment.config["hidden"]  # the logger starts (joins) the sweep's run
    lr = wandb.config.lr  # the swept value
    logger.log_hyperparams({"batch_size": 8, "note": "from log_hyperparams"})
    fit(logger, lr, hidden, f"ckpt-{logger.experiment.id}")


out = {}
sweep = {
    "method": "grid",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.01, 0.1]}, "hidden": {"value": 4}},
}
out["sweep"] = wandb.sweep(sweep, project="lightning-sweep")
wandb.agent(out["sweep"], function=train, count=2)

logger = WandbLogger(project="lightning-solo", name="solo-fit", log_model=True)
fit(logger, 0.05, 4, "ckpt-solo")
logger.log_table(key="samples", columns=["x", "y"], data=[[1.0, 2.0], [3.0, 4.0]])
logger.log_image(key="inputs", images=[torch.rand(3, 4, 4)], caption=["random"])
out["standalone"] = logger.experiment.id
wandb.finish()
print("RESULT " + json.dumps(out))
