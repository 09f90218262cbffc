"""How ``import wandb`` finds sweepnb's W&B surface without an edit to the script.

This folder holds a real package ``wandb/`` whose modules forward to ``sweepnb.compat``. Putting
the folder first on ``PYTHONPATH`` makes ``import wandb`` (and ``wandb.keras``,
``wandb.integration.xgboost``...) import it, in the program and in every process the program
starts, even one that clears the ``WANDB_*`` variables. Three ways in:

- a program run of ``sweepnb agent``: :func:`program_env` (called where the run's environment
  is built) adds the folder when the real ``wandb`` is not installed, or when
  ``--wandb sweepnb`` / ``SWEEPNB_WANDB=sweepnb`` asks for it;
- a shell: ``export PYTHONPATH=$(sweepnb wandb-path)`` (:func:`shim_path`);
- Python: ``import sweepnb.compat.enable`` (:func:`enable`: a meta-path finder, and the folder on
  ``PYTHONPATH`` for the processes started afterwards).

    >>> (Path(shim_path()) / "wandb" / "__init__.py").is_file()
    True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sweepnb.compat.names import NotSupported, notice_once, resolve
from sweepnb.errors import SweepnbError, SweepnbWarning

CHOICE_ENV = "SWEEPNB_WANDB"
CHOICES = ("sweepnb", "real")
SHIM_DIR = str(Path(__file__).resolve().parent)
# the shim's submodules: `wandb.keras` etc. are attributes of `wandb` once imported, like W&B's
SUBMODULES = (
    "keras", "integration", "sklearn", "plot", "errors", "util", "apis", "data_types",
    "sdk", "env", "wandb_run",  # issue 24: what Transformers' and Lightning's integrations import
)  # fmt: skip
# issue 24: the shim's package metadata, so `importlib.metadata.version("wandb")` answers (as
# Lightning's `RequirementCache("wandb>=0.12.10")` asks): the W&B API version it follows
DIST_INFO = next(Path(__file__).resolve().parent.glob("wandb-*.dist-info"), None)

_local = threading.local()  # .choice: the `wandb=` of the agent running in this thread


def shim_path() -> str:
    """The folder to put first on ``PYTHONPATH`` so that ``import wandb`` gives sweepnb's.

    >>> import os; os.path.basename(shim_path())
    'shim'
    """
    return SHIM_DIR


def real_wandb_origin(path: list[str] | None = None) -> str | None:
    """Where the real ``wandb`` package is installed for this interpreter, or None.

    Looks on ``sys.path`` (or ``path``) without the shim folder and without importing anything,
    so an agent that itself runs with the shim enabled still sees the real one.
    """
    search = [p for p in (sys.path if path is None else path) if not _is_shim_dir(p)]
    spec = importlib.machinery.PathFinder.find_spec("wandb", search)
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in"):
        return str(Path(spec.origin).parent)
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else None


def _is_shim_dir(entry: str) -> bool:
    try:
        return bool(entry) and Path(entry).resolve() == Path(SHIM_DIR)
    except OSError:
        return False


def check_choice(value: Any, what: str = "wandb") -> str | None:
    """``value`` checked as a choice of wandb for program runs: None, "sweepnb" or "real".

    >>> check_choice("Sweepnb")
    'sweepnb'
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in CHOICES:
        return value.strip().lower()
    raise SweepnbError(f"{what}: expected 'sweepnb' or 'real', got {value!r}")


@contextlib.contextmanager
def program_wandb(choice: str | None) -> Iterator[None]:
    """Within: program runs started by this thread's agent get ``choice`` (None: automatic)."""
    previous = getattr(_local, "choice", None)
    _local.choice = check_choice(choice)
    try:
        yield
    finally:
        _local.choice = previous


