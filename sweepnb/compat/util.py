"""``wandb.util``: the helpers W&B code calls (``generate_id``).

>>> len(generate_id())
8
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def generate_id(length: int = 8) -> str:
    """A random id of lowercase letters and digits (W&B's run-id alphabet).

    >>> generate_id(4).isalnum()
    True
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length: expected a positive integer, got {length!r}")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
