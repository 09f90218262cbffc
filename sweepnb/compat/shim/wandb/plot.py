"""`wandb.plot`, served by `sweepnb.compat.plot` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.plot")
