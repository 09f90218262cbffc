"""Artifact versions in the store: which files (by sha256) make up ``model:v3``, its aliases,
the run that logged it and the runs that used it.

The tables live in the store's database so that every agent (processes, machines sharing a
PostgreSQL store and a files folder) sees the same versions; the file contents live once per
hash under ``files_dir(store)/artifacts/objects`` (see ``sweepnb.compat.artifacts``).

The tables are part of the store's schema (``sweepnb.store.tables``): a new store has them, and
the upgrade to schema version 2 adds them to a store made before artifacts existed. Manifests and metadata are JSON text, never pickles.

>>> from sweepnb.store import Store                                     # doctest: +SKIP
>>> v = save_version(Store("runs.db"), name="model", type="model", digest="ab…",
...                  manifest={"model.pt": {"digest": "cd…", "size": 10}})  # doctest: +SKIP
>>> v["version"], v["aliases"]                                          # doctest: +SKIP
(0, ['latest'])
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sweepnb.errors import StoreError, SweepnbError
from sweepnb.store.db import passwords
from sweepnb.store.tables import aliases_table, usage_table, versions_table

__all__ = [
    "ArtifactNotFound",
    "find_version",
    "list_versions",
    "record_use",
    "runs_artifacts",
    "save_version",
]

# aliases W&B manages itself: `latest` moves with every new version, `vN` names version N
LATEST = "latest"
_VERSION_ALIAS = re.compile(r"^v(\d+)$")
_WRITE_RETRIES = 5
_PG_LOCK_KEY = 7201543902  # advisory lock serialising artifact writes on PostgreSQL


class ArtifactNotFound(SweepnbError, LookupError):
    """No artifact (or no version/alias of it) by that name in the store."""


# ---------------------------------------------------------------------------------------------
# Transactions on the store's engine
# ---------------------------------------------------------------------------------------------


def _transaction(store: Any, fn: Callable[[Connection], Any], *, write: bool) -> Any:
    """``fn(conn)`` in one transaction on ``store``'s engine; a write takes the lock up front
    (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock), so numbering is serialised."""
    engine = store.engine  # opens (and creates or upgrades) the store's schema first
    for attempt in range(_WRITE_RETRIES):
        try:
            with engine.connect() as conn:
                if write:
                    conn.execution_options(sweepnb_write=True)
                with conn.begin():
                    if write and conn.dialect.name == "postgresql":
                        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
                    return fn(conn)
        except sa.exc.IntegrityError:
            # a writer that bypassed the lock (an older client) took our number: read again
            if not write or attempt == _WRITE_RETRIES - 1:
                raise StoreError(
                    f"store {store.display_url}: artifact write kept conflicting"
                ) from None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store {store.display_url}: {masked(store, exc)}") from None
    raise AssertionError("unreachable")


def masked(store: Any, exc: BaseException) -> str:
    """The driver's message of ``exc`` with the store's passwords cut out."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = str(exc).strip()
    for password in passwords(store.url):
        text = text.replace(password, "***")
    return text


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def check_alias(alias: Any) -> str:
    """``alias`` if W&B would accept it (1-128 characters, no ``/`` or ``:``), else ValueError."""
    if not isinstance(alias, str) or not 1 <= len(alias) <= 128 or "/" in alias or ":" in alias:
        raise ValueError(
            f"aliases: {alias!r} is not an alias (1-128 characters, without '/' or ':')"
        )
    return alias


