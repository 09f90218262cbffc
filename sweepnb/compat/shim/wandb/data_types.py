"""`wandb.data_types`, served by `sweepnb.compat.media` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.media")
