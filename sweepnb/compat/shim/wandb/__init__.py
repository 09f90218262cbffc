"""sweepnb's offline stand-in for the ``wandb`` package (its names resolve in sweepnb.compat).

Found first on ``PYTHONPATH`` (program runs of ``sweepnb agent``, ``$(sweepnb wandb-path)``) or
through ``import sweepnb.compat.enable``. See sweepnb/compat/shim/__init__.py.
"""

from sweepnb.compat.shim import install_package

install_package(globals())
