"""`%sweep` and `%agent` through a private InteractiveShell (history off), on a real SQLite store."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from sweepnb.store import Store

GRID_YAML = """\
method: grid
metric:
  name: loss
parameters:
  x:
    values: [1, 2, 3]
"""

TRAIN = """\
import os
import sweepnb

def train():
    run = sweepnb.init(config={"unused": 0})
    for step in range(2):
        sweepnb.log({"loss": (run.config.x - 2) ** 2 + step})
    run.summary["pid"] = os.getpid()
    run.finish()
"""


def magics(shell):
    return shell.magics_manager.registry["SweepMagics"]


def run_ok(shell, code):
    """run_cell, failing the test with the cell's error if it raised."""
    result = shell.run_cell(code)
    result.raise_error()
    return result.result


# -- loading -----------------------------------------------------------------------------------


def test_load_ext_registers_both_magics(ip):
    assert "sweep" in ip.magics_manager.magics["line"]
    assert "sweep" in ip.magics_manager.magics["cell"]
    assert "agent" in ip.magics_manager.magics["line"]


def test_loading_twice_or_reloading_leaves_one_registration(ip):
    ip.run_line_magic("load_ext", "sweepnb")
    ip.run_line_magic("reload_ext", "sweepnb")
    from sweepnb.notebook.magics import load_ipython_extension

    load_ipython_extension(ip)
    instances = [c for c in ip.configurables if type(c).__name__ == "SweepMagics"]
    assert len(instances) == 1
    assert ip.magics_manager.magics["line"]["sweep"].__self__ is instances[0]


def test_unload_removes_the_magics(ip):
    ip.run_line_magic("unload_ext", "sweepnb")
    assert "sweep" not in ip.magics_manager.magics["line"]
    assert "agent" not in ip.magics_manager.magics["line"]
    ip.run_line_magic("load_ext", "sweepnb")
    assert "agent" in ip.magics_manager.magics["line"]


def test_help_lists_the_shared_options(ip, capsys):
    run_ok(ip, "%sweep?")
    run_ok(ip, "%agent?")
    out = capsys.readouterr().out
    for option in (
        "--stop",
        "--pause",
        "--resume",
        "--cancel",
        "--edit",
        "--count",
        "--jobs",
        "--store",
    ):
        assert option in out


# -- creating sweeps ---------------------------------------------------------------------------


def test_cell_body_yaml_creates_a_sweep_and_makes_it_current(ip, db):
    sweep_id = ip.run_cell_magic("sweep", "", GRID_YAML)
    sweep = Store(db).get_sweep(sweep_id)
    assert sweep["config"]["parameters"]["x"]["values"] == [1, 2, 3]
    assert magics(ip).current == sweep_id


def test_cell_body_python_dict_creates_a_sweep(ip, db):
    body = "{'method': 'random', 'parameters': {'lr': {'min': 0.0, 'max': 1.0}}, 'seed': 2 + 1}"
    sweep_id = ip.run_cell_magic("sweep", "--name dicty", body)
    sweep = Store(db).get_sweep(sweep_id)
    assert sweep["name"] == "dicty"
    assert sweep["config"]["seed"] == 3
    assert sweep["config"]["parameters"]["lr"]["distribution"] == "uniform"


def test_path_on_the_line_returns_the_id_into_a_variable(ip, tmp_path, db):
    (tmp_path / "cfg.yaml").write_text(GRID_YAML)
    run_ok(ip, "sid = %sweep cfg.yaml")
    sid = ip.user_ns["sid"]
    assert Store(db).get_sweep(sid)["config"]["method"] == "grid"
    assert magics(ip).current == sid


def test_braced_variable_and_bare_variable_name(ip, db):
    ip.user_ns["cfg"] = {"method": "random", "parameters": {"a": {"values": [1, 2]}}}
    first = run_ok(ip, "%sweep {cfg}")
    second = run_ok(ip, "%sweep cfg --project demo")
    assert first != second
    assert Store(db).get_sweep(second)["project"] == "demo"
    assert Store(db).get_sweep(first)["config"]["parameters"]["a"]["values"] == [1, 2]


