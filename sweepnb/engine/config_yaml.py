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

from sweepnb.engine.config_schema import _key_path
from sweepnb.errors import ConfigError

__all__ = ["is_file_source", "parse_yaml", "read_source", "to_yaml"]


# ----------------------------------------------------------------------------------------------
# YAML


# Exponent floats that YAML 1.1 (PyYAML) leaves as strings: 1e-5, 1E5, -2e-3, 1.0e5, .5e3.
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_FLOAT_TAG = "tag:yaml.org,2002:float"


#: The most values that YAML aliases may add to a config. Nested aliases grow exponentially
#: ("billion laughs": 12 levels of 9 aliases in 591 bytes), and a config is copied and validated
#: value by value; real configs reuse a few small blocks.
ALIAS_BUDGET = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """Safe loader that reads exponent numbers as floats and dates as plain strings, counts what
    aliases expand to (refused beyond ``ALIAS_BUDGET``) and notes duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[yaml.Node, int] = {}  # values below each node, aliases expanded
        self._aliased = 0
        self._path: list[Any] = []
        self.duplicates: list[tuple[tuple, int, int]] = []  # (key path, first line, second line)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._count_alias(node, mark)
            return node
        self._path.append(_step(parent, index))
        try:
            node = super().compose_node(parent, index)
        finally:
            self._path.pop()
        self._sizes[node] = 1 + sum(self._sizes.get(child, 1) for child in _children(node))
        return node

    def _count_alias(self, node: yaml.Node, mark: yaml.Mark) -> None:
        size = self._sizes.get(node)
        if size is None:  # the anchored node is still open: the alias is inside it
            raise yaml.composer.ComposerError(
                None, None, "an alias inside its own anchor makes a value that never ends", mark
            )
        self._aliased += size
        if self._aliased > ALIAS_BUDGET:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases expand to more than {ALIAS_BUDGET:,} values (aliases of aliases grow "
                "exponentially); write the values out",
                mark,
            )

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        path = tuple(step for step in self._path if step is not None)
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self._scalar_key(key_node)
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            if key in first:
                self.duplicates.append(((*path, str(key)), first[key], line))
            else:
                first[key] = line
        return node

    def _scalar_key(self, node: yaml.Node) -> Any:
        """The value of a plain key (None for merge keys, collections and keys that fail)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == _MERGE_TAG:
            return None
        try:
            key = self.construct_object(node)
            hash(key)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            return None  # the constructor reports it in its own words
        return key


def _step(parent: yaml.Node | None, index: Any) -> Any:
    """The key path step of a node composed under ``parent`` (None for the root and for keys)."""
    if isinstance(parent, yaml.SequenceNode):
        return index
    if isinstance(parent, yaml.MappingNode) and isinstance(index, yaml.ScalarNode):
        return str(index.value)
    return None if index is None else "?"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


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

    Syntax errors become a :class:`ConfigError` with the line and column; so do aliases that
    expand beyond ``ALIAS_BUDGET`` values. Duplicate keys are a ConfigError naming each key
    and both lines.

    >>> parse_yaml("lr: 1e-5")
    {'lr': 1e-05}
    >>> parse_yaml("method: grid\\nmethod: random")
    Traceback (most recent call last):
    ...
    sweepnb.errors.ConfigError: invalid sweep config: method: duplicate key on lines 1 and 2
    """
    loader = None
    try:
        loader = _Loader(text)
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_yaml_message(err, origin)) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:
        raise ConfigError(f"{origin}: cannot be read: {err}") from None
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if loader.duplicates:
        of = "" if origin == "YAML" else f" of {origin}"
        raise ConfigError(
            [
                f"{_key_path(path)}: duplicate key "
                + (
                    f"on lines {first} and {second}"
                    if first != second
                    else f"twice on line {first}"
                )
                + of
                for path, first, second in sorted(loader.duplicates, key=lambda d: d[1:])
            ]
        )
    return data


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
