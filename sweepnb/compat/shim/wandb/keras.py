"""`wandb.keras`, served by `sweepnb.compat.integrations.keras` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.integrations.keras")
