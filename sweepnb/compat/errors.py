"""``wandb.errors``: W&B's exception names, as sweepnb errors (so ``except wandb.errors.Error``
also catches what sweepnb raises on purpose).

    >>> from sweepnb.compat.errors import UsageError
    >>> issubclass(UsageError, Error)
    True
"""

from __future__ import annotations

from sweepnb.errors import SweepnbError

Error = SweepnbError


class CommError(Error):
    """W&B: a failed exchange with its server. Offline nothing raises it; kept for ``except``."""


class UsageError(Error):
    """W&B: the API was called the wrong way."""


class AuthenticationError(CommError):
    """W&B: the API key was refused. Offline there is no key to refuse."""


class UnsupportedError(UsageError):
    """W&B: the feature is not supported here."""
