"""``import sweepnb.compat.enable``: from here on ``import wandb`` gives sweepnb's offline wandb,
in this interpreter and in the processes it starts (the shim folder goes first on PYTHONPATH).

    import sweepnb.compat.enable  # noqa: F401
    import wandb                  # sweepnb's

An installed real wandb is shadowed, and that is said once on stderr.
"""

from sweepnb.compat.shim import enable

SHIM_PATH = enable()
