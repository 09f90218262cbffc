"""Reading sweep configs: YAML with sweepnb's rules, and where a config comes from.

``load_config`` (``sweepnb.config``) calls :func:`read_source`; ``parse_yaml`` and ``to_yaml``
are re-exported there. YAML is read with a safe loader in which ``1e-5`` is a float (PyYAML
reads it as a string) and dates stay strings.

>>> parse_yaml("lr: 1e-5")
{'lr': 1e-05}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sweepnb.errors import ConfigError

__all__ = ["is_file_source", "parse_yaml", "read_source", "to_yaml"]


# ----------------------------------------------------------------------------------------------
# YAML


# Exponent floats that YAML 1.1 (PyYAML) leaves as strings: 1e-5, 1E5, -2e-3, 1.0e5, .5e3.
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_FLOAT_TAG = "tag:yaml.org,2002:float"


class _Loader(yaml.SafeLoader):
    """Safe loader that reads exponent numbers as floats and dates as plain strings."""


_Loader.add_implicit_resolver(_FLOAT_TAG, _EXP_FLOAT, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


class _Dumper(yaml.SafeDumper):
    """Safe dumper that quotes strings our loader would read as numbers, never uses aliases,
    and writes short lists of plain values on one line."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_implicit_resolver(_FLOAT_TAG, _EXP_FLOAT, list("-+0123456789."))


def _represent_list(dumper: yaml.SafeDumper, data: list | tuple) -> yaml.Node:
    scalars = all(isinstance(x, (str, int, float)) or x is None for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=scalars)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # PyYAML writes NEL (U+0085) raw in quoted scalars and then reads it as a line break.
    style = '"' if "\x85" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(tuple, _represent_list)


def parse_yaml(text: str, *, origin: str = "YAML") -> Any:
    """Parse YAML text with sweepnb's safe loader (``1e-5`` is a float).

    Syntax errors become a :class:`ConfigError` with the line and column.

    >>> parse_yaml("lr: 1e-5")
    {'lr': 1e-05}
    """
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_yaml_message(err, origin)) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:
        raise ConfigError(f"{origin}: cannot be read: {err}") from None
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply") from None


def _yaml_message(err: yaml.MarkedYAMLError, origin: str) -> str:
    mark = err.problem_mark or err.context_mark
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = " ".join(str(x) for x in (err.context, err.problem) if x)
    return f"{origin}{where}: {what or 'invalid YAML'}"


def to_yaml(cfg: Mapping[str, Any]) -> str:
    """Readable YAML for a config (safe dump, key order kept); ``parse_yaml`` reads it back.

    >>> print(to_yaml({"method": "grid", "parameters": {"x": {"values": [1, 2]}}}), end="")
    method: grid
    parameters:
      x:
        values: [1, 2]
    """
    return yaml.dump(
        cfg,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )


# ----------------------------------------------------------------------------------------------
# Reading the source


def read_source(source: Any) -> Any:
    """The data of a config ``source``: a mapping as is, YAML text parsed, a path read.

    A ``str`` is a path when it ends in .yaml/.yml/.json or names a file, else YAML text.
    """
    if isinstance(source, Mapping):
        return source
    if isinstance(source, os.PathLike):
        return _read_file(Path(source))
    if isinstance(source, str):
        return _read_file(Path(source)) if _looks_like_path(source) else parse_yaml(source)
    raise ConfigError(
        "config: a sweep config must be a dict, YAML text or a path to a .yaml/.yml/.json file, "
        f"got {type(source).__name__}"
    )


def _looks_like_path(text: str) -> bool:
    if "\n" in text or re.search(r":(\s|$)", text):
        return False
    if text.strip().lower().endswith((".yaml", ".yml", ".json")):
        return True
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def is_file_source(source: str | os.PathLike[str]) -> bool:
    """True when ``read_source`` would read ``source`` as a file."""
    return isinstance(source, os.PathLike) or _looks_like_path(source)


def _read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM (Windows editors)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file ({err})") from None
    if path.suffix.lower() == ".json":
        return _parse_json(text, path)
    return parse_yaml(text, origin=str(path))


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} line {err.lineno}, column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
