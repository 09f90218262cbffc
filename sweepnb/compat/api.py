"""``wandb.Api()``, offline: W&B's public API for reading sweeps, runs and artifacts, answered
from the sweepnb store (``store=``, else ``$SWEEPNB_STORE``, else ``./.sweepnb/sweeps.db``).

    api = wandb.Api()
    sweep = api.sweep("my-team/my-project/abc123de")      # or .../sweeps/abc123de, or abc123de
    best = sweep.best_run()
    best.config, best.summary["loss"], best.history()     # dict, dict, DataFrame

Read-only: nothing here writes to the store. Entity and project parts of a path are accepted;
ids are unique within a store, so they only narrow ``api.runs("entity/project")``.
Sweep states are spelled as W&B's API spells them (``RUNNING``, ``FINISHED``, ``CANCELED``…);
run states as sweepnb records them (``finished``, ``failed``, ``crashed``, ``stopped``…).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sweepnb.compat.api_filters import compile_filters, sweep_filter
from sweepnb.compat.api_paths import (
    NotOffline,
    check_keys,
    is_number,
    iso_utc,
    order_value,
    ordered,
    path_id,
    project_of,
    unsupported,
)
from sweepnb.errors import SweepnbError, SweepNotFound

__all__ = ["Api", "NotOffline", "PublicRun", "PublicSweep", "Runs"]

# W&B's public API spells sweep states in capitals (and "CANCELED" with one L)
_SWEEP_STATES = {
    "running": "RUNNING",
    "paused": "PAUSED",
    "finished": "FINISHED",
    "cancelled": "CANCELED",
}


class Api:
    """Read sweeps, runs and artifacts from a sweepnb store, the way ``wandb.Api()`` reads W&B.

    ``overrides`` (``{"entity": …, "project": …}``), ``timeout`` and ``api_key`` are accepted
    for W&B code; nothing goes to the network.

    >>> api = Api(store="runs.db")                                   # doctest: +SKIP
    >>> [run.name for run in api.runs("me/demo", filters={"state": "finished"})]  # doctest: +SKIP
    """

    def __init__(
        self,
        overrides: Mapping | None = None,
        timeout: float | None = None,
        api_key: str | None = None,
        *,
        store: Any = None,
    ):
        from sweepnb.store import open_store

        if overrides is not None and not isinstance(overrides, Mapping):
            raise TypeError(f"overrides: expected a dict, got {type(overrides).__name__}")
        self.settings = {"entity": None, "project": None, "base_url": None, **(overrides or {})}
        self.store = open_store(store, create=False)  # reading never creates a store

    def __repr__(self) -> str:
        return f"<sweepnb Api on {self.store.display_url}>"

    @property
    def default_entity(self) -> str | None:
        return self.settings.get("entity")

    # -- sweeps --------------------------------------------------------------------------------

    def sweep(self, path: str) -> PublicSweep:
        """The sweep at ``path``: ``entity/project/ID``, ``entity/project/sweeps/ID``,
        ``project/ID`` or ``ID``."""
        sweep_id = path_id(path, "sweeps", "path")
        try:
            record = self.store.get_sweep(sweep_id)
        except SweepNotFound:
            raise SweepNotFound(
                f"path: no sweep {sweep_id!r} (from {path!r}) in store {self.store.display_url}"
            ) from None
        return PublicSweep(self, record)

    # -- runs ----------------------------------------------------------------------------------

    def run(self, path: str) -> PublicRun:
        """The run at ``path``: ``entity/project/ID``, ``entity/project/runs/ID`` or ``ID``."""
        run_id = path_id(path, "runs", "path")
        try:
            record = self.store.get_run(run_id, history=False)
        except SweepNotFound:
            raise SweepNotFound(
                f"path: no run {run_id!r} (from {path!r}) in store {self.store.display_url}"
            ) from None
        return PublicRun(self, record)

    def runs(
        self,
        path: str | None = None,
        filters: Mapping | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_sweeps: bool = True,
        **ignored: Any,
    ) -> Runs:
        """The runs of a project (``entity/project``, ``project``) or of a sweep
        (``entity/project/sweeps/ID``, ``entity/project/ID``), ``None`` for every run.

        ``filters``: W&B's MongoDB-style queries (``sweepnb.compat.api_filters``):
        ``{"state": "finished"}``, ``{"config.lr": {"$gt": 0.01}}``, ``{"sweep": ID}``,
        ``{"$or": [{...}, {...}]}``, ``{"tags": {"$in": ["baseline"]}}``... An operator or field
        it does not know is an error naming it. ``order``: ``[+-]created_at``,
        ``[+-]summary_metrics.NAME`` or ``[+-]config.NAME``.

        >>> Api(store="runs.db").runs("me/demo", filters={"summary_metrics.acc": {"$gte": 0.9}},
        ...                           order="-summary_metrics.acc")    # doctest: +SKIP
        """
        if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
            raise ValueError(f"per_page: expected a positive integer, got {per_page!r}")
        query = compile_filters(filters)
        records = [r for r in self._select(path, sweep_filter(filters)) if query(r)]
        return Runs(self, ordered(records, order))

    def _select(self, path: str | None, sweep_id: str | None) -> list[dict]:
        from sweepnb.store import listing

        if sweep_id is not None:
            records = self._sweep_records(sweep_id, "filters")
            project = project_of(path)
            return [r for r in records if project is None or r.get("project") == project]
        if path is None and self.settings.get("project"):
            path = str(self.settings["project"])  # W&B's default project, from overrides
        if path is None:
            return [self.store.get_run(i, history=False) for i in listing.run_ids(self.store)]
        if not isinstance(path, str) or not path.strip() or path.count("/") > 3:
            raise ValueError(f"path: expected 'entity/project' or a sweep path, got {path!r}")
        parts = path.strip("/").split("/")
        if "sweeps" in parts[:-1] or len(parts) == 3:
            return self._sweep_records(path_id(path, "sweeps", "path"), "path")
        project = parts[-1]
        ids = listing.run_ids(self.store, project=project)
        if ids:
            return [self.store.get_run(i, history=False) for i in ids]
        if len(parts) == 1:  # a bare word may be a sweep id, as W&B scripts sometimes pass
            try:
                return self._sweep_records(project, "path")
            except SweepNotFound:
                pass
        known = ", ".join(listing.projects(self.store)) or "none"
        raise SweepNotFound(
            f"path: no runs in project {project!r} (from {path!r}) in store "
            f"{self.store.display_url} (projects: {known})"
        )

    def _sweep_records(self, sweep_id: str, argument: str) -> list[dict]:
        try:
            return self.store.get_runs(sweep_id, history=False)
        except SweepNotFound:
            raise SweepNotFound(
                f"{argument}: no sweep {sweep_id!r} in store {self.store.display_url}"
            ) from None

    # -- artifacts -----------------------------------------------------------------------------

    def artifact(self, name: str, type: str | None = None) -> Any:
        """The artifact version ``name`` names (``model:latest``, ``e/p/model:v3``)."""
        from sweepnb.compat.artifact_log import find
        from sweepnb.compat.artifacts import Artifact

        art = Artifact._from_record(self.store, find(self.store, name))
        if type is not None and art.type != type:
            raise ValueError(f"type: artifact {art.name} has type {art.type!r}, not {type!r}")
        return art

    def artifacts(self, type_name: str, name: str, per_page: int = 50) -> list:
        """Every version of artifact ``name`` (of type ``type_name``), oldest first."""
        from sweepnb.compat.artifact_log import parse_artifact_path
        from sweepnb.compat.artifacts import Artifact
        from sweepnb.store.artifacts import ArtifactNotFound, list_versions

        base, _ = parse_artifact_path(name)
        versions = [v for v in list_versions(self.store, base) if v["type"] == type_name]
        if not versions:
            raise ArtifactNotFound(
                f"name: no artifact {base!r} of type {type_name!r} in store "
                f"{self.store.display_url}"
            )
        return [Artifact._from_record(self.store, v) for v in versions]

    artifact_versions = artifacts

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        from sweepnb.store.artifacts import ArtifactNotFound

        try:
            self.artifact(name, type)
        except (ArtifactNotFound, ValueError):
            return False
        return True

    def flush(self) -> None:
        """W&B caches answers; every call here reads the store afresh."""

    def __getattr__(self, name: str) -> Any:
        raise unsupported("Api", name)


class Runs(list):
    """A list of :class:`PublicRun` (W&B's paginated ``Runs``; here read at once)."""

    def __init__(self, api: Api, records: list[dict]):
        super().__init__(PublicRun(api, record) for record in records)

    def histories(self, samples: int = 500, keys: list[str] | None = None, pandas: bool = True):
        """Every run's history in one frame, with a ``run_id`` column."""
        import pandas as pd

        frames = [r.history(samples=samples, keys=keys).assign(run_id=r.id) for r in self]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return rows if pandas else rows.to_dict("records")


class Summary(dict):
    """A run's summary: a dict (W&B's ``run.summary`` also answers ``_json_dict``)."""

    @property
    def _json_dict(self) -> dict:
        return dict(self)


class PublicRun:
    """One run as ``wandb.Api()`` shows it: ``.id``, ``.name``, ``.state``, ``.config``,
    ``.summary``, ``.history()``, ``.scan_history()``, ``.sweep``, artifacts."""

    def __init__(self, api: Api, record: dict):
        self._api, self._record = api, record
        self.id: str = record["id"]
        self.state: str = record["state"]
        self.config: dict = dict(record.get("config") or {})
        self.summary = Summary(record.get("summary") or {})
        self.project: str | None = record.get("project")
        self.entity: str | None = api.default_entity
        self.sweep_name: str | None = record.get("sweep_id")
        self.url = None  # offline: there is no web page
        info = record.get("info") or {}  # what the run set: init(name=, tags=...) or run.name
        self.tags: list[str] = list(info.get("tags") or [])
        self.notes: str | None = info.get("notes")
        self.group: str | None = info.get("group")
        self.job_type: str | None = info.get("job_type")
        self._name: str | None = info.get("name")

    @property
    def name(self) -> str:
        """The run's display name (``init(name=...)``, ``run.name = ...``), its id when it was
        given none (W&B would have made one up)."""
        return self._name or self.id

    display_name = name

    @property
    def path(self) -> list[str | None]:
        return [self.entity, self.project, self.id]

    @property
    def created_at(self) -> str:
        """Creation time as W&B's API writes it: ``2026-12-04T15:31:07Z`` (UTC)."""
        return iso_utc(self._record["created"])

    @property
    def heartbeat_at(self) -> str | None:
        beat = self._record.get("heartbeat")
        return None if beat is None else iso_utc(beat)

    @property
    def sweep(self) -> PublicSweep | None:
        sweep_id = self._record.get("sweep_id")
        return None if sweep_id is None else self._api.sweep(sweep_id)

    def _history_rows(self) -> list[dict]:
        if "history" not in self._record:
            self._record = self._api.store.get_run(self.id, history=True)
        return self._record["history"]

    def scan_history(
        self,
        keys: list[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict]:
        """Every history row, in order (with ``keys``: only rows holding all of them, and only
        those keys plus ``_step``)."""
        keys = check_keys(keys)
        for row in self._history_rows():
            step = row.get("_step", 0)
            if (min_step is not None and step < min_step) or (
                max_step is not None and step >= max_step
            ):
                continue
            if keys is None:
                yield dict(row)
            elif all(k in row for k in keys):
                yield {"_step": step, **{k: row[k] for k in keys}}

    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: str = "default",
    ) -> Any:
        """The logged rows as a DataFrame (``pandas=False``: a list of dicts); at most
        ``samples`` rows, evenly spread, first and last kept (W&B samples too)."""
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(f"samples: expected a positive integer, got {samples!r}")
        rows = list(self.scan_history(keys=keys))
        if len(rows) > samples:
            last = len(rows) - 1
            picks = sorted({round(i * last / max(samples - 1, 1)) for i in range(samples)})
            rows = [rows[i] for i in picks]
        if not pandas:
            return rows
        import pandas as pd

        return pd.DataFrame(rows)

    def logged_artifacts(self) -> list:
        """The artifact versions this run logged."""
        return self._artifacts(used=False)

    def used_artifacts(self) -> list:
        """The artifact versions this run used."""
        return self._artifacts(used=True)

    def _artifacts(self, *, used: bool) -> list:
        from sweepnb.compat.artifacts import Artifact
        from sweepnb.store.artifacts import runs_artifacts

        store = self._api.store
        return [Artifact._from_record(store, v) for v in runs_artifacts(store, self.id, used=used)]

    def __getattr__(self, name: str) -> Any:
        raise unsupported("Run", name)

    def update(self) -> None:
        raise SweepnbError("run.update(): sweepnb's Api is read-only; change runs through a run")

    def delete(self, delete_artifacts: bool = False) -> None:
        raise SweepnbError("run.delete(): sweepnb's Api is read-only")

    def __repr__(self) -> str:
        return f"<Run {self.id} ({self.state})>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicRun) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class PublicSweep:
    """A sweep as ``wandb.Api().sweep(path)`` shows it: ``.id``, ``.config``, ``.runs``,
    ``.best_run()``, ``.state``, ``.name``; ``.url`` is None offline."""

    def __init__(self, api: Api, record: dict):
        self._api, self._record = api, record
        self.id: str = record["id"]
        self.config: dict = record["config"]
        self.project: str | None = record.get("project")
        self.entity: str | None = record.get("entity") or api.default_entity
        self.url = None

    @property
    def name(self) -> str:
        return self._record.get("name") or self.config.get("name") or self.id

    @property
    def state(self) -> str:
        """``RUNNING``, ``PAUSED``, ``FINISHED`` or ``CANCELED`` (W&B's spelling), read afresh."""
        state = self._api.store.get_sweep(self.id)["state"]
        return _SWEEP_STATES.get(state, state.upper())

    @property
    def path(self) -> list[str | None]:
        return [self.entity, self.project, self.id]

    @property
    def runs(self) -> Runs:
        """The sweep's runs, oldest first (read afresh)."""
        return Runs(self._api, self._api.store.get_runs(self.id, history=False))

    def best_run(self, order: str | None = None) -> PublicRun | None:
        """The run with the best metric value (as ``sweepnb.best_run``: the best value each run
        logged, by the config's goal), or, with ``order`` (``"-summary_metrics.acc"``,
        ``"+loss"``), the first run by that summary value. None when no run has the value."""
        if order is None:
            from sweepnb.analysis import best_run

            best = best_run(self.config, self._api.store.get_runs(self.id))
            return None if best is None else self._api.run(best["id"])
        ranked = ordered(self._api.store.get_runs(self.id, history=False), order)
        if not ranked or not is_number(order_value(ranked[0], order)):
            return None
        return PublicRun(self._api, ranked[0])

    def __getattr__(self, name: str) -> Any:
        raise unsupported("Sweep", name)

    def __repr__(self) -> str:
        return f"<Sweep {self.id} ({self._record['state']})>"
