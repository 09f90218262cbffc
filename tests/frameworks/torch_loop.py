"""A plain PyTorch loop written for W&B: `wandb.watch(model, log="all")`, `wandb.log(...,
step=)`, `wandb.Image` of a tensor, `wandb.Table`, `wandb.save`, `run.log_artifact` of a
checkpoint, `wandb.summary[...] =`, `run.log_code()`. Run as a sweep's program (by `sweepnb
agent`, which passes `--lr=...`) or standalone (`python torch_loop.py`)."""

import argparse

import torch
import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--name", default=None)
args, _ = parser.parse_known_args()

run = wandb.init(project="torch-loop", name=args.name, config={"lr": args.lr, "hidden": 4})
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(3, run.config.hidden), torch.nn.Tanh(), torch.nn.Linear(run.config.hidden, 1)
)
wandb.watch(model, log="all", log_freq=1)
optimizer = torch.optim.SGD(model.parameters(), lr=wandb.config.lr)
x = torch.randn(16, 3)
y = x.sum(1, keepdim=True)
for step in range(2):
    loss = torch.nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    wandb.log({"train/loss": loss.item()}, step=10 * step)

wandb.log({"inputs": wandb.Image(torch.rand(3, 8, 8), caption="random")}, step=20)
table = wandb.Table(
    columns=["x0", "prediction"],
    data=[[float(a), float(b)] for a, b in zip(x[:3, 0], model(x[:3]).flatten())],
)
wandb.log({"predictions": table}, step=20)
torch.save(model.state_dict(), "model.pt")
saved = wandb.save("model.pt")
checkpoint = wandb.Artifact(f"mlp-{run.id}", type="model", metadata={"loss": loss.item()})
checkpoint.add_file("model.pt")
run.log_artifact(checkpoint, aliases=["best"])
run.log_code(".")
wandb.summary["final_loss"] = loss.item()
wandb.summary["saved"] = saved
run.finish()
