"""`wandb.wandb_run`, served by `sweepnb.compat.sdk` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.sdk")
