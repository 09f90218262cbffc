"""The argv and environment of a program run, with W&B's ``command`` macros (reference §4).

A config's ``command`` is a list; ``${envvar:NAME}`` is substituted inside every element first,
then each element that is a whole ``${macro}`` is replaced by its tokens (``${args}`` gives one
``--k=v`` per parameter). Everything else passes through literally. The result is an argv list
for ``subprocess.Popen`` — never a shell, so a value like ``a; rm -rf x`` stays one argument.

>>> import sys
>>> argv = build_command(None, program="train.py", params={"lr": 0.01, "bs": 32},
...                      sweep_id="s1", run_id="r1", json_file_dir=None)
>>> argv[1:] == [sys.executable, "train.py", "--bs=32", "--lr=0.01"]
True
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sweepnb.errors import ConfigError, SweepnbWarning

DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
# W&B's pattern: upper-case letters, digits and underscores only; lower-case names stay literal
ENVVAR = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")


def build_command(
    command: Sequence[Any] | None,
    *,
    program: str | None,
    params: Mapping[str, Any],
    sweep_id: str,
    run_id: str,
    json_file_dir: str | os.PathLike | None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv of one run: ``command`` (None or empty: W&B's default) with its macros expanded.

    ``params`` is the run's nested config; top-level keys are passed in sorted order, nested
    values as Python repr (``--opt={'beta': 0.9}``), like W&B. ``${args_json_file}`` writes
    ``<json_file_dir>/sweep-<sweep_id>/config-<run_id>.json``. ``${envvar:NAME}`` reads
    ``environ`` (default ``os.environ``); an unset NAME gives NAME itself, as in W&B.
    Raises ConfigError naming ``program`` when the command needs a program and there is none.

    >>> build_command(["python", "${program}", "${args_no_boolean_flags}"], program="t.py",
    ...               params={"amp": True, "fast": False, "lr": 0.1}, sweep_id="s", run_id="r",
    ...               json_file_dir=None)
    ['python', 't.py', '--amp', '--lr=0.1']
    """
    environ = os.environ if environ is None else environ
    elements = [expand_envvars(element, environ) for element in _checked(command)]
    macros = _macros(program, _sorted(params), sweep_id, run_id, json_file_dir)
    argv: list[str] = []
    for element in elements:
        if element.startswith("${") and element.endswith("}"):
            argv += _expand(element[2:-1], macros)
        else:
            argv.append(element)
    return argv


def expand_envvars(element: str, environ: Mapping[str, str]) -> str:
    """``element`` with every ``${envvar:NAME}`` replaced by ``environ[NAME]``, or NAME if unset.

    >>> expand_envvars("out/${envvar:RUN}/${envvar:NOPE}", {"RUN": "7"})
    'out/7/NOPE'
    """
    return ENVVAR.sub(lambda m: environ.get(m.group(1), m.group(1)), element)


def run_env(
    base_env: Mapping[str, str] | None,
    *,
    sweep_id: str,
    run_id: str,
    store_url: str,
    project: str | None = None,
    entity: str | None = None,
) -> dict[str, str]:
    """The environment of a program run: ``base_env`` (default ``os.environ``) plus the ids
    and store that let ``sweepnb.init()`` in the program join its run.

    W&B's agent variables are set too (``WANDB_SWEEP_ID``, ``WANDB_RUN_ID``, and
    ``WANDB_PROJECT`` / ``WANDB_ENTITY`` when given), with ``SWEEPNB_WANDB_ENV`` saying so: a
    process that removes ``WANDB_RUN_ID`` then starts a run of its own, as with W&B.

    >>> env = run_env({"PATH": "/bin"}, sweep_id="s1", run_id="r1", store_url="x.db")
    >>> env["SWEEPNB_RUN_ID"], env["WANDB_SWEEP_ID"], env["PATH"]
    ('r1', 's1', '/bin')
    """
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        SWEEPNB_SWEEP_ID=str(sweep_id),
        SWEEPNB_RUN_ID=str(run_id),
        SWEEPNB_STORE=str(store_url),
        SWEEPNB_WANDB_ENV="1",
        WANDB_SWEEP_ID=str(sweep_id),
        WANDB_RUN_ID=str(run_id),
    )
    if project:
        env["WANDB_PROJECT"] = str(project)
    if entity:
        env["WANDB_ENTITY"] = str(entity)
    from sweepnb.runtime import hooks  # issue 12: `import wandb` gives sweepnb's

    return hooks.program_env(env)


