"""Artifact contents on disk: each file stored once, by its sha256, in the store's files folder.

``files_dir(store)/artifacts/objects/<sha256>`` holds the bytes; a version's manifest (in the
database, see ``sweepnb.store.artifacts``) maps its paths to those hashes. Two artifacts with the
same file share one object. Every write goes to a temporary name first and is renamed into
place, so agents on several machines sharing the folder never see half a file.

>>> digest, size = hash_file(__file__)                   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sweepnb.errors import SweepnbError
from sweepnb.store.files import files_dir

_CHUNK = 1 << 20


def objects_dir(store: Any, *, create: bool = False) -> Path:
    """``files_dir(store)/artifacts/objects``: where artifact contents live, one file per hash."""
    folder = files_dir(store, create=create) / "artifacts" / "objects"
    if create:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def downloads_dir(store: Any) -> Path:
    """``files_dir(store)/artifacts/downloads``: default root of ``Artifact.download()``."""
    return files_dir(store) / "artifacts" / "downloads"


def hash_file(path: str | os.PathLike) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of the file at ``path``."""
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def copy_hashing(source: str | os.PathLike, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` and return its (sha256, size), reading the bytes once.

    The hash is of the bytes copied, so a file changing while it is added cannot leave a
    manifest that disagrees with the stored content.
    """
    sha, size = hashlib.sha256(), 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            sha.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def manifest_digest(manifest: dict[str, dict]) -> str:
    """The artifact's digest: sha256 over its sorted ``path`` / file-hash pairs.

    It depends on the files and their names only (not on metadata), so logging the same files
    again gives the same digest, and W&B's rule applies: no new version.
    """
    sha = hashlib.sha256()
    for path in sorted(manifest):
        sha.update(f"{path}\0{manifest[path]['digest']}\n".encode())
    return sha.hexdigest()


def put_object(store: Any, source: str | os.PathLike, digest: str) -> Path:
    """Store the file ``source`` (whose sha256 is ``digest``) as an object, once."""
    folder = objects_dir(store, create=True)
    target = folder / digest
    if target.is_file() and target.stat().st_size == os.path.getsize(source):
        return target  # already stored (by this or another artifact)
    _atomic_copy(source, target)
    return target


def object_path(store: Any, digest: str, path_in_artifact: str) -> Path:
    """The stored object with ``digest``; a clear error when it is missing (a files folder not
    shared between machines, or deleted)."""
    target = objects_dir(store) / digest
    if not target.is_file():
        raise SweepnbError(
            f"artifact file {path_in_artifact!r}: its content {digest[:12]}… is not in "
            f"{target.parent} (agents on several machines need a shared files folder: "
            "set SWEEPNB_FILES to it)"
        )
    return target


def place_file(store: Any, digest: str, path_in_artifact: str, root: Path) -> Path:
    """Make ``root/path_in_artifact`` hold the object's bytes; a file already equal is kept."""
    target = root.joinpath(*path_in_artifact.split("/"))
    source = object_path(store, digest, path_in_artifact)
    same_size = target.is_file() and target.stat().st_size == source.stat().st_size
    if same_size and hash_file(target)[0] == digest:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_copy(source, target)
    return target


def _atomic_copy(source: str | os.PathLike, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
