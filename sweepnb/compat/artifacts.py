"""W&B artifacts, offline: ``Artifact``, ``run.log_artifact``, ``run.use_artifact``.

The common pattern works unchanged on one machine and across agents sharing a store::

    art = wandb.Artifact("model", type="model")
    art.add_file("model.pt")
    run.log_artifact(art)                                  # model:v0, alias `latest`
    ...
    folder = run.use_artifact("model:latest").download()  # a folder holding model.pt

Versions count up from v0 per artifact name and ``latest`` moves to the newest. Logging the
same files again (same names, same bytes) as the newest version makes no new version, as on
W&B; the aliases given are added to that version. Files are stored once by sha256 under the
store's files folder; versions, aliases and which runs logged or used them are in the store's
database (``sweepnb.store.artifacts``). ``entity/project/`` prefixes are accepted and ignored:
artifact names are unique within a store. The run-side calls (``log_artifact``,
``use_artifact``, ``find``, ``parse_artifact_path``) are in ``artifact_log.py``, which imports
this module.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from sweepnb.compat import artifact_files as objects
from sweepnb.errors import SweepnbError
from sweepnb.store.artifacts import ArtifactNotFound

__all__ = [
    "Artifact",
    "ArtifactEntry",
    "ArtifactNotFound",
]

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")  # W&B: letters, digits, underscores, hyphens, dots


class ArtifactEntry:
    """One file of an artifact: ``.path`` inside it, ``.digest`` (sha256), ``.size``.

    >>> entry = art.get_path("model.pt")             # doctest: +SKIP
    >>> entry.download()                             # doctest: +SKIP
    '/…/sweeps-files/artifacts/downloads/model/v0/model.pt'
    """

    def __init__(self, artifact: Artifact, path: str, digest: str, size: int):
        self._artifact, self.path, self.digest, self.size = artifact, path, digest, size

    name = property(lambda self: self.path)

    def download(self, root: str | os.PathLike | None = None) -> str:
        """Write this file under ``root`` (default: the artifact's download folder); its path."""
        art = self._artifact._logged("get_path(...).download()")
        folder = art._root(root)
        return str(objects.place_file(art._store, self.digest, self.path, folder))

    def __repr__(self) -> str:
        return f"<ArtifactEntry {self.path!r} ({self.size} bytes)>"


class Artifact:
    """A versioned set of files (a model, a dataset), logged by one run and used by others.

    >>> art = Artifact("model", type="model", metadata={"epochs": 3})
    >>> with art.new_file("notes.txt") as f:
    ...     _ = f.write("trained on fold 1")
    >>> art.name, art.type, art.version, sorted(art.manifest)
    ('model', 'model', None, ['notes.txt'])
    """

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        **ignored: Any,
    ):
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"name: {name!r} is not an artifact name (letters, digits, '_', '-' and '.')"
            )
        if not isinstance(type, str) or not type.strip():
            raise ValueError(f"type: expected a non-empty string, got {type!r}")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata: expected a dict, got {metadata.__class__.__name__}")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description: expected a string, got {description!r}")
        self._name, self._type = name, type
        self.description = description
        self.metadata: dict = dict(metadata or {})
        self._entries: dict[str, dict] = {}  # path -> {"digest", "size", "staged": Path}
        self._staging: Path | None = None
        self._record: dict | None = None  # the stored version once logged or used
        self._store: Any = None
        self._aliases: list[str] = []  # W&B code appends to it, then calls save()

    # -- identity ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """``model`` before logging; ``model:v3`` once logged or used (as W&B names it)."""
        if self._record is None:
            return self._name
        return f"{self._name}:v{self._record['version']}"

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def qualified_name(self) -> str:
        """``entity/project/name:vN`` (``local/<project>/…`` offline)."""
        project = (self._record or {}).get("project") or "uncategorized"
        return f"local/{project}/{self.name}"

    @property
    def type(self) -> str:
        return self._type

    @property
    def id(self) -> str | None:
        return None if self._record is None else self._record["id"]

    @property
    def version(self) -> str | None:
        """``"v3"`` once logged or used; None before."""
        return None if self._record is None else f"v{self._record['version']}"

    @property
    def aliases(self) -> list[str]:
        """The version's aliases (``latest`` while it is the newest); before logging, the
        aliases that ``log_artifact`` will add. Change the list, then ``save()``."""
        return self._aliases

    @aliases.setter
    def aliases(self, value: list[str]) -> None:
        self._aliases = list(value)

    @property
    def digest(self) -> str:
        """sha256 over the artifact's file names and file hashes."""
        if self._record is not None:
            return self._record["digest"]
        return objects.manifest_digest(self.manifest)

    @property
    def manifest(self) -> dict[str, dict]:
        """``{path: {"digest": sha256, "size": bytes}}``."""
        if self._record is not None:
            return {p: dict(e) for p, e in self._record["manifest"].items()}
        return {p: {"digest": e["digest"], "size": e["size"]} for p, e in self._entries.items()}

    @property
    def size(self) -> int:
        return sum(entry["size"] for entry in self.manifest.values())

    @property
    def state(self) -> str:
        return "PENDING" if self._record is None else "COMMITTED"

    @property
    def created_at(self) -> str | None:
        if self._record is None:
            return None
        return datetime.fromtimestamp(self._record["created"], timezone.utc).isoformat()

    @property
    def logged_by_run_id(self) -> str | None:
        """The id of the run that logged this version (None: logged outside a run)."""
        return None if self._record is None else self._record["run_id"]

    @property
    def used_by_run_ids(self) -> list[str]:
        return [] if self._record is None else list(self._record["used_by"])

    def is_draft(self) -> bool:
        return self._record is None

    def wait(self, timeout: float | None = None) -> Artifact:
        """W&B uploads in the background; here ``log_artifact`` has finished already."""
        return self

    def __repr__(self) -> str:
        return f"<Artifact {self.name} ({self.type}, {len(self.manifest)} files)>"

    # -- adding files ----------------------------------------------------------------------------

    def add_file(
        self,
        local_path: str | os.PathLike,
        name: str | None = None,
        is_tmp: bool = False,
        skip_cache: bool | None = None,
        policy: str | None = None,
        overwrite: bool = False,
    ) -> ArtifactEntry:
        """Add the file ``local_path`` (as ``name``, default its file name); its bytes are
        copied now, so later changes to the file do not change the artifact."""
        self._draft("add_file")
        path = Path(os.fspath(local_path)).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"local_path: no file {str(local_path)!r}")
        return self._add(path, _entry_name(name if name is not None else path.name), overwrite)

    def add_dir(
        self,
        local_path: str | os.PathLike,
        name: str | None = None,
        skip_cache: bool | None = None,
        policy: str | None = None,
        merge: bool = False,
    ) -> None:
        """Add every file under the folder ``local_path`` (under the prefix ``name``, if given)."""
        self._draft("add_dir")
        folder = Path(os.fspath(local_path)).expanduser()
        if not folder.is_dir():
            raise NotADirectoryError(f"local_path: no folder {str(local_path)!r}")
        prefix = _entry_name(name) if name else ""
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = file.relative_to(folder).as_posix()
            self._add(file, f"{prefix}/{relative}" if prefix else relative, overwrite=merge)

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: str | None = None) -> Iterator[Any]:
        """Open a new file of the artifact for writing; it is added when the block ends.

        >>> with art.new_file("labels.json") as f:        # doctest: +SKIP
        ...     json.dump(labels, f)
        """
        self._draft("new_file")
        if mode not in ("w", "wb", "x", "xb"):
            raise ValueError(f"mode: expected 'w' or 'wb', got {mode!r}")
        entry = _entry_name(name)
        scratch = Path(tempfile.mkdtemp(prefix="sweepnb-newfile-")) / PurePosixPath(entry).name
        try:
            kwargs = {} if "b" in mode else {"encoding": encoding or "utf-8"}
            with open(scratch, mode.replace("x", "w"), **kwargs) as handle:
                yield handle
            self._add(scratch, entry, overwrite=False)
        finally:
            shutil.rmtree(scratch.parent, ignore_errors=True)

    def add_reference(
        self,
        uri: Any,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> None:
        """Add a ``file://`` reference (a local file or folder, copied in). Other schemes need
        the network: offline they are refused."""
        self._draft("add_reference")
        text = str(uri)
        if not text.startswith("file://"):
            scheme = text.split("://", 1)[0] + "://" if "://" in text else text
            raise SweepnbError(
                f"add_reference: {text!r}: sweepnb works offline and stores only local files; "
                f"{scheme} references are not supported. Download the data and use add_file / "
                "add_dir, or give a file:// URI"
            )
        local = Path(text.removeprefix("file://"))
        if local.is_dir():
            self.add_dir(local, name=name)
        elif local.is_file():
            self.add_file(local, name=name)
        else:
            raise FileNotFoundError(f"uri: no file or folder at {text!r}")

    def add(self, obj: Any, name: str) -> None:
        """Not offline: W&B stores media objects (``Table``…) in artifacts as JSON."""
        raise SweepnbError(
            f"Artifact.add({type(obj).__name__}, {name!r}): sweepnb does not support adding "
            "media objects to artifacts; write the data to a file and use add_file"
        )

    def remove(self, item: str | ArtifactEntry) -> None:
        """Take a file (path or entry) out of an artifact that is not logged yet."""
        self._draft("remove")
        path = item.path if isinstance(item, ArtifactEntry) else _entry_name(item)
        if self._entries.pop(path, None) is None:
            raise KeyError(f"item: the artifact has no file {path!r}")

    def _add(self, source: Path, entry: str, overwrite: bool) -> ArtifactEntry:
        staged = self._staging_dir() / f"{len(self._entries)}-{PurePosixPath(entry).name}"
        while staged.exists():
            staged = staged.with_name("_" + staged.name)
        digest, size = objects.copy_hashing(source, staged)
        old = self._entries.get(entry)
        if old is not None and old["digest"] != digest and not overwrite:
            staged.unlink()
            raise ValueError(
                f"name: the artifact already has a different file {entry!r} "
                "(pass overwrite=True to replace it)"
            )
        self._entries[entry] = {"digest": digest, "size": size, "staged": staged}
        return ArtifactEntry(self, entry, digest, size)

    def _staging_dir(self) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="sweepnb-artifact-"))
            weakref.finalize(self, shutil.rmtree, str(self._staging), True)
        return self._staging

    def _draft(self, what: str) -> None:
        if self._record is not None:
            raise SweepnbError(
                f"{what}: artifact {self.name} is already logged and cannot change; "
                f"make a new Artifact({self._name!r}, type={self._type!r}) for a new version"
            )

    # -- reading files -------------------------------------------------------------------------

    def get_path(self, name: str) -> ArtifactEntry:
        """The entry of the file ``name``; ``.download()`` writes it and returns its path."""
        path = _entry_name(name)
        entry = self.manifest.get(path)
        if entry is None:
            have = ", ".join(sorted(self.manifest)[:20]) or "no files"
            raise KeyError(f"name: artifact {self.name} has no file {path!r} (it has {have})")
        return ArtifactEntry(self, path, entry["digest"], entry["size"])

    get_entry = get_path

    def download(self, root: str | os.PathLike | None = None, **ignored: Any) -> str:
        """Write the artifact's files under ``root`` and return that folder.

        Default root: ``files_dir(store)/artifacts/downloads/<name>/vN``. Files already there
        with the right content are not copied again.
        """
        art = self._logged("download()")
        folder = art._root(root)
        folder.mkdir(parents=True, exist_ok=True)
        for path, entry in art.manifest.items():
            objects.place_file(art._store, entry["digest"], path, folder)
        return str(folder)

    def file(self, root: str | os.PathLike | None = None) -> str:
        """The path of the artifact's only file, downloaded (W&B: one-file artifacts)."""
        manifest = self._logged("file()").manifest
        if len(manifest) != 1:
            raise SweepnbError(
                f"file(): artifact {self.name} has {len(manifest)} files, not one; "
                "use download() or get_path(name).download()"
            )
        return self.get_path(next(iter(manifest))).download(root)

    def verify(self, root: str | os.PathLike | None = None) -> None:
        """Raise ValueError unless ``root`` (default: the download folder) holds exactly the
        artifact's files with their recorded hashes."""
        folder = self._logged("verify()")._root(root)
        found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        manifest = self.manifest
        if found != set(manifest):
            raise ValueError(f"root: {folder} holds {sorted(found)}, expected {sorted(manifest)}")
        for path, entry in manifest.items():
            if objects.hash_file(folder / path)[0] != entry["digest"]:
                raise ValueError(f"root: {folder / path} differs from the artifact's {path!r}")

    def _logged(self, what: str) -> Artifact:
        if self._record is None:
            raise SweepnbError(
                f"{what}: artifact {self._name!r} is not logged yet; "
                "call run.log_artifact(artifact) first"
            )
        return self

    def _root(self, root: str | os.PathLike | None) -> Path:
        if root is not None:
            return Path(os.fspath(root)).expanduser().absolute()
        return objects.downloads_dir(self._store) / self._name / self.version

    # -- binding to the store -------------------------------------------------------------------

    @classmethod
    def _from_record(cls, store: Any, record: dict) -> Artifact:
        art = cls(record["name"], record["type"], record["description"], record["metadata"])
        art._bind(store, record)
        return art

    def _bind(self, store: Any, record: dict) -> None:
        self._store, self._record = store, record
        self.description, self.metadata = record["description"], dict(record["metadata"])
        self._entries = {}
        self._aliases = list(record["aliases"])

    def save(self) -> None:
        """A draft: logged by the active run (as W&B does). Logged: its aliases, metadata and
        description as changed here are written to the store (``art.aliases.append("prod")``)."""
        if self._record is None:
            from sweepnb.runtime.run import current

            run = current()
            if run is None:
                raise SweepnbError(
                    f"save(): artifact {self._name!r} is not logged and there is no active run; "
                    "call sweepnb.init() first, or run.log_artifact(artifact)"
                )
            run.log_artifact(self)
            return
        from sweepnb.store.artifacts import update_version

        record = update_version(
            self._store,
            self._record["id"],
            aliases=self._aliases,
            metadata=self.metadata,
            description=self.description,
        )
        self._bind(self._store, record)


def _entry_name(name: Any) -> str:
    """A path inside an artifact: relative, '/'-separated, no '..'; ValueError names it."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name: expected a file name inside the artifact, got {name!r}")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or not parts:
        raise ValueError(f"name: {name!r} must be a relative path inside the artifact")
    return "/".join(parts)