def chosen_wandb(environ: Mapping[str, str] | None = None) -> str:
    """Which ``wandb`` a program run gets: "sweepnb" or "real" (says once which, when both exist).

    The agent's ``wandb=`` / ``--wandb`` first, then ``$SWEEPNB_WANDB``; without either, sweepnb's
    when the real package is not installed, else the real one (never shadowed silently).
    """
    environ = os.environ if environ is None else environ
    choice = getattr(_local, "choice", None)
    source = "--wandb" if choice else CHOICE_ENV
    if choice is None:
        choice = check_choice(environ.get(CHOICE_ENV), CHOICE_ENV)
    real = real_wandb_origin()
    if choice is None:
        choice = "real" if real else "sweepnb"
        if real:
            notice_once(
                "program-wandb",
                f"program runs import the installed wandb ({real}); for sweepnb's offline "
                f"wandb use `sweepnb agent --wandb sweepnb` or {CHOICE_ENV}=sweepnb",
            )
    elif choice == "sweepnb" and real:
        notice_once(
            "program-wandb",
            f"program runs import sweepnb's offline wandb ({source}), not the installed one "
            f"({real})",
        )
    elif choice == "real" and not real:
        notice_once(
            "program-wandb",
            f"program runs are to import the real wandb ({source}=real) but it is not installed "
            "here: their `import wandb` will fail",
        )
    return choice


