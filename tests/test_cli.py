"""The `sweepnb` command: `python -m sweepnb` in subprocesses on a store in tmp_path.

Output formats (ls, show, export) are also checked through ``cli.main`` in-process, which is the
same code without the cost of starting Python.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sweepnb
from sweepnb import cli

ROOT = Path(__file__).resolve().parent.parent
GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"values": [1, 2]}},
}


def run_cli(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if env is None:
        full_env.pop("SWEEPNB_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "sweepnb", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_yaml(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def sweep_rows(db: Path) -> int:
    return len(sweepnb.Store(db).list_sweeps()) if db.exists() else 0


# -- end to end in subprocesses ----------------------------------------------------------------


def test_sweep_prints_the_id_and_an_agent_command_that_runs_the_sweep(tmp_path):
    # a program that does not import sweepnb: it only has to exit 0
    (tmp_path / "hello.py").write_text("import sys\nprint('args', sys.argv[1:])\n")
    write_yaml(tmp_path / "sweep.yaml", {**GRID, "program": "hello.py"})
    created = run_cli(tmp_path, "sweep", "sweep.yaml", "--store", "my.db", "--name", "first")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    sweep_id = lines[0].removeprefix("Created sweep with ID: ")
    command = shlex.split(lines[1].removeprefix("Run sweep agent with: "))
    assert command[:3] == ["sweepnb", "agent", sweep_id]
    assert command[3:] == ["--store", f"sqlite:///{tmp_path / 'my.db'}"]

    ran = run_cli(tmp_path, *command[1:])
    assert ran.returncode == 0, ran.stderr
    assert "args ['--x=1']" in ran.stdout and "args ['--x=2']" in ran.stdout
    store = sweepnb.Store(tmp_path / "my.db")
    assert store.get_sweep(sweep_id)["name"] == "first"
    assert [r["state"] for r in store.get_runs(sweep_id)] == ["finished", "finished"]


ERRORS = [
    (["agent", "nope1234"], "no sweep 'nope1234'"),
    (["sweep", "bad.yaml"], "parameters.x: min 3 is not less than max 1"),
    (["sweep", "noprog.yaml"], "program not found: 'missing.py'"),
    (["show", "nope1234"], "no sweep 'nope1234'"),
    (["export", "nope1234"], "no sweep 'nope1234'"),
    (["sweep", "--cancel", "nope1234"], "no sweep 'nope1234'"),
    (["sweep", "absent.yaml"], "no such config file: absent.yaml"),
    (["sweep", "--prior-run", "nope1234", "good.yaml"], "no sweep or run 'nope1234'"),
]
ERROR_IDS = [
    "unknown-agent",
    "bad-config",
    "missing-program",
    "unknown-show",
    "unknown-export",
    "unknown-state",
    "missing-file",
    "unknown-prior",
]


def write_error_inputs(tmp_path: Path) -> None:
    write_yaml(tmp_path / "bad.yaml", {"method": "grid", "parameters": {"x": {"min": 3, "max": 1}}})
    write_yaml(tmp_path / "noprog.yaml", {**GRID, "program": "missing.py"})
    write_yaml(tmp_path / "good.yaml", GRID)


@pytest.mark.parametrize(("args", "message"), ERRORS[:3], ids=ERROR_IDS[:3])
def test_errors_print_one_line_exit_2_and_write_nothing(tmp_path, args, message):
    write_error_inputs(tmp_path)
    done = run_cli(tmp_path, *args, "--store", "s.db")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert sweep_rows(tmp_path / "s.db") == 0


def test_state_flags_and_the_store_from_the_environment(tmp_path):
    db = tmp_path / "env.db"
    sweep_id = sweepnb.sweep(GRID, store=db)
    env = {"SWEEPNB_STORE": str(db)}
    paused = run_cli(tmp_path, "sweep", "--pause", sweep_id, env=env)
    assert paused.returncode == 0, paused.stderr
    assert sweepnb.Store(db).get_sweep(sweep_id)["state"] == "paused"
    both = run_cli(tmp_path, "sweep", "--stop", "--cancel", sweep_id, env=env)
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


# -- the same commands in-process (formats) ------------------------------------------------------


def main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def finished(tmp_path):
    """A finished grid sweep with a failed run, on tmp_path/s.db."""
    db = tmp_path / "s.db"
    sweep_id = sweepnb.sweep(GRID, store=db, name="grid-x")

    def train(config):
        sweepnb.log({"loss": 10.0 / config.x, "acc": config.x / 10})
        if config.x == 1:
            raise ValueError("x=1 diverged")

    sweepnb.agent(sweep_id, train, store=db, quiet=True)
    return str(db), sweep_id


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=ERROR_IDS)
def test_every_error_is_one_line_with_exit_2(capsys, tmp_path, monkeypatch, args, message):
    write_error_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = main(capsys, *args, "--store", "s.db")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err
    assert sweep_rows(tmp_path / "s.db") == 0


def test_state_flags_follow_wandb_semantics(capsys, finished):
    db, sweep_id = finished
    code, _, err = main(capsys, "sweep", "--pause", sweep_id, "--store", db)
    assert code == 2 and "is finished" in err
    code, out, _ = main(capsys, "sweep", "--resume", sweep_id, "--store", db)
    assert code == 0 and "state is now running" in out
    code, out, _ = main(capsys, "sweep", "--cancel", sweep_id, "--store", db)
    assert code == 0 and "state is now cancelled" in out


def test_ls_lists_state_run_counts_and_best(capsys, finished):
    db, sweep_id = finished
    code, out, _ = main(capsys, "ls", "--store", db)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith(sweep_id)]
    assert line.split()[:4] == [sweep_id, "grid-x", "finished", "grid"]
    assert "2 (1 failed, 1 finished)" in line
    assert line.split()[-2:] == ["loss", "5"]


def test_show_lists_runs_best_first_with_the_error_of_the_failed_one(capsys, finished):
    db, sweep_id = finished
    code, out, _ = main(capsys, "show", sweep_id, "--store", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"sweep {sweep_id} (grid-x): finished, grid search, 2 runs")
    assert "finished" in lines[2] and "5.0" in lines[2]  # loss 5 beats loss 10
    assert "failed" in lines[3] and "ValueError: x=1 diverged" in lines[3]


def test_show_gives_a_runs_name_where_it_has_one_and_a_blank_elsewhere(capsys, tmp_path):
    db = str(tmp_path / "named.db")
    cfg = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}
    sweep_id = sweepnb.sweep(cfg, store=db)

    def train():
        sweepnb.init(name="first-x" if sweepnb.config.x == 1 else None)
        sweepnb.log({"loss": float(sweepnb.config.x)})

    sweepnb.agent(sweep_id, train, store=db, quiet=True)
    code, out, _ = main(capsys, "show", sweep_id, "--store", db)
    assert code == 0
    header, first, second = out.splitlines()[1:4]
    assert header.split()[:3] == ["id", "state", "name"]
    assert first.split()[1:3] == ["finished", "first-x"]
    assert second.split()[1:3] == ["finished", "2"]  # no name: blank, then x
    assert "NaN" not in out


def test_export_csv_and_json(capsys, finished, tmp_path):
    db, sweep_id = finished
    code, out, _ = main(capsys, "export", sweep_id, "--store", db, "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns[:4]) == ["id", "state", "x", "loss"]
    assert sorted(df.loss) == [5.0, 10.0]
    target = tmp_path / "runs.json"
    code, _, _ = main(
        capsys, "export", sweep_id, "--store", db, "--format", "json", "-o", str(target)
    )
    data = json.loads(target.read_text())
    assert data["sweep"]["id"] == sweep_id
    assert {r["state"] for r in data["runs"]} == {"finished", "failed"}
    assert all(r["history"] for r in data["runs"])


def test_update_replaces_the_config_and_prior_run_copies_runs(capsys, finished, tmp_path):
    db, sweep_id = finished
    wider = write_yaml(
        tmp_path / "wider.yaml", {**GRID, "parameters": {"x": {"values": [1, 2, 3]}}}
    )
    code, _, _ = main(capsys, "sweep", "--update", sweep_id, str(wider), "--store", db)
    assert code == 0
    assert sweepnb.Store(db).get_sweep(sweep_id)["config"]["parameters"]["x"]["values"] == [1, 2, 3]
    (tmp_path / "train.py").write_text("")
    code, out, _ = main(
        capsys,
        "sweep",
        str(wider),
        "--prior-run",
        sweep_id,
        "--store",
        db,
        "--program",
        str(tmp_path / "train.py"),
    )
    assert code == 0
    new_id = out.split("Created sweep with ID: ")[1].split()[0]
    copied = sweepnb.Store(db).get_runs(new_id)
    assert [r["config"]["x"] for r in copied] == [2]  # the finished run, not the failed one
    assert sweepnb.Store(db).get_sweep(new_id)["config"]["program"] == str(tmp_path / "train.py")


def test_the_printed_agent_command_never_shows_a_password():
    from sweepnb.cli import agent_command

    command = agent_command("abcd1234", "postgresql://me:s3cret@db.example/sweeps")
    assert "s3cret" not in command
    assert '--store "$SWEEPNB_STORE"' in command
    assert agent_command("abcd1234", "sqlite:////tmp/x.db").endswith("--store sqlite:////tmp/x.db")


def test_export_has_every_column_show_has(capsys, finished):
    import csv
    import io

    db, sweep_id = finished
    code, shown, _ = main(capsys, "show", sweep_id, "--store", db)
    code, out, _ = main(capsys, "export", sweep_id, "--store", db)
    assert code == 0
    header = next(csv.reader(io.StringIO(out)))
    show_header = shown.splitlines()[1]
    for column in ("id", "state", "loss", "acc", "runtime", "why it ended"):
        assert column in show_header and column in header, column
    rows = list(csv.DictReader(io.StringIO(out)))
    assert any("x=1 diverged" in row["why it ended"] for row in rows)


def test_show_says_which_value_hyperband_judged_and_prints_its_whole_reason(capsys, tmp_path):
    db = str(tmp_path / "s.db")
    cfg = {
        "method": "grid",
        "metric": {"name": "acc", "goal": "maximize"},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
        "parameters": {"x": {"values": [4, 3, 1]}},
    }
    sweep_id = sweepnb.sweep(cfg, store=db)

    def train(config):
        for step in range(1, 4):  # x=1 is the worst at its 2nd value
            sweepnb.log({"acc": config.x / 4 * step if config.x > 1 else step / 2})

    sweepnb.agent(sweep_id, train, store=db, quiet=True)
    code, out, _ = main(capsys, "show", sweep_id, "--store", db)
    assert code == 0
    assert "why it ended: hyperband compared the acc logged at the band's iteration" in out
    assert "the acc column is each run's best" in out
    stopped = [line for line in out.splitlines() if " stopped " in line]
    assert len(stopped) == 1 and stopped[0].endswith("Band 2: value 1 < threshold 1.5")
