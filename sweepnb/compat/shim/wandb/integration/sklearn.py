"""`wandb.integration.sklearn`, served by `sweepnb.sklearn` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.sklearn")
