"""The `%sweep` and `%agent` magics (`%load_ext sweepnb`).

    %load_ext sweepnb
    %%sweep                       # a YAML (or Python dict) body creates a sweep
    method: random
    metric: {name: loss}
    parameters: {lr: {min: 0.001, max: 0.1}}

    sid = %sweep sweep.yaml       # a file, `{dict_var}` or a variable name; returns the id
    %sweep                        # the config form (ipywidgets)
    %sweep --edit sweep.yaml      # the form, pre-filled
    %sweep ls                     # the sweeps in the store
    %sweep show                   # the current sweep's runs
    %sweep --pause                # --stop, --pause, --resume, --cancel [ID]
    h = %agent train --count 8 --jobs 2   # h.df, h.best
    h = %agent train --background         # then `await h`: the Stop button works meanwhile

The last sweep created or named becomes the *current sweep*, used when an ID is left out.
Settings: `%config SweepMagics.store = "sqlite:///sweeps.db"`.
Errors in what the user typed are one-line `UsageError`s, never tracebacks.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import ArgDecorator, argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import Unicode

from sweepnb import options as shared
from sweepnb.errors import SweepnbError, SweepNotFound, one_line
from sweepnb.notebook.handle import AgentHandle, open_store

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell


try:  # IPython >= 8.11: a trailing ';' hides the returned value, as for any expression
    from IPython.core.magic import output_can_be_silenced
except ImportError:  # pragma: no cover - older IPython

    def output_can_be_silenced(func):
        return func


_SWEEP_COMMANDS = ("ls", "show")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*$")


class shared_arguments(ArgDecorator):
    """Add the options the `sweepnb` command defines (`add_sweep_arguments`, ...) to a magic."""

    def __init__(self, add_arguments: Callable[[argparse.ArgumentParser], None]):
        self.add_arguments = add_arguments

    def add_to_parser(self, parser: argparse.ArgumentParser, group: Any) -> None:
        self.add_arguments(parser)


def friendly_errors(func: Callable) -> Callable:
    """Turn sweepnb's own errors into one-line UsageErrors (no traceback in the notebook)."""

    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SweepnbError as exc:
            raise UsageError(one_line(exc)) from None

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = func.__name__, func.__doc__, func
    wrapper.__dict__.update(func.__dict__)
    return wrapper


