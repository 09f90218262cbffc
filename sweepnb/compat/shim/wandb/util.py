"""`wandb.util`, served by `sweepnb.compat.util` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.util")
