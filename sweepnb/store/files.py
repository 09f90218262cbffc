"""Where a store keeps files (logged media, artifact contents): a folder beside the database.

For a SQLite store ``…/sweeps.db`` the folder is ``…/sweeps-files/``, so copying the ``.sweepnb``
folder keeps runs and their files together. A PostgreSQL store has no folder of its own: its files
go to ``$SWEEPNB_FILES`` (a shared file system when agents run on several machines), else
``./.sweepnb/files``. ``$SWEEPNB_FILES`` overrides the folder for any store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FILES_ENV = "SWEEPNB_FILES"


def files_dir(store: Any, *, create: bool = False) -> Path:
    """The folder of ``store``'s files (a ``Store`` or its URL); made (mode 0700) when ``create``.

    >>> files_dir("sqlite:////data/.sweepnb/sweeps.db").as_posix()  # doctest: +SKIP
    '/data/.sweepnb/sweeps-files'
    """
    override = os.environ.get(FILES_ENV)
    if override:
        folder = Path(override).expanduser().absolute()
    else:
        url = getattr(store, "url", store)
        if isinstance(url, str) and url.startswith("sqlite:///"):
            database = Path(url.removeprefix("sqlite:///"))
            folder = database.with_name(database.stem + "-files")
        else:
            folder = Path(".sweepnb", "files").absolute()
    if create:
        private_dir(folder)
    return folder


def private_dir(folder: Path) -> None:
    """Make ``folder`` and every missing parent with mode 0700 whatever the umask (a store and
    its files may hold secrets; ``mkdir(parents=True)`` gives parents the umask's mode)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