def test_inline_dict_literal_on_the_line(ip, db):
    sid = ip.run_line_magic("sweep", "{'method': 'grid', 'parameters': {'a': {'value': 1}}}")
    assert Store(db).get_sweep(sid)["config"]["parameters"]["a"]["value"] == 1


def test_dollar_expansion_of_options(ip, db):
    ip.user_ns["proj"] = "expanded"
    ip.user_ns["cfg"] = {"method": "grid", "parameters": {"a": {"value": 1}}}
    sid = run_ok(ip, "%sweep {cfg} -p $proj")
    assert Store(db).get_sweep(sid)["project"] == "expanded"


def test_invalid_config_is_a_one_line_usage_error_naming_the_key(ip):
    body = "method: grid\nparameters:\n  lr: {min: 5, max: 3}\n"
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("sweep", "", body)
    message = str(caught.value)
    assert "\n" not in message
    assert "parameters.lr" in message


def test_errors_in_a_cell_show_no_traceback(ip, capsys):
    result = ip.run_cell("%sweep no_such_thing")
    assert not result.success
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "no file or variable named 'no_such_thing'" in text
    assert "Traceback" not in text


# -- state, ls, show ---------------------------------------------------------------------------


def test_state_flags_change_the_current_or_given_sweep(ip, db):
    first = ip.run_cell_magic("sweep", "", GRID_YAML)
    second = ip.run_cell_magic("sweep", "", GRID_YAML)
    ip.run_line_magic("sweep", "--pause")
    assert Store(db).get_sweep(second)["state"] == "paused"
    ip.run_line_magic("sweep", "--resume")
    assert Store(db).get_sweep(second)["state"] == "running"
    ip.run_line_magic("sweep", f"--cancel {first}")
    assert Store(db).get_sweep(first)["state"] == "cancelled"
    assert magics(ip).current == first
    ip.run_line_magic("sweep", f"--stop {second}")
    assert Store(db).get_sweep(second)["state"] == "finished"


def test_two_state_flags_are_refused(ip):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    with pytest.raises(UsageError, match="not allowed with"):
        ip.run_line_magic("sweep", "--stop --pause")


def test_state_flag_without_any_sweep_says_so(ip):
    with pytest.raises(UsageError, match="no current sweep"):
        ip.run_line_magic("sweep", "--stop")


def test_unknown_id_is_a_friendly_error(ip):
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("sweep", "show zzzz9999")
    assert "zzzz9999" in str(caught.value)
    with pytest.raises(UsageError, match="zzzz9999"):
        ip.run_line_magic("agent", "zzzz9999 print")
    assert magics(ip).current is None  # an unknown id never becomes the current sweep


def test_ls_lists_sweeps_with_their_state(ip):
    first = ip.run_cell_magic("sweep", "", GRID_YAML)
    second = ip.run_cell_magic("sweep", "", GRID_YAML)
    ip.run_line_magic("sweep", f"--pause {first}")
    table = ip.run_line_magic("sweep", "ls")
    states = dict(zip(table["id"], table["state"]))
    assert states == {first: "paused", second: "idle"}  # running, but no run is running


def test_show_prints_a_summary_and_returns_the_runs(ip, capsys):
    sid = ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    ip.run_line_magic("agent", "train --count 2 --no-dashboard")
    capsys.readouterr()
    frame = ip.run_line_magic("sweep", "show")
    assert len(frame) == 2 and set(frame["state"]) == {"finished"}
    out = capsys.readouterr().out
    assert sid in out and "2 runs" in out and "best loss = 0" in out


# -- %agent ------------------------------------------------------------------------------------


def test_agent_runs_the_current_sweep_and_returns_a_handle(ip):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    run_ok(ip, "h = %agent train --no-dashboard")
    handle = ip.user_ns["h"]
    assert sorted(handle.df["x"]) == [1, 2, 3]
    assert set(handle.df["state"]) == {"finished"}
    assert handle.best["config"]["x"] == 2
    assert handle.done and "3 finished" in repr(handle)


def test_agent_with_explicit_id_and_count(ip):
    first = ip.run_cell_magic("sweep", "", GRID_YAML)
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    handle = ip.run_line_magic("agent", f"{first} train --count 1 --no-dashboard")
    assert handle.sweep_id == first and len(handle.df) == 1
    assert magics(ip).current == first


