"""``run.log_artifact`` and ``run.use_artifact``: W&B's calls between a run and artifacts.

``log_artifact`` stores the files once by hash, then records the version in the store in one
locked transaction (so concurrent agents number versions v0, v1, … without clashes);
``use_artifact`` finds a version by ``name[:alias]`` and records the run as its user.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sweepnb.compat import artifact_files as objects
from sweepnb.compat.artifacts import _NAME, Artifact
from sweepnb.errors import SweepnbError
from sweepnb.store import artifacts as records


def log_artifact(
    run: Any,
    artifact_or_path: Artifact | str | os.PathLike,
    name: str | None = None,
    type: str | None = None,
    aliases: list[str] | str | None = None,
    tags: list[str] | None = None,
) -> Artifact:
    """Store ``artifact_or_path`` as the next version of its name, logged by ``run``.

    A path (file or folder) becomes an artifact named ``name`` (default
    ``run-<run id>-<file name>``) of ``type`` (default ``unspecified``), as on W&B. A run of
    ``init(mode="disabled")`` keeps nothing: the artifact is returned unlogged.
    """
    art = _as_artifact(run, artifact_or_path, name, type)
    wanted = _alias_list(aliases) + [a for a in art.aliases if a]
    if art._record is not None:
        raise SweepnbError(
            f"artifact_or_path: {art.name} is already logged; make a new Artifact for a new version"
        )
    store = getattr(run, "store", None)
    if store is None or getattr(run, "id", None) is None:
        return art
    _commit(store, art, wanted, run_id=run.id, project=getattr(run, "project", None))
    return art


def use_artifact(
    run: Any,
    artifact_or_name: Artifact | str,
    type: str | None = None,
    aliases: list[str] | None = None,
    use_as: str | None = None,
) -> Artifact:
    """The artifact version ``artifact_or_name`` names, recorded as used by ``run``.

    ``"model"`` and ``"model:latest"`` are the newest version, ``"model:v3"`` version 3,
    ``"model:best"`` the version with that alias; ``entity/project/`` prefixes are ignored.
    ``type``, when given, must match the artifact's.
    """
    store = getattr(run, "store", None)
    if isinstance(artifact_or_name, Artifact):
        art = artifact_or_name
        if art._record is None:  # W&B logs a draft artifact that a run declares as input
            if store is None:
                return art
            _commit(store, art, _alias_list(aliases), run_id=None, project=None)
    elif isinstance(artifact_or_name, str):
        if store is None:
            from sweepnb.store import open_store

            store = open_store()
        art = Artifact._from_record(store, find(store, artifact_or_name))
    else:
        raise TypeError(
            "artifact_or_name: expected an Artifact or a name like 'model:latest', got "
            f"{artifact_or_name.__class__.__name__}"
        )
    if type is not None and art.type != type:
        raise ValueError(f"type: artifact {art.name} has type {art.type!r}, not {type!r}")
    if store is not None and getattr(run, "id", None) is not None:
        records.record_use(art._store, art.id, run.id)
        art._record = {**art._record, "used_by": [*art._record["used_by"], run.id]}
    return art


def find(store: Any, path: str) -> dict:
    """The stored version that ``path`` (``name``, ``name:alias``, ``e/p/name:alias``) names."""
    name, alias = parse_artifact_path(path)
    return records.find_version(store, name, alias)


def parse_artifact_path(path: Any) -> tuple[str, str]:
    """``"ent/proj/model:v3"`` -> ``("model", "v3")``; no alias means ``latest``.

    >>> parse_artifact_path("me/demo/model:best"), parse_artifact_path("model")
    (('model', 'best'), ('model', 'latest'))
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"artifact name must be a non-empty string, got {path!r}")
    parts = path.strip().split("/")
    if len(parts) > 3:
        raise ValueError(
            f"artifact name {path!r}: expected name[:alias], project/name[:alias] or "
            "entity/project/name[:alias]"
        )
    name, _, alias = parts[-1].partition(":")
    if not _NAME.match(name):
        raise ValueError(f"artifact name {path!r}: {name!r} is not an artifact name")
    return name, alias or records.LATEST


def _commit(store: Any, art: Artifact, aliases: list[str], *, run_id: Any, project: Any) -> None:
    if not art._entries:
        raise SweepnbError(f"artifact {art.name!r} has no files; add_file / add_dir first")
    for entry in art._entries.values():  # contents first: a version never names a missing object
        objects.put_object(store, entry["staged"], entry["digest"])
    record = records.save_version(
        store,
        name=art._name,
        type=art.type,
        digest=art.digest,
        manifest=art.manifest,
        description=art.description,
        metadata=art.metadata,
        aliases=aliases,
        run_id=run_id,
        project=project,
    )
    art._bind(store, record)


def _as_artifact(run: Any, value: Any, name: str | None, type_: str | None) -> Artifact:
    if isinstance(value, Artifact):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"artifact_or_path: expected an Artifact or a path, got {type(value).__name__}"
        )
    path = Path(os.fspath(value)).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"artifact_or_path: no file or folder {str(value)!r}")
    default = re.sub(r"[^A-Za-z0-9_.\-]", "-", f"run-{getattr(run, 'id', None)}-{path.name}")
    art = Artifact(name or default, type_ or "unspecified")
    if path.is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    return art


def _alias_list(aliases: Any) -> list[str]:
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    return [records.check_alias(a) for a in aliases]


def log_model(
    path: str | os.PathLike, name: str | None = None, aliases: list[str] | None = None
) -> Artifact:
    """``wandb.log_model``: log the file or folder ``path`` as a ``model`` artifact of the
    active run (default name ``run-<run id>-<file name>``).

    >>> log_model("model.pt", name="classifier")        # doctest: +SKIP
    <Artifact classifier:v0 (model, 1 files)>
    """
    return log_artifact(_active_run("log_model()"), path, name=name, type="model", aliases=aliases)


def use_model(name: str) -> str:
    """``wandb.use_model``: the local folder of model artifact ``name`` (``"classifier:v2"``),
    recorded as used by the active run."""
    return use_artifact(_active_run("use_model()"), name).download()


def _active_run(what: str) -> Any:
    from sweepnb.runtime.run import current

    run = current()
    if run is None:
        raise SweepnbError(f"{what}: no active run; call sweepnb.init() first")
    return run
