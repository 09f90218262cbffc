"""``api.runs(path, filters={...})``: the MongoDB-style queries W&B's public API documents,
answered on the store's run dicts.

Fields, as W&B names them: ``state``, ``sweep`` (its id), ``name`` (in W&B's filters the run's
id), ``display_name`` / ``displayName``, ``tags``, ``group``, ``job_type`` / ``jobType``,
``notes``, ``created_at`` / ``createdAt`` (ISO text, ``2026-12-04T15:31:07Z``), ``project``,
``config.KEY`` (``config.KEY.value`` too: W&B stores a config value under ``value``), nested
keys dotted (``config.optimizer.lr``), and ``summary_metrics.KEY``.

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex`` on a field, ``$not`` around
them, ``$and $or $nor`` over lists of queries. As in MongoDB, a list value (``tags``) matches
when one of its items does, and a comparison never matches a value of another kind (a string is
not greater than a number). An unknown operator or field is an error naming it.

>>> query = compile_filters({"config.lr": {"$gt": 0.01}, "state": "finished"})
>>> query({"state": "finished", "config": {"lr": 0.1}, "summary": {}, "info": {}})
True
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from sweepnb.compat.api_paths import iso_utc
from sweepnb.errors import SweepnbError

Query = Callable[[dict], bool]
_MISSING = object()

_RECORD_FIELDS = {  # W&B's filter field -> how to read it from a run dict
    "state": lambda r: r.get("state"),
    "sweep": lambda r: r.get("sweep_id"),
    "name": lambda r: r.get("id"),
    "id": lambda r: r.get("id"),
    "display_name": lambda r: _info(r).get("name") or r.get("id"),
    "displayName": lambda r: _info(r).get("name") or r.get("id"),
    "tags": lambda r: list(_info(r).get("tags") or []),
    "group": lambda r: _info(r).get("group"),
    "job_type": lambda r: _info(r).get("job_type"),
    "jobType": lambda r: _info(r).get("job_type"),
    "notes": lambda r: _info(r).get("notes"),
    "project": lambda r: r.get("project"),
    "created_at": lambda r: _iso(r.get("created")),
    "createdAt": lambda r: _iso(r.get("created")),
}
_NESTED = {"config": "config", "summary_metrics": "summary"}
FIELD_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex")
LOGICAL_OPERATORS = ("$and", "$or", "$nor")


class FilterError(SweepnbError, ValueError):
    """A ``filters=`` query sweepnb cannot answer; the message names the field or operator."""


def compile_filters(filters: Mapping | None) -> Query:
    """A predicate on run dicts for ``filters`` (None: every run). Checks the whole query first,
    so a bad operator fails at once even when no run would reach it."""
    if filters is None:
        return lambda record: True
    if not isinstance(filters, Mapping):
        raise TypeError(f"filters: expected a dict, got {type(filters).__name__}")
    return _document(filters, "filters")


def _document(query: Mapping, where: str) -> Query:
    """All of a query document's clauses (MongoDB's implicit ``$and``)."""
    if not isinstance(query, Mapping):
        raise FilterError(f"{where}: expected a query dict, got {query!r}")
    clauses = [_clause(key, value, where) for key, value in query.items()]
    return lambda record: all(clause(record) for clause in clauses)


def _clause(key: Any, value: Any, where: str) -> Query:
    if not isinstance(key, str):
        raise FilterError(f"{where}: field names are strings, got {key!r}")
    if key in LOGICAL_OPERATORS:
        return _logical(key, value, where)
    if key.startswith("$"):
        raise _unknown_operator(key, where)
    read = _field(key, where)
    test = _condition(value, f"{where}.{key}")
    return lambda record: test(read(record))


def _logical(op: str, value: Any, where: str) -> Query:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise FilterError(f"{where}.{op}: expected a non-empty list of query dicts, got {value!r}")
    parts = [_document(part, f"{where}.{op}[{i}]") for i, part in enumerate(value)]
    if op == "$and":
        return lambda record: all(part(record) for part in parts)
    if op == "$or":
        return lambda record: any(part(record) for part in parts)
    return lambda record: not any(part(record) for part in parts)  # $nor


def _field(key: str, where: str) -> Callable[[dict], Any]:
    """How to read field ``key`` of a run dict (``_MISSING`` where the run has no such value)."""
    if key in _RECORD_FIELDS:
        return _RECORD_FIELDS[key]
    prefix, _, path = key.partition(".")
    if prefix in _NESTED and path:
        source = _NESTED[prefix]
        parts = path.split(".")
        return lambda record: _dig(record.get(source) or {}, parts)
    known = ", ".join([*_RECORD_FIELDS, "config.KEY", "summary_metrics.KEY"])
    raise FilterError(f"{where}: field {key!r} is not one sweepnb filters on (it knows {known})")


def _dig(values: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if isinstance(values, Mapping) and part in values:
            values = values[part]
        elif part == "value" and i == len(parts) - 1:
            return values  # W&B's config.KEY.value: the value itself here
        else:
            return _MISSING
    return values


def _condition(spec: Any, where: str) -> Callable[[Any], bool]:
    """A test of one field's value: a plain value means ``$eq``; a dict of operators, all."""
    if isinstance(spec, Mapping) and any(str(k).startswith("$") for k in spec):
        tests = [_operator(op, arg, where) for op, arg in spec.items()]
        return lambda value: all(test(value) for test in tests)
    return lambda value: _equal(value, spec)


