"""Program runs: W&B's command macros, formatted exactly as W&B's agent does (reference §4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from sweepnb.compat.shim import shim_path
from sweepnb.errors import ConfigError, SweepnbWarning
from sweepnb.runtime.command import DEFAULT_COMMAND, build_command, json_file_path, run_env

ENV = [] if os.name == "nt" else ["/usr/bin/env"]
# W&B's own agent test: {"a": True, "b": False, "c": 1, "d": None}
WB_PARAMS = {"a": True, "b": False, "c": 1, "d": None}


def build(command, params=WB_PARAMS, program="train.py", json_file_dir=None, environ=None):
    return build_command(
        command,
        program=program,
        params=params,
        sweep_id="sw1",
        run_id="run1",
        json_file_dir=json_file_dir,
        environ=environ if environ is not None else {},
    )


def test_default_command_is_env_interpreter_program_args():
    assert DEFAULT_COMMAND == ["${env}", "${interpreter}", "${program}", "${args}"]
    assert build(None, params={"lr": 0.01, "bs": 32}) == [
        *ENV,
        sys.executable,
        "train.py",
        "--bs=32",
        "--lr=0.01",
    ]


def test_empty_command_means_the_default():
    assert build([]) == build(None)


def test_interpreter_is_the_running_python_not_a_bare_python():
    assert build(["${interpreter}"]) == [sys.executable]
    assert os.path.isabs(sys.executable)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("${args}", ["--a=True", "--b=False", "--c=1", "--d=None"]),
        ("${args_no_equals}", ["--a", "True", "--b", "False", "--c", "1", "--d", "None"]),
        ("${args_no_hyphens}", ["a=True", "b=False", "c=1", "d=None"]),
        ("${args_no_boolean_flags}", ["--a", "--c=1", "--d=None"]),
        ("${args_json}", ['{"a": true, "b": false, "c": 1, "d": null}']),
        ("${args_append_hydra}", ["+a=True", "+b=False", "+c=1", "+d=None"]),
        ("${args_override_hydra}", ["++a=True", "++b=False", "++c=1", "++d=None"]),
    ],
)
def test_args_macros_format_like_wandb(macro, expected):
    assert build(["python", "t.py", macro]) == ["python", "t.py", *expected]


def test_top_level_keys_are_sorted():
    params = {"zeta": 1, "alpha": 2, "Mid": 3}
    assert build(["${args}"], params=params) == ["--Mid=3", "--alpha=2", "--zeta=1"]


def test_values_are_python_str_and_nested_values_python_repr():
    params = {
        "lr": 0.001,
        "tiny": 1e-05,
        "name": "two words",
        "opt": {"beta": 0.9, "kind": "adam"},
        "layers": [1, 2],
        "big": 3000000.0,
    }
    assert build(["${args}"], params=params) == [
        "--big=3000000.0",
        "--layers=[1, 2]",
        "--lr=0.001",
        "--name=two words",
        "--opt={'beta': 0.9, 'kind': 'adam'}",
        "--tiny=1e-05",
    ]


def test_args_json_keeps_nested_values_as_json():
    params = {"opt": {"lr": 0.1, "name": "adam"}, "a": [1, "x"]}
    (token,) = build(["${args_json}"], params=params)
    assert token == '{"a": [1, "x"], "opt": {"lr": 0.1, "name": "adam"}}'


def test_args_json_file_writes_the_parameters_and_passes_the_path(tmp_path):
    argv = build(["${program}", "${args_json_file}"], json_file_dir=tmp_path)
    path = json_file_path(tmp_path, "sw1", "run1")
    assert argv == ["train.py", str(path)]
    assert path == tmp_path / "sweep-sw1" / "config-run1.json"
    assert json.loads(path.read_text()) == WB_PARAMS


def test_json_file_is_written_only_when_the_macro_is_used(tmp_path):
    build(["${args}", "${args_json}"], json_file_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_args_json_file_needs_a_directory():
    with pytest.raises(ValueError, match="json_file_dir"):
        build(["${args_json_file}"], json_file_dir=None)


def test_envvar_is_substituted_inside_elements():
    environ = {"FOO_DIR": "foo_dir", "FOO_DIR_TWO": "foo_dir_two", "FOO_VAR": "foo_var"}
    command = [
        "--output_dir",
        "fake/path/${envvar:FOO_DIR}/${envvar:FOO_DIR}/${envvar:FOO_DIR_TWO}",
        "--foovar",
        "${envvar:FOO_VAR}",
    ]
    assert build(command, environ=environ) == [
        "--output_dir",
        "fake/path/foo_dir/foo_dir/foo_dir_two",
        "--foovar",
        "foo_var",
    ]


def test_unset_envvar_gives_its_name():
    assert build(["${envvar:UNSET_VAR}", "x${envvar:NOPE}y"]) == ["UNSET_VAR", "xNOPEy"]


def test_lower_case_envvar_names_stay_literal():
    with pytest.warns(SweepnbWarning):  # a whole element: then an unknown macro, as in W&B
        assert build(["${envvar:home}"], environ={"home": "/h"}) == []
    assert build(["a${envvar:home}"], environ={"home": "/h"}) == ["a${envvar:home}"]


def test_envvar_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("SWEEPNB_TEST_DATA_DIR", "/data/x")
    argv = build_command(
        ["--data=${envvar:SWEEPNB_TEST_DATA_DIR}"],
        program=None,
        params={},
        sweep_id="s",
        run_id="r",
        json_file_dir=None,
    )
    assert argv == ["--data=/data/x"]


def test_unknown_macro_expands_to_nothing_with_a_warning():
    with pytest.warns(SweepnbWarning, match=r"\$\{bogus\}"):
        assert build(["python", "${bogus}", "t.py"]) == ["python", "t.py"]


def test_partial_macros_pass_through_verbatim():
    # W&B's client never substitutes "custom macros" inside a larger element
    assert build(["--lr=${lr}", "${args"]) == ["--lr=${lr}", "${args"]


def test_literal_elements_and_numbers_pass_as_text():
    assert build(["python", "t.py", "--epochs", 3, 1.5, True]) == [
        "python",
        "t.py",
        "--epochs",
        "3",
        "1.5",
        "True",
    ]


def test_missing_program_is_a_config_error_naming_program():
    with pytest.raises(ConfigError) as err:
        build(None, program=None)
    assert err.value.errors[0].startswith("program:")
    with pytest.raises(ConfigError):
        build(["${program}"], program="")


def test_program_is_not_needed_when_the_command_does_not_use_it():
    assert build(["python", "-m", "pkg.train", "${args}"], program=None, params={"x": 1}) == [
        "python",
        "-m",
        "pkg.train",
        "--x=1",
    ]


@pytest.mark.parametrize(
    ("command", "key"),
    [("python train.py ${args}", "command:"), (["python", ["x"]], "command[1]:")],
)
def test_bad_command_names_the_place(command, key):
    with pytest.raises(ConfigError) as err:
        build(command)
    assert err.value.errors[0].startswith(key)


def test_shell_characters_stay_one_argument_in_a_real_process(tmp_path):
    program = tmp_path / "echo_argv.py"
    program.write_text(
        textwrap.dedent(
            """
            import json, sys
            print(json.dumps(sys.argv[1:]))
            """
        )
    )
    victim = tmp_path / "x"
    victim.write_text("keep me")
    params = {"evil": "a; rm -rf x", "sub": "$(touch pwned)", "quote": 'it\'s "q" | cat', "n": 2}
    argv = build_command(
        None,
        program=str(program),
        params=params,
        sweep_id="s",
        run_id="r",
        json_file_dir=None,
    )
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [
        "--evil=a; rm -rf x",
        "--n=2",
        '--quote=it\'s "q" | cat',
        "--sub=$(touch pwned)",
    ]
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "pwned").exists()


def test_run_env_adds_the_ids_and_store_for_the_program():
    base = {"PATH": "/usr/bin", "WANDB_RUN_ID": "stale"}
    env = run_env(base, sweep_id="sw1", run_id="run1", store_url="sqlite:////tmp/s.db")
    # issue 12: without a real wandb installed, program runs get sweepnb's first on PYTHONPATH
    assert env.pop("PYTHONPATH", shim_path()) == shim_path()
    assert env == {
        "PATH": "/usr/bin",
        "SWEEPNB_SWEEP_ID": "sw1",
        "SWEEPNB_RUN_ID": "run1",
        "SWEEPNB_WANDB_ENV": "1",
        "SWEEPNB_STORE": "sqlite:////tmp/s.db",
        "WANDB_SWEEP_ID": "sw1",
        "WANDB_RUN_ID": "run1",
    }
    assert base == {"PATH": "/usr/bin", "WANDB_RUN_ID": "stale"}


def test_run_env_defaults_to_the_process_environment(monkeypatch):
    monkeypatch.setenv("SWEEPNB_TEST_MARKER", "1")
    env = run_env(None, sweep_id="s", run_id="r", store_url="x.db")
    assert env["SWEEPNB_TEST_MARKER"] == "1"
    assert env["SWEEPNB_STORE"] == "x.db"


def test_program_sees_its_run_through_the_environment(tmp_path):
    program = tmp_path / "show_env.py"
    program.write_text(
        "import os\nprint(os.environ['SWEEPNB_RUN_ID'], os.environ['WANDB_SWEEP_ID'])\n"
    )
    argv = build_command(
        None, program=str(program), params={}, sweep_id="sw9", run_id="run9", json_file_dir=None
    )
    env = run_env(None, sweep_id="sw9", run_id="run9", store_url=str(tmp_path / "s.db"))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["run9", "sw9"]
