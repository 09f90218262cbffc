"""``sweepnb.plots``: the charts of a sweep as matplotlib Figures, and the data they draw.

The data step lives in ``sweepnb.analysis.plotdata`` (no matplotlib), the drawing in
``sweepnb.analysis.draw``::

    sweepnb.plots.parallel_coordinates(sweepnb.runs(sweep_id), cfg).savefig("pc.png")
"""

from sweepnb.analysis.draw import (
    compare,
    draw_compare,
    draw_history,
    draw_importance,
    draw_learning_curves,
    draw_parallel_coordinates,
    draw_scatter,
    history,
    importance,
    learning_curves,
    parallel_coordinates,
    scatter,
)
from sweepnb.analysis.plotdata import (
    CompareData,
    CurvesData,
    HistoryData,
    ImportanceData,
    ParallelData,
    ScatterData,
    compare_data,
    history_data,
    importance_data,
    learning_curves_data,
    parallel_coordinates_data,
    scatter_data,
)

__all__ = [
    "CompareData",
    "CurvesData",
    "HistoryData",
    "ImportanceData",
    "ParallelData",
    "ScatterData",
    "compare",
    "compare_data",
    "draw_compare",
    "draw_history",
    "draw_importance",
    "draw_learning_curves",
    "draw_parallel_coordinates",
    "draw_scatter",
    "history",
    "history_data",
    "importance",
    "importance_data",
    "learning_curves",
    "learning_curves_data",
    "parallel_coordinates",
    "parallel_coordinates_data",
    "scatter",
    "scatter_data",
]