def test_agent_function_from_a_cell_runs_in_loky_workers(ip):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    handle = ip.run_line_magic("agent", "train --jobs 2 --no-dashboard")
    frame = handle.df
    assert sorted(frame["x"]) == [1, 2, 3]
    assert set(frame["state"]) == {"finished"}
    assert os.getpid() not in set(frame["pid"])


def test_agent_unknown_function_is_a_friendly_error(ip):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    with pytest.raises(UsageError, match="unknown function 'trian'"):
        ip.run_line_magic("agent", "trian")
    ip.user_ns["number"] = 3
    with pytest.raises(UsageError, match="number is a int, not a function"):
        ip.run_line_magic("agent", "number")


def test_agent_without_a_sweep_says_how_to_make_one(ip):
    run_ok(ip, TRAIN)
    with pytest.raises(UsageError, match="no current sweep"):
        ip.run_line_magic("agent", "train")


@pytest.mark.parametrize("options", ["--count 0", "--jobs 0", "--count two"])
def test_agent_bad_numbers_are_usage_errors(ip, options):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    with pytest.raises(UsageError):
        ip.run_line_magic("agent", f"train {options}")


def test_agent_in_background_returns_at_once_and_waits_on_demand(ip):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    handle = ip.run_line_magic("agent", "train --background --no-dashboard")
    handle.wait()
    assert handle.done and len(handle.df) == 3


def test_agent_shows_the_dashboard(ip, capsys):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    sid = magics(ip).current
    handle = ip.run_line_magic("agent", "train --count 2")
    assert len(handle.df) == 2
    out = capsys.readouterr().out  # the dashboard's text form in a shell without widgets
    assert f"sweep {sid}" in out and "2/2 runs done" in out and "best loss = 0" in out


# -- the form ----------------------------------------------------------------------------------


def test_bare_sweep_opens_the_form_and_create_sets_the_current_sweep(ip, db):
    ip.run_line_magic("sweep", "")
    form = magics(ip).builders[-1]
    form.rows[0].name.value = "x"
    form.rows[0].text.value = "1, 2"
    form.create_button.click()
    assert magics(ip).current == form.sweep_id
    assert Store(db).get_sweep(form.sweep_id)["config"]["parameters"]["x"]["values"] == [1, 2]


def test_edit_opens_the_form_prefilled_from_a_file_variable_or_sweep(ip, tmp_path):
    (tmp_path / "cfg.yaml").write_text(GRID_YAML)
    ip.run_line_magic("sweep", "--edit cfg.yaml")
    assert magics(ip).builders[-1].rows[0].text.value == "1, 2, 3"
    ip.user_ns["d"] = {
        "method": "bayes",
        "metric": {"name": "m"},
        "parameters": {"z": {"min": 0.0, "max": 1.0}},
    }
    ip.run_line_magic("sweep", "--edit d")
    assert magics(ip).builders[-1].method.value == "bayes"
    sid = ip.run_cell_magic("sweep", "", GRID_YAML)
    ip.run_line_magic("sweep", f"--edit {sid}")
    assert magics(ip).builders[-1].method.value == "grid"


def test_store_setting_through_config(ip, tmp_path):
    other = str(tmp_path / "other.db")
    ip.run_line_magic("config", f"SweepMagics.store = {other!r}")
    sid = ip.run_cell_magic("sweep", "", GRID_YAML)
    assert Store(other).get_sweep(sid)["id"] == sid


SLOW = """\
import time
import sweepnb

def slow():
    with sweepnb.init() as run:
        for step in range(300):
            sweepnb.log({"loss": run.config.x + step})
            time.sleep(0.1)
"""


def test_kernel_interrupt_pauses_the_sweep_then_stops_the_running_run(ip, db):
    """First Ctrl-C: the sweep is paused (no new runs); second: the running run stops."""
    sid = ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, SLOW)
    handle = ip.run_line_magic("agent", "slow --background --no-dashboard")
    store = Store(db)

    def interrupt_when(condition):
        while not condition():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    def interrupts():
        interrupt_when(lambda: any(r["state"] == "running" for r in store.get_runs(sid)))
        interrupt_when(lambda: store.get_sweep(sid)["state"] == "paused")

    sender = threading.Thread(target=interrupts, daemon=True)
    sender.start()
    handle.wait()
    sender.join(5)
    runs = store.get_runs(sid)
    assert store.get_sweep(sid)["state"] == "paused"
    assert [run["state"] for run in runs] == ["killed"]  # stopped by the user, not a rule
    assert len(runs[0]["history"]) < 300


