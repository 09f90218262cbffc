"""`wandb.env`, served by `sweepnb.compat.env` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.env")