def save_version(
    store: Any,
    *,
    name: str,
    type: str,
    digest: str,
    manifest: dict[str, dict],
    description: str | None = None,
    metadata: dict | None = None,
    aliases: list[str] | tuple[str, ...] = (),
    run_id: str | None = None,
    project: str | None = None,
) -> dict:
    """Record a new version of artifact ``name`` (v0, v1, …) unless its newest version has the
    same ``digest``; either way give it ``latest`` and ``aliases``. Returns the version dict.

    Numbering happens inside one locked write transaction: two agents logging ``model`` at the
    same moment get v0 and v1, never both v0.
    """
    from sweepnb.store import new_id, to_json

    wanted = [check_alias(a) for a in aliases]
    manifest_text = to_json(manifest, f"artifact {name!r} manifest")
    metadata_text = to_json(metadata or {}, f"artifact {name!r} metadata")
    size = sum(int(entry["size"]) for entry in manifest.values())

    def write(conn: Connection) -> dict:
        newest = conn.execute(
            sa.select(versions_table)
            .where(versions_table.c.name == name)
            .order_by(versions_table.c.version.desc())
            .limit(1)
        ).first()
        if newest is not None and newest.type != type:
            raise ValueError(
                f"type: artifact {name!r} already has type {newest.type!r}, got {type!r}"
            )
        if newest is not None and newest.digest == digest:
            version_id = newest.id  # same content as the newest version: W&B keeps that version
        else:
            version_id = new_id() + new_id()
            conn.execute(
                sa.insert(versions_table).values(
                    id=version_id,
                    name=name,
                    version=0 if newest is None else newest.version + 1,
                    type=type,
                    digest=digest,
                    description=description,
                    metadata=metadata_text,
                    manifest=manifest_text,
                    size=size,
                    run_id=run_id,
                    project=project,
                    created=time.time(),
                )
            )
        for alias in [LATEST, *wanted]:
            if _VERSION_ALIAS.match(alias):
                continue  # version aliases are the version numbers themselves (W&B ignores them)
            _set_alias(conn, name, alias, version_id)
        return _version_dict(conn, _version_row(conn, versions_table.c.id == version_id))

    return _transaction(store, write, write=True)


def _set_alias(conn: Connection, name: str, alias: str, version_id: str) -> None:
    # an alias names one version of an artifact: setting it moves it
    where = (aliases_table.c.name == name) & (aliases_table.c.alias == alias)
    conn.execute(sa.delete(aliases_table).where(where))
    conn.execute(sa.insert(aliases_table).values(name=name, alias=alias, version_id=version_id))


def update_version(
    store: Any, version_id: str, *, aliases: list[str], metadata: dict, description: str | None
) -> dict:
    """Give a stored version exactly ``aliases`` (plus ``latest`` if it has it: that one moves
    only with new versions), and replace its metadata and description. Returns the version."""
    from sweepnb.store import to_json

    wanted = {check_alias(a) for a in aliases if not _VERSION_ALIAS.match(str(a))} - {LATEST}
    metadata_text = to_json(metadata or {}, "metadata")

    def write(conn: Connection) -> dict:
        row = _version_row(conn, versions_table.c.id == version_id)
        if row is None:
            raise ArtifactNotFound(f"no artifact version {version_id!r} in {store.display_url}")
        mine = (aliases_table.c.version_id == version_id) & (aliases_table.c.alias != LATEST)
        conn.execute(sa.delete(aliases_table).where(mine))
        for alias in sorted(wanted):
            _set_alias(conn, row.name, alias, version_id)
        conn.execute(
            sa.update(versions_table)
            .where(versions_table.c.id == version_id)
            .values(metadata=metadata_text, description=description)
        )
        return _version_dict(conn, _version_row(conn, versions_table.c.id == version_id))

    return _transaction(store, write, write=True)


def record_use(store: Any, version_id: str, run_id: str) -> None:
    """Note that run ``run_id`` used the version (once per run and version)."""

    def write(conn: Connection) -> None:
        where = (usage_table.c.version_id == version_id) & (usage_table.c.run_id == run_id)
        if conn.execute(sa.select(usage_table.c.run_id).where(where)).first() is None:
            conn.execute(
                sa.insert(usage_table).values(
                    version_id=version_id, run_id=run_id, used=time.time()
                )
            )

    _transaction(store, write, write=True)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def find_version(store: Any, name: str, alias: str = LATEST) -> dict:
    """The version of ``name`` that ``alias`` (``latest``, ``v3``, a custom alias) names.

    Raises ArtifactNotFound naming the artifact and the aliases it does have.
    """

    def read(conn: Connection) -> dict:
        match = _VERSION_ALIAS.match(alias)
        if match:
            where = (versions_table.c.name == name) & (
                versions_table.c.version == int(match.group(1))
            )
        else:
            target = sa.select(aliases_table.c.version_id).where(
                (aliases_table.c.name == name) & (aliases_table.c.alias == alias)
            )
            where = versions_table.c.id.in_(target.scalar_subquery())
        row = _version_row(conn, where)
        if row is None:
            raise ArtifactNotFound(_not_found(conn, store, name, alias))
        return _version_dict(conn, row)

    return _transaction(store, read, write=False)


