"""Read-only listings across sweeps that the Store's own methods do not offer: the runs of a
project (standalone runs included) and the projects a store knows (for ``wandb.Api().runs``).

>>> run_ids(Store("runs.db"), project="demo")           # doctest: +SKIP
['k3j2h1g0', ...]
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sweepnb.errors import StoreError
from sweepnb.store.artifacts import masked

_ALL = object()


def run_ids(store: Any, project: Any = _ALL) -> list[str]:
    """Ids of the store's runs (of ``project`` when given; ``None`` = runs without a project),
    oldest first."""
    from sweepnb.store import runs_table

    query = sa.select(runs_table.c.id).order_by(runs_table.c.created, runs_table.c.id)
    if project is not _ALL:
        column = runs_table.c.project
        query = query.where(column.is_(None) if project is None else column == project)
    return _read(store, lambda conn: list(conn.execute(query).scalars()))


def projects(store: Any) -> list[str]:
    """The project names of the store's runs and sweeps, sorted (runs without one left out)."""
    from sweepnb.store import runs_table, sweeps_table

    def read(conn: Any) -> list[str]:
        names = set(conn.execute(sa.select(runs_table.c.project).distinct()).scalars())
        names |= set(conn.execute(sa.select(sweeps_table.c.project).distinct()).scalars())
        return sorted(n for n in names if n)

    return _read(store, read)


def _read(store: Any, fn: Any) -> Any:
    engine = store.engine
    try:
        with engine.connect() as conn, conn.begin():
            return fn(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"store {store.display_url}: {masked(store, exc)}") from None
