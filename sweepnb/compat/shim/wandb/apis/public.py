"""`wandb.apis.public`, served by `sweepnb.compat.api` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.api")
