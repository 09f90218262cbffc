"""The options shared by the `sweepnb` command and the `%sweep` / `%agent` magics.

One definition, two front ends: `sweepnb/cli.py` calls these on its subparsers and the magics add
them to their `magic_arguments` parser, so `sweepnb agent --help` and `%agent?` list the same
options with the same help. Each front end adds its own positional arguments (the CLI's
subcommands differ from the magics' forms).

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_agent_arguments(parser)
    >>> parser.parse_args(["--count", "3", "--jobs", "2"]).jobs
    2
"""

from __future__ import annotations

import argparse

# parse_sweep_id lives below every layer (the runtime reads ids too); the front ends find it here
from sweepnb.ids import parse_sweep_id  # noqa: F401 - re-exported

STATE_ACTIONS = ("stop", "cancel", "pause", "resume")
_STATE_HELP = {
    "stop": "stop the sweep: no new runs, running runs finish",
    "cancel": "cancel the sweep: no new runs, running runs are stopped",
    "pause": "pause the sweep: no new runs until it is resumed",
    "resume": "resume a paused sweep",
}
STORE_HELP = "store URL or path (default: $SWEEPNB_STORE, else ./.sweepnb/sweeps.db)"


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1, with a message naming the bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def jobs_count(text: str) -> int:
    """argparse type for --jobs: an integer >= 1, or -1 for all CPUs (joblib's convention)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1, or -1 for all CPUs")
    return value


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """--store URL."""
    parser.add_argument("--store", metavar="URL", default=None, help=STORE_HELP)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `sweepnb sweep` / `%sweep`: state changes, --name/--project/--entity, --store.

    The state flags are mutually exclusive and all write `args.state_action` (None, "stop",
    "cancel", "pause" or "resume").
    """
    states = parser.add_mutually_exclusive_group()
    for action in STATE_ACTIONS:
        states.add_argument(
            f"--{action}",
            dest="state_action",
            action="store_const",
            const=action,
            help=_STATE_HELP[action],
        )
    parser.add_argument("--name", default=None, help="display name of the new sweep")
    parser.add_argument("-p", "--project", default=None, help="project of the new sweep's runs")
    parser.add_argument("-e", "--entity", default=None, help="entity of the new sweep's runs")
    add_store_argument(parser)


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `sweepnb agent` / `%agent`: --count, --jobs, --backend, --scheduler, --gpus,
    --retry-failed, --store (`agent_options` turns them into `sweepnb.agent` keywords)."""
    parser.add_argument(
        "--count",
        type=positive_int,
        default=None,
        metavar="N",
        help="runs in all, shared by the parallel agents (default: until the sweep is done)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=jobs_count,
        default=1,
        metavar="N",
        help="agents in parallel through joblib (loky processes by default); -1 = one per CPU",
    )
    parser.add_argument(
        "--backend",
        default=None,
        metavar="NAME",
        help="joblib backend of the parallel agents: loky (default), threading, dask...",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the agents on this Dask scheduler (tcp://HOST:8786; implies --backend dask)",
    )
    parser.add_argument(
        "--gpus",
        default=None,
        metavar="IDS",
        help="CUDA_VISIBLE_DEVICES of each parallel agent, e.g. 0,1 (agent i gets the i-th; "
        "without --jobs, one agent per id)",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="run again the grid points whose runs failed, crashed or were killed (Ctrl-C)",
    )
    parser.add_argument(
        "--wandb",
        choices=("sweepnb", "real"),
        default=None,
        help="the wandb that program runs import: sweepnb's offline one or the real one "
        "(default: $SWEEPNB_WANDB, else sweepnb's when wandb is not installed)",
    )
    add_store_argument(parser)


def agent_options(args: argparse.Namespace) -> dict:
    """The keywords of `sweepnb.agent` from parsed agent options (all but --count/--store).

    >>> parser = argparse.ArgumentParser()
    >>> add_agent_arguments(parser)
    >>> agent_options(parser.parse_args(["--jobs", "2", "--gpus", "0,1"]))["gpus"]
    '0,1'
    """
    return {
        "n_jobs": args.jobs,
        "backend": args.backend,
        "scheduler": args.scheduler,
        "gpus": args.gpus,
        "retry_failed": args.retry_failed,
        "wandb": getattr(args, "wandb", None),
    }