def _not_found(conn: Connection, store: Any, name: str, alias: str) -> str:
    versions = conn.execute(
        sa.select(versions_table.c.version).where(versions_table.c.name == name)
    ).scalars()
    known = [f"v{v}" for v in sorted(versions)]
    if not known:
        names = conn.execute(sa.select(versions_table.c.name).distinct()).scalars().all()
        have = ", ".join(sorted(names)[:20]) or "none"
        return f"no artifact {name!r} in store {store.display_url} (artifacts: {have})"
    custom = conn.execute(
        sa.select(aliases_table.c.alias).where(aliases_table.c.name == name)
    ).scalars()
    return (
        f"artifact {name!r} has no version or alias {alias!r} "
        f"(it has {', '.join(known + sorted(custom))})"
    )


def list_versions(store: Any, name: str | None = None) -> list[dict]:
    """Every version (of ``name``, or of every artifact), oldest first."""

    def read(conn: Connection) -> list[dict]:
        query = sa.select(versions_table).order_by(versions_table.c.name, versions_table.c.version)
        if name is not None:
            query = query.where(versions_table.c.name == name)
        return _version_dicts(conn, conn.execute(query).all())

    return _transaction(store, read, write=False)


def runs_artifacts(store: Any, run_id: str, *, used: bool) -> list[dict]:
    """The versions run ``run_id`` logged (``used=False``) or used (``used=True``)."""

    def read(conn: Connection) -> list[dict]:
        if used:
            ids = sa.select(usage_table.c.version_id).where(usage_table.c.run_id == run_id)
            where = versions_table.c.id.in_(ids.scalar_subquery())
        else:
            where = versions_table.c.run_id == run_id
        query = sa.select(versions_table).where(where).order_by(versions_table.c.created)
        return _version_dicts(conn, conn.execute(query).all())

    return _transaction(store, read, write=False)


def _version_row(conn: Connection, where: Any) -> Any:
    return conn.execute(sa.select(versions_table).where(where)).first()


def _version_dict(conn: Connection, row: Any) -> dict:
    return _version_dicts(conn, [row])[0]


def _version_dicts(conn: Connection, rows: list[Any]) -> list[dict]:
    from sweepnb.store import from_json

    ids = [row.id for row in rows]
    aliases: dict[str, list[str]] = {i: [] for i in ids}
    users: dict[str, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # well under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        for version_id, alias in conn.execute(
            sa.select(aliases_table.c.version_id, aliases_table.c.alias)
            .where(aliases_table.c.version_id.in_(chunk))
            .order_by(aliases_table.c.alias)
        ):
            aliases[version_id].append(alias)
        for version_id, run_id in conn.execute(
            sa.select(usage_table.c.version_id, usage_table.c.run_id)
            .where(usage_table.c.version_id.in_(chunk))
            .order_by(usage_table.c.used)
        ):
            users[version_id].append(run_id)
    return [
        {
            "id": row.id,
            "name": row.name,
            "version": row.version,
            "type": row.type,
            "digest": row.digest,
            "description": row.description,
            "metadata": from_json(row.metadata),
            "manifest": from_json(row.manifest),
            "size": row.size,
            "run_id": row.run_id,
            "project": row.project,
            "created": row.created,
            # `latest` first, like W&B lists it, then the custom aliases
            "aliases": sorted(aliases[row.id], key=lambda a: (a != LATEST, a)),
            "used_by": users[row.id],
        }
        for row in rows
    ]
