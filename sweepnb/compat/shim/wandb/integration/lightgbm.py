"""`wandb.integration.lightgbm`, served by `sweepnb.compat.integrations.lightgbm` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.integrations.lightgbm")
