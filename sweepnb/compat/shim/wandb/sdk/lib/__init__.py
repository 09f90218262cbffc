"""`wandb.sdk.lib`, served by `sweepnb.compat.sdk` (sweepnb's offline W&B): `RunDisabled`, and
`config_util` (imported with it)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.sdk")

from . import config_util as config_util
