"""The W&B names the frameworks' integrations call (issue 24), each checked on its own, in
process and fast: `wandb.run` in an agent's function, `finish()` then `init()`, `wandb.watch`,
`wandb.save`, `run.log_code`, `run.dir`/`step`/`url`/`_label`, `wandb.env`, `wandb.sdk.*`,
`vars(wandb.config)`. The frameworks themselves run in tests/test_frameworks.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import sweepnb
from sweepnb import compat
from sweepnb.compat import env as wandb_env
from sweepnb.compat.sdk import ConfigError, Run
from sweepnb.runtime.run_config import ConfigChangeError


def grid(store, values=(0.1, 0.2)):
    return sweepnb.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"lr": {"values": list(values)}}},
        store=store,
    )  # fmt: skip


def test_wandb_run_is_none_in_an_agent_function_until_it_calls_init(store):
    seen = []

    def train():
        seen.append(compat.run)  # W&B: None before the function's init()
        run = compat.init(name="named-by-init")
        seen.append(compat.run is run)
        run.log({"loss": run.config.lr})

    sweepnb.agent(grid(store, [0.1]), train, store=store)
    assert seen == [None, True]
    (record,) = _all(store)
    assert record["info"]["name"] == "named-by-init" and record["summary"]["loss"] == 0.1


def _all(store):
    return [r for s in store.list_sweeps() for r in store.get_runs(s["id"])]


def test_finish_then_init_in_an_agent_function_continues_the_same_run(store):
    def train():
        first = compat.init()
        first.log({"loss": 1.0})
        compat.finish()
        assert compat.run is None
        second = compat.init(name="again")  # HF's hyperparameter_search does this
        assert second is first
        second.log({"loss": 0.5})

    sweep_id = grid(store, [0.1])
    sweepnb.agent(sweep_id, train, store=store)
    (run,) = store.get_runs(sweep_id)
    assert run["state"] == "finished" and [r["loss"] for r in run["history"]] == [1.0, 0.5]
    assert run["info"]["name"] == "again"
    assert len(_all(store)) == 1  # no standalone run was made


def test_finish_with_an_exit_code_in_an_agent_function_fails_the_run_at_once(store):
    def train():
        compat.init().log({"loss": 1.0})
        compat.finish(exit_code=1)

    sweep_id = grid(store, [0.1])
    sweepnb.agent(sweep_id, train, store=store)
    assert store.get_runs(sweep_id)[0]["state"] == "failed"


def test_vars_of_the_config_has_wandbs_items(store):
    def train():
        run = compat.init()
        assert vars(compat.config)["_items"] == {"lr": 0.1}
        assert vars(run.config)["_items"] is run.config

    sweepnb.agent(grid(store, [0.1]), train, store=store)
    assert store.get_runs(store.list_sweeps()[0]["id"])[0]["state"] == "finished"


def test_watch_logs_gradient_and_parameter_histograms_every_log_freq_batches(store):
    torch = pytest.importorskip("torch")
    run = sweepnb.init(store=store)
    model = torch.nn.Linear(3, 1)
    compat.watch(model, log="all", log_freq=2)
    for step in range(4):
        model(torch.ones(2, 3)).sum().backward()
        run.log({"loss": float(step)})
    compat.unwatch(model)
    model(torch.ones(2, 3)).sum().backward()
    run.log({"loss": 9.0})
    run.finish()
    rows = store.get_run(run.id)["history"]
    watched = [sorted(k for k in row if "/" in k) for row in rows]
    every_second = ["gradients/bias", "gradients/weight", "parameters/bias", "parameters/weight"]
    assert watched == [[], every_second, [], every_second, []]
    assert rows[1]["gradients/weight"]["_type"] == "histogram"


def test_watch_refuses_what_wandb_refuses(store):
    torch = pytest.importorskip("torch")
    with sweepnb.init(store=store):
        with pytest.raises(ValueError, match="log='weights'"):
            compat.watch(torch.nn.Linear(1, 1), log="weights")
        with pytest.raises(TypeError, match="torch.nn.Module"):
            compat.watch(object())
        with pytest.raises(ValueError, match="log_freq"):
            compat.watch(torch.nn.Linear(1, 1), log_freq=0)


def test_save_copies_matching_files_into_the_run_folder_below_the_base_path(store, tmp_path):
    (tmp_path / "ckpt" / "sub").mkdir(parents=True)
    (tmp_path / "ckpt" / "a.pt").write_text("a")
    (tmp_path / "ckpt" / "sub" / "b.pt").write_text("b")
    with sweepnb.init(store=store) as run:
        copies = compat.save(str(tmp_path / "ckpt" / "**" / "*.pt"))
        assert run.save(str(tmp_path / "ckpt" / "a.pt"), base_path=str(tmp_path)) == [
            str(Path(run.dir) / "ckpt" / "a.pt")
        ]
    assert sorted(Path(c).relative_to(run.dir).as_posix() for c in copies) == ["a.pt", "sub/b.pt"]
    assert Path(run.dir).is_relative_to(Path(store.url.removeprefix("sqlite:///")).parent)


def test_log_code_logs_the_python_files_as_a_code_artifact(store, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "train.py").write_text("print(1)")
    (tmp_path / "pkg" / "model.py").write_text("x = 1")
    (tmp_path / "notes.txt").write_text("no")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "hidden.py").write_text("no")
    with sweepnb.init(store=store, project="demo") as run:
        art = run.log_code(str(tmp_path), name="my-code")
        only_txt = run.log_code(str(tmp_path), name="txt", include_fn=lambda p: p.endswith(".txt"))
        assert run.log_code(str(tmp_path / "pkg"), include_fn=lambda p, r: False) is None
    assert art.type == "code" and sorted(art.manifest) == ["pkg/model.py", "train.py"]
    assert sorted(only_txt.manifest) == ["notes.txt"]


def test_run_attributes_frameworks_read(store):
    with sweepnb.init(store=store, project="p") as run:
        assert run.url is None and run._label(code="transformers_trainer") is None
        assert run.step == 0
        run.log({"a": 1})
        assert run.step == 1
        assert Path(run.dir).is_dir() and run.settings.run_id == run.id
        assert run.settings.mode == "offline" and run.settings.project == "p"


def test_wandb_sdk_names_are_sweepnbs(monkeypatch):
    assert Run is sweepnb.Run and issubclass(ConfigError, ConfigChangeError)
    # Lightning's WandbLogger checks its experiment with isinstance against wandb_run.Run and
    # RunDisabled: sweepnb's disabled run is the real Run, without a store (never a RunDisabled)
    with sweepnb.init(mode="disabled") as run:
        assert type(run) is Run and run.id is None
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    wandb_env.set_project("hf")
    assert wandb_env.get_project() == "hf" and wandb_env.PROJECT == "WANDB_PROJECT"
    wandb_env.set_project(None)  # None leaves it as it is, like W&B's
    assert wandb_env.get_project() == "hf"


SDK_IMPORTS = """
import importlib.metadata, wandb, wandb.env
from wandb.sdk.lib import RunDisabled
from wandb.sdk.lib.config_util import ConfigError
from wandb.wandb_run import Run
import sweepnb
assert Run is sweepnb.Run and wandb.wandb_run.Run is Run and wandb.sdk.wandb_run.Run is Run
print(importlib.metadata.version("wandb"), ConfigError.__name__, wandb.env.PROJECT)
"""


def test_the_shim_has_the_sdk_modules_lightning_and_transformers_import(tmp_path):
    import os
    import subprocess
    import sys

    from sweepnb.compat.shim import shim_path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    env["PYTHONPATH"] = os.pathsep.join([shim_path(), str(root)])
    done = subprocess.run(
        [sys.executable, "-c", SDK_IMPORTS], cwd=tmp_path, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.31.0+sweepnb", "ConfigChangeError", "WANDB_PROJECT"]


def test_enable_gives_the_package_metadata_too(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import sweepnb.compat.enable, importlib.metadata as m, wandb;"
        "print(m.version('wandb'), len([d for d in m.distributions() if d.name == 'wandb']))"
    )
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    env["PYTHONPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.31.0+sweepnb", "1"]
