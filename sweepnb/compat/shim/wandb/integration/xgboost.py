"""`wandb.integration.xgboost`, served by `sweepnb.compat.integrations.xgboost` (sweepnb's offline W&B)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.integrations.xgboost")
