"""W&B's media types, offline: ``Table``, ``Image``, ``Histogram``, ``Html``, ``Audio``, ``Video``.

Each checks its arguments when made (a bad one raises, naming it) and, when logged with
``run.log({"key": obj})``, writes itself as files under the store's files folder
(``media_files.to_history_values``); the history row keeps a small JSON reference to them.
The types live in ``media_types.py`` and ``table.py`` (a table's cells may hold the others);
this module is where ``wandb.Table``, ``wandb.Image``… and ``wandb.data_types`` find them.
"""

from __future__ import annotations

from sweepnb.compat.media_types import Audio, Histogram, Html, Image, Media, Video
from sweepnb.compat.table import Table

__all__ = ["Audio", "Histogram", "Html", "Image", "Media", "Table", "Video"]
