"""Sweep ids as users write them: W&B's ``entity/project/id`` paths, or the bare id.

Below every layer, beside ``errors.py``: the runtime, the analysis tables and every front end
read a sweep id with :func:`parse_sweep_id`, and this module imports no layer.

    >>> parse_sweep_id("me/proj/abc123")
    'abc123'
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sweepnb.errors import SweepnbError

__all__ = ["parse_sweep_id"]

# one part of entity/project/id: W&B's names (letters, digits, - _ .), never a path step
_ID_PART = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9_.-]+")

# A store URL given as a sweep id is shown with its password masked by the store's own rule
# (store/db.py's `mask_url`), a layer above: `sweepnb/__init__.py` (which every import of a
# sweepnb module runs first) registers it, so this module imports none and SQLAlchemy loads
# only to word that error. With nothing registered the URL is not shown at all.
url_masks: list[Callable[[str], str]] = []


def parse_sweep_id(sweep_id: str) -> str:
    """W&B's ``entity/project/id`` forms -> the id (``project/id``, ``id`` accepted too).

    >>> parse_sweep_id("me/proj/abc123")
    'abc123'
    """
    if not isinstance(sweep_id, str) or not sweep_id.strip():
        raise SweepnbError(f"sweep id must be a non-empty string, not {sweep_id!r}")
    parts = sweep_id.strip().split("/")
    if len(parts) > 3 or not all(_ID_PART.fullmatch(part) for part in parts):
        shown = repr(sweep_id)
        if "://" in sweep_id:  # a store URL given as the sweep id: never echo its password
            shown = "a store URL (give it as --store)"
            if url_masks:
                shown = f"{url_masks[-1](sweep_id.strip())!r}, {shown}"
        raise SweepnbError(
            f"expected a sweep id like ID, project/ID or entity/project/ID (letters, digits, "
            f"'-', '_', '.'; no empty, '.' or '..' parts), got {shown}"
        )
    return parts[-1]
