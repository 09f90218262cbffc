"""Paths, filters and orderings of ``wandb.Api()`` calls, read the way W&B reads them, and the
error for the public-API names sweepnb does not have.

>>> path_id("ent/proj/sweeps/abc123de", "sweeps", "path")
'abc123de'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sweepnb.errors import SweepnbError


class NotOffline(SweepnbError, AttributeError):
    """A W&B public-API name that sweepnb does not have (an AttributeError, so ``hasattr`` and
    ``getattr(obj, name, default)`` keep working)."""


def unsupported(owner: str, name: str) -> AttributeError:
    if name.startswith("_"):  # Python's own protocols (copy, pickle...) probe these
        return AttributeError(name)
    return NotOffline(
        f"{owner}.{name}: sweepnb does not support this part of wandb.Api() offline "
        "(it reads sweeps, runs, history, summaries, configs and artifacts)"
    )


# ---------------------------------------------------------------------------------------------
# Paths, filters, order
# ---------------------------------------------------------------------------------------------


def path_id(path: Any, collection: str, argument: str) -> str:
    """The id in W&B's ``entity/project/[collection/]ID`` forms; ValueError names the path."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{argument}: expected a non-empty string, got {path!r}")
    parts = path.strip().strip("/").split("/")
    if len(parts) == 4 and parts[2] == collection:
        parts = parts[:2] + parts[3:]
    if len(parts) > 3 or not all(parts):
        raise ValueError(
            f"{argument}: {path!r} is not ID, project/ID, entity/project/ID or "
            f"entity/project/{collection}/ID"
        )
    return parts[-1]


def project_of(path: str | None) -> str | None:
    if path is None:
        return None
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 else parts[0]


def order_key(order: str) -> tuple[str, str, bool]:
    """``"-summary_metrics.loss"`` -> (``"loss"``, ``"summary"``, descending)."""
    if not isinstance(order, str) or not order.strip("+-"):
        raise ValueError("order: expected e.g. '-created_at' or '+summary_metrics.loss'")
    descending = order.startswith("-")
    key = order.lstrip("+-")
    if key in ("created_at", "createdAt"):
        return "created", "record", descending
    for prefix, where in (("summary_metrics.", "summary"), ("config.", "config")):
        if key.startswith(prefix):
            return key[len(prefix) :], where, descending
    return key, "summary", descending


def order_value(record: dict, order: str) -> Any:
    key, where, _ = order_key(order)
    source = record if where == "record" else record.get(where) or {}
    return source.get(key)


def ordered(records: list[dict], order: str) -> list[dict]:
    descending = order_key(order)[2]
    present = [r for r in records if is_number(order_value(r, order))]
    missing = [r for r in records if not is_number(order_value(r, order))]  # W&B: these last
    present.sort(key=lambda r: order_value(r, order), reverse=descending)
    return present + missing


def is_number(value: Any) -> bool:
    from sweepnb.engine.metric import is_valid

    return is_valid(value)


def check_keys(keys: Any) -> list[str] | None:
    if keys is None:
        return None
    if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"keys: expected a list of metric names, got {keys!r}")
    return list(keys)


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