def program_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` (a program run's environment) with the shim folder first on ``PYTHONPATH`` when
    the run gets sweepnb's wandb, and without it when it gets the real one.

    >>> program_env({"SWEEPNB_WANDB": "sweepnb"})["PYTHONPATH"] == shim_path()
    True
    """
    path = _pythonpath(env.get("PYTHONPATH", ""), shim_first=chosen_wandb(env) == "sweepnb")
    if path:
        env["PYTHONPATH"] = path
    else:
        env.pop("PYTHONPATH", None)
    return env


def _pythonpath(current: str, *, shim_first: bool) -> str:
    parts = [p for p in current.split(os.pathsep) if p and not _is_shim_dir(p)]
    return os.pathsep.join(([SHIM_DIR] if shim_first else []) + parts)


# ---------------------------------------------------------------------------------------------
# In a running interpreter: the meta-path finder
# ---------------------------------------------------------------------------------------------


class WandbFinder(importlib.abc.MetaPathFinder):
    """Finds ``wandb`` in the shim folder; its submodules follow through ``wandb.__path__``."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "wandb":
            return None
        return importlib.machinery.PathFinder.find_spec("wandb", [SHIM_DIR])

    def find_distributions(self, context: Any = None) -> list:
        """The shim's ``wandb`` metadata (issue 24), unless the folder is on ``sys.path``
        already (the path finder gives it then)."""
        name = getattr(context, "name", None)
        if DIST_INFO is None or name not in (None, "wandb") or any(map(_is_shim_dir, sys.path)):
            return []
        import importlib.metadata

        return [importlib.metadata.PathDistribution(DIST_INFO)]


def is_shim(module: Any) -> bool:
    """True when ``module`` is the shim's ``wandb`` package (not the real one)."""
    return bool(getattr(module, "__sweepnb_shim__", False))


def enable() -> str:
    """Make ``import wandb`` give sweepnb's wandb here and in processes started afterwards.

    Installs :class:`WandbFinder` first on ``sys.meta_path`` and puts the shim folder first on
    ``os.environ["PYTHONPATH"]``. Says once when it shadows an installed wandb; warns (and
    changes nothing here) when the real wandb is already imported. Returns the shim folder.

    >>> enable()                    # doctest: +SKIP
    '.../sweepnb/compat/shim'
    """
    loaded = sys.modules.get("wandb")
    if loaded is not None and not is_shim(loaded):
        warnings.warn(
            "sweepnb.compat.enable: the real wandb is already imported in this process; enable "
            "sweepnb's before the first `import wandb`",
            SweepnbWarning,
            stacklevel=2,
        )
        return SHIM_DIR
    _by_extension[0] = False  # an explicit call: %unload_ext leaves it on
    if not any(isinstance(f, WandbFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, WandbFinder())
    os.environ["PYTHONPATH"] = _pythonpath(os.environ.get("PYTHONPATH", ""), shim_first=True)
    real = real_wandb_origin()
    if real:
        notice_once("enable", f"`import wandb` gives sweepnb's offline wandb, not {real}")
    return SHIM_DIR


def enable_if_no_wandb() -> bool:
    """:func:`enable` when the real wandb is not installed (``%load_ext sweepnb`` calls it)."""
    if real_wandb_origin() is not None:
        return False
    explicit = any(isinstance(f, WandbFinder) for f in sys.meta_path)
    enable()
    _by_extension[0] = not explicit
    return True


_by_extension = [False]  # whether the switch is on only because of `%load_ext sweepnb`


def disable_if_enabled_by_extension() -> None:
    """Undo :func:`enable_if_no_wandb` (``%unload_ext sweepnb``), unless enabled explicitly too.

    A ``wandb`` already imported stays what it is; later imports and new processes are as before.
    """
    if not _by_extension[0]:
        return
    _by_extension[0] = False
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, WandbFinder)]
    path = _pythonpath(os.environ.get("PYTHONPATH", ""), shim_first=False)
    if path:
        os.environ["PYTHONPATH"] = path
    else:
        os.environ.pop("PYTHONPATH", None)


# ---------------------------------------------------------------------------------------------
# What the shim package's modules call
# ---------------------------------------------------------------------------------------------


class _UnsupportedSubmodules(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: a ``wandb.x`` module the shim lacks is refused by name."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.startswith("wandb.") and is_shim(sys.modules.get("wandb")):
            raise ModuleNotFoundError(
                f"{fullname}: sweepnb does not support this W&B module (offline W&B: see the "
                "README section 'Running W&B code unchanged')",
                name=fullname,
            )
        return None


def install_package(namespace: dict) -> None:
    """Fill the shim ``wandb/__init__.py``'s namespace: W&B's names resolve in sweepnb.compat."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name in SUBMODULES:
            try:
                return importlib.import_module(f"{package}.{name}")
            except ImportError as err:  # `hasattr(wandb, "plot")` stays False, with the cause
                text = str(err) if err.name == f"{package}.{name}" else f"{package}.{name}: {err}"
                raise NotSupported(text) from None
        value = resolve(name, prefix="wandb")
        if name != "run":
            namespace[name] = value
        return value

    def __dir__() -> list[str]:
        import sweepnb.compat

        return sorted(set(namespace) | set(dir(sweepnb.compat)) | set(SUBMODULES))

    from sweepnb._meta import __version__

    namespace.update(__getattr__=__getattr__, __dir__=__dir__, __version__=__version__)
    namespace["__sweepnb_shim__"] = True
    if not any(isinstance(f, _UnsupportedSubmodules) for f in sys.meta_path):
        sys.meta_path.append(_UnsupportedSubmodules())


def forward(namespace: dict, target: str) -> None:
    """Make the shim module ``namespace`` answer with module ``target``'s names.

    ``target`` is imported now, so ``import wandb.sklearn`` fails with a clear message (naming
    the module) when this copy of sweepnb lacks it, and ``import wandb`` never does.
    """
    shim_name = namespace["__name__"]
    try:
        module = importlib.import_module(target)
    except ModuleNotFoundError as err:
        if err.name and target.startswith(err.name):
            raise ModuleNotFoundError(
                f"{shim_name}: sweepnb does not support it in this installation "
                f"({target} is missing)",
                name=shim_name,
            ) from None
        raise

    def __getattr__(name: str) -> Any:
        try:
            return getattr(module, name)
        except NotSupported:
            raise
        except AttributeError:
            if name.startswith("_"):
                raise
            raise NotSupported(f"{shim_name}.{name}: sweepnb does not support it") from None

    def __dir__() -> list[str]:
        return sorted(set(namespace) | {n for n in dir(module) if not n.startswith("_")})

    namespace.update(__getattr__=__getattr__, __dir__=__dir__)
    namespace.setdefault("__doc__", module.__doc__)
    if hasattr(module, "__all__"):
        namespace["__all__"] = list(module.__all__)