@magics_class
class SweepMagics(Magics):
    """The `%sweep` and `%agent` magics; holds the current sweep id."""

    store = Unicode(
        None, allow_none=True, help="store URL or path (default: $SWEEPNB_STORE or ./.sweepnb)"
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self.current: str | None = None
        self.builders: list = []  # forms shown, newest last (kept so their callbacks live)

    # ------------------------------------------------------------------------------ %sweep

    @no_var_expand
    @magic_arguments()
    @argument(
        "target",
        nargs="*",
        metavar="CONFIG | ls | show [ID] | ID",
        help="a YAML file, {dict_var}, a variable name; `ls`; `show [ID]`; "
        "or the sweep ID for --stop/--pause/--resume/--cancel",
    )
    @argument(
        "--edit",
        metavar="CONFIG",
        default=None,
        help="open the config form pre-filled with CONFIG (a file, variable or sweep ID)",
    )
    @shared_arguments(shared.add_sweep_arguments)
    @output_can_be_silenced
    @line_cell_magic
    @friendly_errors
    def sweep(self, line: str, cell: str | None = None) -> Any:
        """Create, list, show or change sweeps; with no argument, open the config form.

        A cell body (`%%sweep`) is the config, as YAML or a Python dict. A created sweep
        becomes the current sweep and its id is returned: `sid = %sweep sweep.yaml`.
        """
        value, line = self._leading_braces(_without_silencer(line))
        args = parse_argstring(self.sweep, self.shell.var_expand(line))
        store = args.store or self.store
        if args.state_action:
            return self._change_state(args.state_action, _only_id(args.target), store)
        if value is None and args.target and args.target[0] in _SWEEP_COMMANDS:
            return self._sweep_command(args.target[0], args.target[1:], store)
        if args.edit is not None:
            return self._open_form(self._source(args.edit, store=store), store)
        if cell is not None and cell.strip():
            if value is not None or args.target:
                raise UsageError("give the config either in the cell or on the line, not both")
            return self._create(self._cell_config(cell), args, store)
        if value is not None or args.target:
            if value is None and len(args.target) > 1:
                raise UsageError(f"one config expected, got {' '.join(args.target)!r}")
            source = value if value is not None else self._source(args.target[0])
            return self._create(source, args, store)
        return self._open_form(None, store)

    def _leading_braces(self, line: str) -> tuple[Any, str]:
        """`{expr} --opts` -> (value of expr, "--opts"); a dict literal `{...}` works too."""
        stripped = line.lstrip()
        if not stripped.startswith("{"):
            return None, line
        end = _matching_brace(stripped)
        if end is None:
            raise UsageError("unbalanced '{' in the %sweep line")
        inner, rest = stripped[1:end], stripped[end + 1 :]
        for expr in (inner, stripped[: end + 1]):
            try:
                return self.shell.ev(expr), rest
            except SyntaxError:
                continue
            except Exception as exc:  # noqa: BLE001 (the user's expression failed: say which)
                raise UsageError(f"cannot evaluate {{{inner}}}: {one_line(exc)}") from None
        raise UsageError(f"cannot evaluate {stripped[: end + 1]!r}")

    def _cell_config(self, cell: str) -> Any:
        """The body of `%%sweep`: a Python dict expression, else YAML text."""
        body = cell.strip()
        if body.startswith(("{", "dict(")):
            try:
                value = self.shell.ev(body)
            except Exception:  # noqa: BLE001 (not Python: a YAML flow mapping like {method: grid})
                return body
            if isinstance(value, dict):
                return value
        # YAML: one blank line stands for the `%%sweep` line, so that an error's line number is
        # the line the user sees in the cell
        return "\n" + cell.rstrip()

    def _source(self, token: str, store: Any = None) -> Any:
        """What a name on the line stands for: a file, a variable, or (with store) a sweep ID."""
        token = _unquote(token)
        if Path(token).expanduser().is_file():
            return str(Path(token).expanduser())
        if _IDENTIFIER.match(token):
            found, value = self._lookup(token)
            if found:
                if isinstance(value, (dict, str)):
                    return value
                raise UsageError(f"{token} is a {type(value).__name__}, not a config dict or YAML")
        if store is not None or _looks_like_id(token):
            try:
                return open_store(store).get_sweep(token)["config"]
            except SweepNotFound:
                pass
        raise UsageError(f"no file or variable named {token!r}")

    def _lookup(self, name: str) -> tuple[bool, Any]:
        """A (possibly dotted) name in the notebook's namespace."""
        if name in self.shell.user_ns:
            return True, self.shell.user_ns[name]
        try:  # dotted names (module.train) and builtins
            return True, self.shell.ev(name)
        except Exception:  # noqa: BLE001 (not a name in the notebook)
            return False, None

    def _create(self, source: Any, args: Any, store: Any) -> str:
        from sweepnb import api

        sweep_id = api.sweep(
            source, project=args.project, entity=args.entity, store=store, name=args.name
        )
        self.current = sweep_id
        print(f"Created sweep {sweep_id} (now the current sweep). Run it with %agent FUNCTION")
        return sweep_id

    def _change_state(self, action: str, sweep_id: str | None, store: Any) -> None:
        from sweepnb import api

        sweep_id = self._sweep_id(sweep_id)
        getattr(api, action)(sweep_id, store=store)
        self.current = sweep_id
        state = open_store(store).get_sweep(sweep_id)["state"]
        print(f"Sweep {sweep_id}: {action} requested, state is now {state}")

    def _sweep_command(self, command: str, rest: list[str], store: Any) -> Any:
        if command == "ls":
            if rest:
                raise UsageError(f"%sweep ls takes no argument, got {' '.join(rest)!r}")
            from sweepnb.analysis.tables import sweeps_table
            from sweepnb.store import StoreMissing

            try:
                return sweeps_table(open_store(store, create=False))
            except StoreMissing as err:
                print(f"No sweeps yet: {err}")
                return None
        return self._show(_only_id(rest), store)

    def _show(self, sweep_id: str | None, store: Any) -> pd.DataFrame:
        from sweepnb.analysis.tables import sweep_detail

        sweep_id = self._sweep_id(sweep_id)
        line, frame = sweep_detail(open_store(store, create=False), sweep_id)
        self.current = sweep_id
        print(line)
        return frame

    def _open_form(self, config: Any, store: Any) -> None:
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            raise UsageError(
                "the config form needs ipywidgets: run `%pip install ipywidgets` and restart "
                "the kernel, or give the config as YAML in a %%sweep cell"
            ) from None
        from sweepnb.notebook.builder import SweepBuilder

        def became_current(sweep_id: str) -> None:
            self.current = sweep_id

        form = SweepBuilder(config, store=store, on_create=became_current)
        self.builders = [*self.builders[-4:], form]
        display(form)

    def _sweep_id(self, given: str | None) -> str:
        """The sweep ID typed, else the current sweep (made current once it proved valid)."""
        if given:
            return _unquote(given)
        if self.current is None:
            raise UsageError("no current sweep: create one with %sweep, or give its ID")
        return self.current

    # ------------------------------------------------------------------------------ %agent

    @magic_arguments()
    @argument(
        "names",
        nargs="+",
        metavar="[ID] FUNCTION",
        help="the sweep ID (default: the current sweep) and the name of the function "
        "each run calls (defined in the notebook)",
    )
    @argument(
        "--background",
        action="store_true",
        help="return the handle at once, agents running in the background; then `await h` "
        "waits with the dashboard's Stop button working (h.wait() blocks)",
    )
    @argument(
        "--no-dashboard",
        dest="dashboard",
        action="store_false",
        help="do not show the live dashboard",
    )
    @argument(
        "--scale",
        type=float,
        default=1.0,
        help="the dashboard's text size: 1 reads at ~12 px on a 1400 px page; 1.5 or 2 for a "
        "projector",
    )
    @shared_arguments(shared.add_agent_arguments)
    @output_can_be_silenced
    @line_magic
    @friendly_errors
    def agent(self, line: str) -> AgentHandle:
        """Run agents of the current (or given) sweep in the notebook; returns a handle
        with `.df` (the runs DataFrame) and `.best` (the best run).

        With --jobs N, N agents run in parallel through joblib (loky processes by default;
        functions defined in the notebook work there). Interrupting the kernel pauses the
        sweep (running runs finish); a second interrupt stops the running runs.

        The same runs for a whole class: give the config a `seed` and run one job (the
        default): every run, and the iteration early termination stops it at, repeats exactly.
        With several jobs the order of the runs depends on timing and is not reproducible.
        """
        args = parse_argstring(self.agent, _without_silencer(line))
        if len(args.names) > 2:
            raise UsageError(f"expected [ID] FUNCTION, got {' '.join(args.names)!r}")
        sweep_id = self._sweep_id(args.names[0] if len(args.names) == 2 else None)
        store = args.store or self.store
        open_store(store).get_sweep(sweep_id)  # an unknown id fails here, before anything starts
        self.current = sweep_id
        function = self._function(args.names[-1])
        options = shared.agent_options(args)
        from sweepnb.notebook.charts import check_scale

        try:
            check_scale(args.scale, "--scale")
        except ValueError as err:
            raise UsageError(str(err)) from None
        handle = AgentHandle(sweep_id, function, count=args.count, store=store, options=options)
        handle.start(dashboard=args.dashboard, blocking=not args.background, scale=args.scale)
        if not args.background:
            handle.wait()
        return handle

    def _function(self, name: str) -> Callable:
        name = _unquote(name)
        found, value = self._lookup(name) if _IDENTIFIER.match(name) else (False, None)
        if not found:
            callables = [
                key
                for key, item in self.shell.user_ns.items()
                if callable(item) and not key.startswith("_") and not isinstance(item, type)
            ]
            close = difflib.get_close_matches(name, callables, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"unknown function {name!r}{hint}: define it in the notebook first")
        if not callable(value):
            raise UsageError(f"{name} is a {type(value).__name__}, not a function")
        return value


# ------------------------------------------------------------------------------ helpers


def _without_silencer(line: str) -> str:
    """The line without the trailing ';' that only asks IPython to hide the result."""
    stripped = line.rstrip()
    return stripped[:-1] if stripped.endswith(";") else line


def _matching_brace(text: str) -> int | None:
    """Index of the '}' closing the '{' at text[0], skipping quoted strings."""
    depth, quote = 0, None
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return index if char == "}" else None
    return None


def _unquote(text: str) -> str:
    """magic_arguments keeps quotes (`'a b'` arrives quoted): remove one matching pair."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            return str(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            return text[1:-1]
    return text


def _only_id(target: list[str]) -> str | None:
    if len(target) > 1:
        raise UsageError(f"one sweep ID expected, got {' '.join(target)!r}")
    return target[0] if target else None


def _looks_like_id(token: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]{8}", token))


# ------------------------------------------------------------------------------ extension


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics; loading again replaces the previous registration."""
    if "SweepMagics" in ipython.magics_manager.registry:
        unload_ipython_extension(ipython)
    ipython.register_magics(SweepMagics(shell=ipython))


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove the magics (and their settings object) from the shell."""
    manager = ipython.magics_manager
    instance = manager.registry.pop("SweepMagics", None)
    if instance is None:
        return
    for kind, table in instance.magics.items():
        for name in table:
            manager.magics[kind].pop(name, None)
    if instance in getattr(ipython, "configurables", []):
        ipython.configurables.remove(instance)
