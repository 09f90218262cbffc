"""How a parameter value reads as a label: one rule for every chart and the importance table."""

from __future__ import annotations

import json
from typing import Any


def value_label(value: Any) -> str:
    """A value as a category label: 32 and 32.0 read the same, lists and dicts as sorted JSON.

    >>> value_label(32.0), value_label([1, 2]), value_label("sgd")
    ('32', '[1, 2]', 'sgd')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)
