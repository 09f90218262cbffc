"""scikit-learn, both roles: ``SweepSearchCV`` (a drop-in for ``GridSearchCV`` over a sweep) and
W&B's ``wandb.sklearn.plot_*`` charts, drawn with matplotlib and logged into the active run.

>>> from sweepnb.sklearn import SweepSearchCV
"""

from sweepnb.sklearn.plots import (
    plot_calibration_curve,
    plot_class_proportions,
    plot_classifier,
    plot_confusion_matrix,
    plot_feature_importances,
    plot_learning_curve,
    plot_precision_recall,
    plot_regressor,
    plot_residuals,
    plot_roc,
    plot_summary_metrics,
)
from sweepnb.sklearn.search import SweepSearchCV

__all__ = [
    "SweepSearchCV",
    "plot_calibration_curve",
    "plot_class_proportions",
    "plot_classifier",
    "plot_confusion_matrix",
    "plot_feature_importances",
    "plot_learning_curve",
    "plot_precision_recall",
    "plot_regressor",
    "plot_residuals",
    "plot_roc",
    "plot_summary_metrics",
]
