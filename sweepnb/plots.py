"""``sweepnb.plots``: the charts of a sweep, as matplotlib Figures (see ``sweepnb.analysis.plots``)."""

from sweepnb.analysis.plots import *
from sweepnb.analysis.plots import __all__  # noqa: F401
