"""`wandb.errors`, served by `sweepnb.compat.errors` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.errors")