def format_value(value: Any) -> str:
    """A parameter value as W&B writes it on the command line: ``str()``, i.e. Python repr
    for floats, dicts and lists, strings unquoted.

    >>> format_value(0.001), format_value(True), format_value({"beta": 0.9}), format_value("a b")
    ('0.001', 'True', "{'beta': 0.9}", 'a b')
    """
    return f"{value}"


def json_file_path(json_file_dir: str | os.PathLike, sweep_id: str, run_id: str) -> Path:
    """Where ``${args_json_file}`` writes a run's parameters (W&B's layout under the dir)."""
    return Path(json_file_dir) / f"sweep-{sweep_id}" / f"config-{run_id}.json"


# ---------------------------------------------------------------- macros


def _checked(command: Sequence[Any] | None) -> list[str]:
    if command is None or (isinstance(command, (list, tuple)) and not command):
        return list(DEFAULT_COMMAND)  # W&B: an empty command means the default
    if not isinstance(command, (list, tuple)):
        raise ConfigError(
            f"command: must be a list such as {DEFAULT_COMMAND}, got {type(command).__name__}"
        )
    for i, element in enumerate(command):
        if isinstance(element, (dict, list, tuple)) or element is None:
            raise ConfigError(f"command[{i}]: must be a string, got {element!r}")
    return [str(element) for element in command]  # YAML numbers become text, as in W&B


def _sorted(params: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise TypeError(f"params: must be a dict of parameter values, got {type(params).__name__}")
    return {str(k): params[k] for k in sorted(params, key=str)}


def _macros(
    program: str | None,
    params: dict[str, Any],
    sweep_id: str,
    run_id: str,
    json_file_dir: str | os.PathLike | None,
) -> dict[str, Callable[[], list[str]]]:
    # each macro is computed only when used: ${program} may be absent, the JSON file is
    # written only when ${args_json_file} appears
    return {
        "env": lambda: [] if os.name == "nt" else ["/usr/bin/env"],
        "interpreter": lambda: [sys.executable],
        "program": lambda: [_program(program)],
        "args": lambda: [f"--{k}={format_value(v)}" for k, v in params.items()],
        "args_no_equals": lambda: [
            t for k, v in params.items() for t in (f"--{k}", format_value(v))
        ],
        "args_no_hyphens": lambda: [f"{k}={format_value(v)}" for k, v in params.items()],
        "args_no_boolean_flags": lambda: _no_boolean_flags(params),
        "args_json": lambda: [json.dumps(params)],
        "args_json_file": lambda: [_write_json(json_file_dir, sweep_id, run_id, params)],
        "args_append_hydra": lambda: [f"+{k}={format_value(v)}" for k, v in params.items()],
        "args_override_hydra": lambda: [f"++{k}={format_value(v)}" for k, v in params.items()],
    }


def _expand(name: str, macros: dict[str, Callable[[], list[str]]]) -> list[str]:
    if name in macros:
        return macros[name]()
    warnings.warn(
        f"command: unknown macro ${{{name}}} expands to nothing (as in W&B); "
        f"known: {', '.join(sorted(macros))}, envvar:NAME",
        SweepnbWarning,
        stacklevel=3,
    )
    return []


def _program(program: str | None) -> str:
    if not program:
        raise ConfigError(
            "program: the command uses ${program} but the sweep config has no program "
            "(add e.g. `program: train.py`, or pass a function to the agent)"
        )
    return str(program)


def _no_boolean_flags(params: dict[str, Any]) -> list[str]:
    out = []
    for k, v in params.items():
        if v is True:
            out.append(f"--{k}")
        elif v is not False:
            out.append(f"--{k}={format_value(v)}")
    return out


def _write_json(
    json_file_dir: str | os.PathLike | None, sweep_id: str, run_id: str, params: dict
) -> str:
    if json_file_dir is None:
        raise ValueError("json_file_dir: needed because the command uses ${args_json_file}")
    path = json_file_path(json_file_dir, sweep_id, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(params), encoding="utf-8")
    return str(path)
