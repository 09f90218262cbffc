"""The store's records: JSON text, ids, and rows turned into the dicts the store returns.

Formats (documented once, here):

- times are UTC epoch seconds (``float``, ``time.time()``);
- configs, summaries, history rows and stop reasons are JSON text in TEXT columns. NaN and
  +/-inf are written as the bare tokens ``NaN``/``Infinity``/``-Infinity`` that Python's ``json``
  reads back, so a logged ``float("nan")`` survives on both backends. Never pickles;
- run dicts carry the engine keys (``id``, ``state``, ``config``, ``history``, ``summary``) and
  ``sweep_id``, ``created``, ``started``, ``ended``, ``heartbeat``, ``host``, ``pid``, ``agent``,
  ``error``, ``stop_requested``, ``stop_reason``, ``project``, ``notes``, ``version`` (bumped
  by every change to the run). With
  ``history=False`` the ``history`` key is absent (not an empty list that would look like data).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import string
from collections.abc import Iterable
from typing import Any

from sweepnb.engine.states import MAX_ERROR_CHARS
from sweepnb.errors import StoreError

_ID_ALPHABET = string.ascii_lowercase + string.digits


def _json_default(value: Any) -> Any:
    # numpy scalars / arrays and other array-likes: plain Python values, never pickles
    for convert in ("tolist", "item"):
        if hasattr(value, convert):
            plain = getattr(value, convert)()
            # a long double's tolist() is itself: converting again would recurse forever
            if type(plain) is not type(value):
                return plain
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} is not JSON-serialisable")


def to_json(value: Any, what: str) -> str:
    """JSON text for ``value`` (NaN/inf kept as ``NaN``/``Infinity``); StoreError names ``what``."""
    try:
        return json.dumps(value, default=_json_default, allow_nan=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what}: {exc}") from None


def _int_or_none(literal: str) -> int | None:
    # an int the store cannot read as a float (an older store, or a row written by hand)
    # costs its own cell, never the table: it reads back as None
    if len(literal) > 400:
        return None
    value = int(literal)
    return value if abs(value) < 2**1024 else None


def _parse_int(literal: str) -> int | None:
    # a literal of 309+ digits may not fit a float: checked by length, which costs less than
    # searching the whole text for such a literal first (20,000 runs' histories at once)
    return int(literal) if len(literal) < 309 else _int_or_none(literal)


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=_parse_int)


def from_json(text: str | None) -> Any:
    """Inverse of :func:`to_json` (``None`` stays ``None``).

    Defensive: text that is not JSON (a damaged or hand-edited row) reads as ``None``, and an
    integer too large for a float as ``None`` in its place, so one bad value costs one cell.
    """
    if text is None:
        return None
    try:
        return _loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


def new_id() -> str:
    """A fresh id: 8 characters from ``[a-z0-9]``, like W&B's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


# ---------------------------------------------------------------------------------------------
# Row conversion
# ---------------------------------------------------------------------------------------------


def loads_many(texts: list[str | None]) -> list[Any]:
    """Decode many JSON texts with one parser call (much faster than one call each).

    If any text is unreadable, each is decoded alone (:func:`from_json`): the bad ones read as
    ``None``, the others as usual.
    """
    if not texts:
        return []
    try:
        values = _loads("[" + ",".join(texts) + "]")
        if len(values) == len(texts):
            return values
    except (ValueError, TypeError, RecursionError):
        pass
    return [from_json(text) for text in texts]


def sweep_dict(row: Any) -> dict:
    """A sweep dict from a ``sweeps`` row (a damaged config reads as ``{}``: one sweep's cells,
    never the whole listing)."""
    config = from_json(row.config)
    return {
        "id": row.id,
        "name": row.name,
        "project": row.project,
        "entity": row.entity,
        "config": config if isinstance(config, dict) else {},
        "state": row.state,
        "created": row.created,
        "updated": row.updated,
    }


def bound_error(text: str | None, limit: int = MAX_ERROR_CHARS) -> str | None:
    """Keep the last ``limit`` characters of an error text (a traceback's end says the most)."""
    if text is None or len(text) <= limit:
        return text
    return f"[{len(text) - limit} characters cut]\n" + text[-limit:]


def check_state(state: str, allowed: Iterable[str], argument: str) -> None:
    """ValueError naming ``argument`` unless ``state`` is one of ``allowed``."""
    if state not in allowed:
        raise ValueError(f"{argument}: {state!r} is not one of {', '.join(allowed)}")


def history_rows(
    rows: list[dict], start: int, texts: list[str] | None = None
) -> list[tuple[int, str]]:
    """``(step, JSON text)`` per row: its ``_step``, else one more than the previous row's
    (the first: ``start``). ``texts``: the rows' JSON already made."""
    out, step = [], start
    for i, row in enumerate(rows):
        if "_step" in row:
            step = step_number(row["_step"])
            text = texts[i] if texts else to_json(row, "history row")
        else:
            text = to_json({**row, "_step": step}, "history row")
        out.append((step, text))
        step += 1
    return out


def death_note(row: Any, now: float, stale_after: float, dead_pids_on: str | None) -> str:
    """Why a running run counts as crashed (its process gone, its heartbeat stale), or ""."""
    where = f"host {row.host}, pid {row.pid}"
    local = dead_pids_on is not None and row.host == dead_pids_on and row.pid
    if local and not pid_alive(row.pid):
        return f"crashed: its process is gone ({where})"
    age = now - (row.heartbeat or 0.0)
    if age > stale_after:
        return f"crashed: no heartbeat for {age:.0f} s ({where})"
    return ""


def control_reply(run: Any, sweep_state: str | None) -> dict:
    """The control dict a log or heartbeat answers (see ``Store.log``)."""
    if run.stop_requested:
        return {"stop": True, "reason": from_json(run.stop_reason), "sweep_state": sweep_state}
    if sweep_state == "cancelled":
        reason = {"rule": "cancel", "message": "the sweep was cancelled"}
        return {"stop": True, "reason": reason, "sweep_state": sweep_state}
    if run.state in ("finished", "failed", "stopped", "killed"):
        reason = {"rule": "ended", "message": f"the run is already {run.state}"}
        return {"stop": True, "reason": reason, "sweep_state": sweep_state}
    return {"stop": False, "reason": None, "sweep_state": sweep_state}


def step_number(value: Any) -> int:
    """A history row's ``_step`` as an int (numpy integers too); StoreError otherwise."""
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()  # numpy integer
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StoreError(f"history row _step: expected an integer, got {value!r}")
    return int(value)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
