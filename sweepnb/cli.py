"""The ``sweepnb`` command: ``sweep``, ``agent``, ``ls``, ``show``, ``export``, ``demo``.

    sweepnb sweep sweep.yaml              # prints the id and the agent command to run
    sweepnb agent SWEEP_ID --count 10 --jobs 2
    sweepnb sweep --pause|--resume|--stop|--cancel SWEEP_ID
    sweepnb ls ; sweepnb show SWEEP_ID ; sweepnb export SWEEP_ID --format csv
    export PYTHONPATH=$(sweepnb wandb-path)   # `import wandb` gives sweepnb's offline wandb

The options shared with the ``%sweep``/``%agent`` magics are defined once, in
``sweepnb.options``. Errors (unknown id, bad config, missing program) print one line
on stderr and exit with code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sweepnb.errors import SweepnbError, one_line
from sweepnb.options import (
    add_agent_arguments,
    add_store_argument,
    add_sweep_arguments,
    agent_options,
    jobs_count,
    parse_sweep_id,
    positive_int,
)

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_GAVE_UP = 1  # an agent stopped by the failure policy (too many failed runs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sweepnb`` command (subcommands and their options)."""
    parser = argparse.ArgumentParser(prog="sweepnb", description="Hyperparameter sweeps, offline.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sweep = sub.add_parser(
        "sweep",
        help="create a sweep, or change its state",
        description="Create a sweep from CONFIG (YAML file), or change the "
        "state of sweep ID with --stop/--cancel/--pause/--resume.",
    )
    sweep.add_argument(
        "target",
        nargs="?",
        metavar="CONFIG_OR_ID",
        help="the sweep config (YAML file); the sweep id with a state flag",
    )
    add_sweep_arguments(sweep)
    sweep.add_argument(
        "--update", metavar="ID", default=None, help="replace the config of sweep ID with CONFIG"
    )
    sweep.add_argument("--program", default=None, help="override the config's program")
    sweep.add_argument(
        "-R",
        "--prior-run",
        dest="prior_runs",
        action="append",
        default=[],
        metavar="ID",
        help="copy the finished runs of sweep ID (or run ID) into the new sweep; repeatable",
    )

    agent = sub.add_parser(
        "agent",
        help="run a sweep's runs in this shell",
        description="Run sweep ID: its program for each new run, until the "
        "sweep is done or --count runs ended.",
    )
    agent.add_argument("sweep_id", metavar="ID")
    add_agent_arguments(agent)

    ls = sub.add_parser("ls", help="list the sweeps of the store")
    add_store_argument(ls)

    show = sub.add_parser("show", help="a sweep's runs, best first")
    show.add_argument("sweep_id", metavar="ID")
    add_store_argument(show)

    export = sub.add_parser("export", help="write a sweep's runs as CSV or JSON")
    export.add_argument("sweep_id", metavar="ID")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=None,
        help="write to this file (or to PATH/ID.csv|json when PATH is a folder) instead of stdout",
    )
    add_store_argument(export)

    media = sub.add_parser("media", help="list the media (images, tables, charts) a run logged")
    media.add_argument("run_id", metavar="RUN_ID")
    add_store_argument(media)
    sub.add_parser(
        "wandb-path",
        help="print the folder that makes `import wandb` give sweepnb's offline wandb",
        description="Print the folder to put first on PYTHONPATH so that `import wandb` gives "
        "sweepnb's offline wandb: export PYTHONPATH=$(sweepnb wandb-path)",
    )

    demo = sub.add_parser("demo", help="run the demo sweep (digits classifier)")
    demo.add_argument("--count", type=positive_int, default=None, metavar="N")
    demo.add_argument("-j", "--jobs", type=jobs_count, default=2, metavar="N")
    add_store_argument(demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sweepnb`` / ``python -m sweepnb``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (SweepnbError, FileNotFoundError) as err:
        print(f"sweepnb {args.command}: error: {one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"sweepnb {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _store(args: argparse.Namespace, *, create: bool = False) -> Any:
    """The store of ``--store``; only ``sweep`` (``create=True``) may create a SQLite store."""
    from sweepnb.store import Store

    return Store(args.store, create=create)


# ---------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> int:
    from sweepnb import api

    if args.state_action and args.update:
        raise SweepnbError(
            "give either a state flag (--stop/--cancel/--pause/--resume) or --update"
        )
    if not args.target:
        what = "the sweep id" if args.state_action else "the sweep config (a YAML file)"
        raise SweepnbError(f"missing {what}")
    store = _store(args, create=not (args.state_action or args.update))
    if args.state_action:
        getattr(api, args.state_action)(args.target, store=store)
        state = store.get_sweep(parse_sweep_id(args.target))["state"]
        print(f"sweep {args.target}: {args.state_action} done, state is now {state}")
        return 0
    if args.update:
        api.update(args.update, _read_config(args.target), store=store)
        print(f"sweep {args.update}: config updated from {args.target}")
        return 0
    sweep_id = api.sweep(
        _read_config(args.target),
        project=args.project,
        entity=args.entity,
        store=store,
        name=args.name,
        program=args.program,
        prior_runs=args.prior_runs,
        check_program=True,
    )
    print(f"Created sweep with ID: {sweep_id}")
    print(f"Run sweep agent with: {agent_command(sweep_id, args.store)}")
    return 0


def _read_config(path: str) -> str:
    """The config file's path, after checking it exists (a clear error, nothing written)."""
    if not os.path.isfile(path):
        raise SweepnbError(f"no such config file: {path}")
    return path


def agent_command(sweep_id: str, store: str | None) -> str:
    """The shell command that starts an agent on the sweep (the store spelled out if not the
    default, with any password masked)."""
    from sweepnb.store import mask_url, resolve_url

    parts = ["sweepnb", "agent", sweep_id]
    if store is not None or os.environ.get("SWEEPNB_STORE"):
        url = resolve_url(store)
        if mask_url(url) != url:  # never print a password: point at the environment instead
            return shlex.join(parts) + ' --store "$SWEEPNB_STORE"   # the same store URL'
        parts += ["--store", url]
    return shlex.join(parts)


# ---------------------------------------------------------------------------------------------
# agent, demo
# ---------------------------------------------------------------------------------------------


def cmd_agent(args: argparse.Namespace) -> int:
    from sweepnb import api

    with _sigterm_as_interrupt():
        result = api.agent(
            args.sweep_id, None, count=args.count, store=_store(args), **agent_options(args)
        )
    if result.gave_up:  # the failure policy stopped the agent: scripts and CI must notice
        return EXIT_GAVE_UP
    return EXIT_INTERRUPTED if "interrupted" in result.reason else 0


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within: ``kill PID`` (SIGTERM) ends the agent like Ctrl-C, so its running run is recorded
    ``stopped`` instead of being left ``running`` until another agent reaps it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def cmd_wandb_path(args: argparse.Namespace) -> int:
    from sweepnb.compat.shim import shim_path

    print(shim_path())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sweepnb import demo

    demo.main(count=args.count, n_jobs=args.jobs, store=args.store)
    return 0


# ---------------------------------------------------------------------------------------------
# ls, show, export
# ---------------------------------------------------------------------------------------------


def cmd_ls(args: argparse.Namespace) -> int:
    from sweepnb.analysis.tables import sweeps_table
    from sweepnb.store import StoreMissing

    store = _store(args)
    try:
        table = sweeps_table(store)
    except StoreMissing:
        print(f"no sweeps: no store at {store.display_url.removeprefix('sqlite:///')} yet")
        return 0
    if table.empty:
        print(f"no sweeps in {store.display_url}")
        return 0
    print(table.to_string(index=False))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from sweepnb.analysis.tables import sweep_detail
    from sweepnb.analysis.text_table import frame_text

    line, frame = sweep_detail(_store(args), args.sweep_id)
    print(line)
    if len(frame):  # to_string(index=False, max_colwidth=60)'s text, 5x faster
        print(frame_text(frame, max_colwidth=60))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args)
    sweep = store.get_sweep(parse_sweep_id(args.sweep_id))
    runs = store.get_runs(sweep["id"], copy=False)  # read only
    if args.format == "csv":  # the columns `show` prints, "why it ended" included
        # imported here: JSON needs no pandas (a third of a second to import)
        from sweepnb.analysis import runs_frame
        from sweepnb.analysis.tables import WHY_COLUMN, why_it_ended

        frame = runs_frame(sweep["config"], runs)
        frame[WHY_COLUMN] = [why_it_ended(run) for run in runs]
        text = frame.to_csv(index=False)
    else:
        text = json_export(sweep, runs)
    if args.output:
        output = Path(args.output)
        if output.is_dir():  # a folder: the file is named after the sweep
            output = output / f"{sweep['id']}.{args.format}"
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {len(runs)} runs to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def json_export(sweep: dict, runs: list[dict]) -> str:
    """``{"sweep": ..., "runs": [...]}`` with one run per line: ``json.dumps(indent=...)`` runs
    json's pure-Python encoder, which took seconds at 20,000 runs."""
    lines = ",\n".join(json.dumps(run, default=str) for run in runs)
    return f'{{"sweep": {json.dumps(sweep, default=str)},\n"runs": [\n{lines}\n]}}\n'


def cmd_media(args: argparse.Namespace) -> int:
    from sweepnb.compat.media_files import media

    frame = media(args.run_id, _store(args))
    if frame.empty:
        print(f"run {args.run_id} logged no media")
        return 0
    print(frame.fillna("").to_string(index=False, max_colwidth=100))
    return 0


COMMANDS = {
    "sweep": cmd_sweep,
    "agent": cmd_agent,
    "ls": cmd_ls,
    "show": cmd_show,
    "export": cmd_export,
    "media": cmd_media,
    "demo": cmd_demo,
    "wandb-path": cmd_wandb_path,
}
