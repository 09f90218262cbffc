"""`wandb.sdk`, served by `sweepnb.compat.sdk` (sweepnb's offline W&B); its submodules are
imported with it, as W&B's are (`wandb.sdk.wandb_run.Run` without a further import)."""

from sweepnb.compat.shim import forward

forward(globals(), "sweepnb.compat.sdk")

from . import lib as lib
from . import wandb_run as wandb_run
from . import wandb_settings as wandb_settings
