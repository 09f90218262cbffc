"""scikit-learn front end: ``SweepSearchCV``, a drop-in for ``GridSearchCV`` over a sweep.

>>> from sweepnb.sklearn import SweepSearchCV
"""

from sweepnb.sklearn.search import SweepSearchCV

__all__ = ["SweepSearchCV"]
