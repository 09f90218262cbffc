"""`wandb.sdk.wandb_settings`, served by `sweepnb.compat.sdk` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.sdk")