def _operator(op: Any, arg: Any, where: str) -> Callable[[Any], bool]:
    if op == "$not":
        inner = _condition(arg, f"{where}.$not")
        return lambda value: not inner(value)
    if op not in FIELD_OPERATORS:
        raise _unknown_operator(op, where)
    if op == "$eq":
        return lambda value: _equal(value, arg)
    if op == "$ne":
        return lambda value: not _equal(value, arg)
    if op in ("$in", "$nin"):
        if isinstance(arg, (str, bytes)) or not isinstance(arg, (list, tuple, set)):
            raise FilterError(f"{where}.{op}: expected a list of values, got {arg!r}")
        choices = list(arg)
        found = lambda value: any(_equal(value, c) for c in choices)
        return found if op == "$in" else (lambda value: not found(value))
    if op == "$exists":
        return lambda value: (value is not _MISSING and value is not None) == bool(arg)
    if op == "$regex":
        try:
            pattern = re.compile(arg)
        except (re.error, TypeError) as err:
            raise FilterError(f"{where}.$regex: {arg!r} is not a regular expression: {err}")
        return lambda value: any(isinstance(v, str) and pattern.search(v) for v in _items(value))
    return _comparison(op, arg, where)


def _comparison(op: str, arg: Any, where: str) -> Callable[[Any], bool]:
    if not (_is_number(arg) or isinstance(arg, str)):
        raise FilterError(f"{where}.{op}: expected a number or a string, got {arg!r}")
    compare = {
        "$gt": lambda a, b: a > b,
        "$gte": lambda a, b: a >= b,
        "$lt": lambda a, b: a < b,
        "$lte": lambda a, b: a <= b,
    }[op]

    def test(value: Any) -> bool:
        return any(_comparable(v, arg) and compare(v, arg) for v in _items(value))

    return test


def _unknown_operator(op: Any, where: str) -> FilterError:
    known = " ".join(FIELD_OPERATORS + ("$not",) + LOGICAL_OPERATORS)
    return FilterError(f"{where}: operator {op!r} is not supported (sweepnb knows {known})")


def _items(value: Any) -> list:
    """The values a field holds: a list's items (and the list), else the value alone."""
    if value is _MISSING or value is None:
        return []
    return [value, *value] if isinstance(value, list) else [value]


def _equal(value: Any, wanted: Any) -> bool:
    if value is _MISSING:
        return wanted is None  # MongoDB: {field: null} matches a missing field
    if isinstance(value, list) and not isinstance(wanted, list):
        return any(_same(item, wanted) for item in value)
    return _same(value, wanted)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b  # True is not 1 in a query
    return a == b


def _comparable(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return not (isinstance(a, float) and math.isnan(a))
    return isinstance(a, str) and isinstance(b, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _info(record: dict) -> dict:
    info = record.get("info")
    return info if isinstance(info, dict) else {}


def _iso(epoch: Any) -> str | None:
    return iso_utc(epoch) if isinstance(epoch, (int, float)) else None


def sweep_filter(filters: Mapping | None) -> str | None:
    """The sweep id of a top-level ``{"sweep": ID}`` clause (so only that sweep is read)."""
    if not isinstance(filters, Mapping):
        return None
    sweep = filters.get("sweep")
    if sweep is None or isinstance(sweep, Mapping):  # {"$in": [...]} etc.: the query filters
        return None
    if not isinstance(sweep, str) or not sweep:
        raise FilterError(f"filters.sweep: expected a sweep id, got {sweep!r}")
    return sweep