def test_trailing_semicolon_hides_the_returned_value(ip, db):
    run_ok(ip, TRAIN)
    result = ip.run_cell("%sweep {'method': 'grid', 'parameters': {'x': {'values': [1, 2]}}};")
    result.raise_error()
    assert result.result is None
    sid = magics(ip).current
    result = ip.run_cell("%agent train --no-dashboard;")
    result.raise_error()
    assert result.result is None
    assert [run["state"] for run in Store(db).get_runs(sid)] == ["finished", "finished"]


def test_agent_passes_the_shared_cli_options_through(ip):
    """--backend (one of the options `sweepnb agent` shares) reaches `sweepnb.agent`."""
    ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    handle = ip.run_line_magic("agent", "train --jobs 2 --backend threading --no-dashboard")
    frame = handle.df
    assert set(frame["state"]) == {"finished"} and len(frame) == 3
    assert set(frame["pid"]) == {os.getpid()}  # threads of this process, not loky workers


def test_ls_and_show_print_what_the_cli_prints(ip, db, capsys):
    from sweepnb import cli

    sid = ip.run_cell_magic("sweep", "", GRID_YAML)
    run_ok(ip, TRAIN)
    ip.run_line_magic("agent", "train --count 2 --no-dashboard")
    table = ip.run_line_magic("sweep", "ls")
    capsys.readouterr()
    assert cli.main(["ls", "--store", db]) == 0
    assert capsys.readouterr().out == table.to_string(index=False) + "\n"
    frame = ip.run_line_magic("sweep", f"show {sid}")
    shown = capsys.readouterr().out
    assert cli.main(["show", sid, "--store", db]) == 0
    cli_out = capsys.readouterr().out
    assert cli_out.splitlines()[0] == shown.strip()
    assert cli_out.splitlines()[1:] == frame.to_string(index=False, max_colwidth=60).splitlines()
    # the value the run set itself (init(config=...)) shows beside the swept one
    assert list(frame.columns[:5]) == ["id", "state", "x", "unused", "loss"]


# -- issue 13: errors say where the user looks ---------------------------------------------------


def test_yaml_errors_count_lines_of_the_cell(ip):
    from IPython.core.error import UsageError

    body = "method: grid\nparameters:\n  x: {values: [1, 2}\n"  # the error is on cell line 4
    with pytest.raises(UsageError, match="line 4"):
        ip.run_cell_magic("sweep", "", body)


def test_a_misspelled_function_gets_a_suggestion(ip):
    from IPython.core.error import UsageError

    ip.run_cell("def train():\n    pass\n")
    ip.run_cell_magic("sweep", "", GRID_YAML)
    with pytest.raises(UsageError, match=r"unknown function 'trian' \(did you mean 'train'\?\)"):
        ip.run_line_magic("agent", "trian --count 1")


def test_the_form_without_ipywidgets_says_how_to_install_it(tmp_path):
    # a real import failure: a finder that refuses ipywidgets, in a fresh interpreter
    script = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'ipywidgets':
            raise ImportError('No module named ipywidgets')
sys.meta_path.insert(0, Block())
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.run_line_magic('load_ext', 'sweepnb')
from IPython.core.error import UsageError
try:
    ip.run_line_magic('sweep', '')
except UsageError as err:
    print('USAGE', err)
"""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert "USAGE the config form needs ipywidgets: run `%pip install ipywidgets`" in done.stdout, (
        done.stdout + done.stderr
    )


def test_agent_scale_out_of_range_is_named_before_any_run(ip, db):
    ip.run_cell_magic("sweep", "", GRID_YAML)
    ip.user_ns["train"] = lambda: None
    with pytest.raises(UsageError, match="--scale: expected a number from 0.5 to 4, got 9.0"):
        ip.run_line_magic("agent", "train --scale 9")
    assert Store(db).get_runs(magics(ip).current) == []
