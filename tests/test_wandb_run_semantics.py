"""W&B's run semantics (issue 12 point 2): what a run puts in its config is stored and shown,
swept values win and stay, name/tags/notes/group/job_type are recorded, define_metric shapes
the summary, and a process that clears W&B's variables starts a run of its own."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import sweepnb
from sweepnb.compat.names import NotSupported
from sweepnb.compat.run_wandb import WANDB_RUN_ONLY
from sweepnb.errors import SweepnbWarning
from sweepnb.runtime.run_config import ConfigChangeError
from sweepnb.store import Store


@pytest.fixture
def sweep_id(store: Store) -> str:
    return sweepnb.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "parameters": {"lr": {"values": [0.1, 0.2]}},
        },
        store=store,
    )


def test_init_defaults_and_config_updates_are_stored_under_the_swept_values(store, sweep_id):
    def train():
        with sweepnb.init(config={"lr": 9.0, "epochs": 3, "opt": {"name": "adam"}}) as run:
            run.config.update({"batch": 32})
            run.config.width = 64
            sweepnb.config["depth"] = 2
            sweepnb.log({"loss": run.config.lr})

    sweepnb.agent(sweep_id, train, count=2, store=store)
    runs = sorted(store.get_runs(sweep_id), key=lambda r: r["config"]["lr"])
    assert [r["config"] for r in runs] == [
        {"lr": lr, "epochs": 3, "opt": {"name": "adam"}, "batch": 32, "width": 64, "depth": 2}
        for lr in (0.1, 0.2)
    ]
    frame = sweepnb.runs(sweep_id, store=store)
    assert {"lr", "epochs", "opt.name", "batch", "width", "depth", "loss"} <= set(frame.columns)
    assert list(frame.columns).index("epochs") < list(frame.columns).index("loss")
    assert sorted(frame["batch"]) == [32, 32]


def test_a_swept_value_is_kept_when_the_run_sets_it_with_a_warning(store, sweep_id):
    seen = []

    def train():
        with sweepnb.init() as run:
            with pytest.warns(SweepnbWarning, match="config.lr is set by the sweep"):
                run.config.update({"lr": 5.0}, allow_val_change=True)
            run.config.lr = 6.0
            seen.append(run.config.lr)
            sweepnb.log({"loss": 1.0})

    sweepnb.agent(sweep_id, train, count=1, store=store)
    assert seen == [0.1]
    assert store.get_runs(sweep_id)[0]["config"] == {"lr": 0.1}


def test_update_honours_allow_val_change_as_a_keyword_not_a_key(store):
    with sweepnb.init(config={"epochs": 3}, store=store) as run:
        with pytest.raises(ConfigChangeError, match="allow_val_change=True"):
            run.config.update({"epochs": 5})
        sweepnb.config.update({"epochs": 5}, allow_val_change=True)
    stored = store.get_run(run.id)["config"]
    assert stored == {"epochs": 5}


def test_url_getters_return_none_as_in_wandbs_offline_mode_and_save_without_a_path(store):
    # W&B's cross-validation example calls these on the sweep run (an AttributeError before)
    with sweepnb.init(store=store) as run:
        assert run.get_url() is None
        assert run.get_sweep_url() is None
        assert run.get_project_url() is None
        run.notes = "{}/groups/{}".format(run.get_project_url(), "abc")
        assert run.save() is True  # W&B's old way to persist attributes: recorded anyway
    assert store.get_run(run.id)["info"]["notes"] == "None/groups/abc"


def test_name_tags_notes_group_and_job_type_are_stored_and_shown(store, sweep_id):
    def train():
        run = sweepnb.init(name="first", tags=["a", "b"], group="cv", job_type="train")
        run.name = f"lr-{run.config.lr}"
        run.notes = "renamed during the run"
        sweepnb.log({"loss": 1.0})
        sweepnb.finish()

    sweepnb.agent(sweep_id, train, count=1, store=store)
    (record,) = store.get_runs(sweep_id)
    assert record["info"] == {
        "name": "lr-0.1",
        "tags": ["a", "b"],
        "notes": "renamed during the run",
        "group": "cv",
        "job_type": "train",
    }
    frame = sweepnb.runs(sweep_id, store=store)
    assert frame.loc[0, ["name", "tags", "group", "job_type"]].tolist() == [
        "lr-0.1",
        "a, b",
        "cv",
        "train",
    ]
    assert sweepnb.run is None


def test_a_name_set_in_one_run_does_not_carry_to_the_next(store, sweep_id):
    names = []

    def train():
        with sweepnb.init() as run:
            names.append(run.name)
            run.name = "custom"
            sweepnb.log({"loss": 1.0})

    sweepnb.agent(sweep_id, train, count=2, store=store)
    ids = [r["id"] for r in store.get_runs(sweep_id)]
    assert sorted(names) == sorted(ids)


def test_define_metric_summaries_shape_the_run_summary(store):
    with sweepnb.init(store=store) as run:
        sweepnb.define_metric("loss", summary="min,last")
        sweepnb.define_metric("val/*", summary="max")
        run.define_metric("acc", summary="best", goal="maximize")
        run.define_metric("noise", summary="none")
        run.define_metric("epoch")  # step metric: its plain last value stays
        for epoch, (loss, val, acc) in enumerate(
            [(3.0, 0.2, 0.5), (1.0, 0.9, 0.7), (2.0, 0.4, 0.6)]
        ):
            sweepnb.log({"loss": loss, "val/acc": val, "acc": acc, "noise": 1, "epoch": epoch})
    summary = store.get_run(run.id)["summary"]
    assert summary["loss"] == {"min": 1.0, "last": 2.0}
    assert summary["val/acc"] == {"max": 0.9}
    assert summary["acc"] == {"best": 0.7}
    assert "noise" not in summary
    assert summary["epoch"] == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"summary": "median"}, "summary='median'"),
        ({"summary": "best"}, "needs a goal"),
        ({"goal": "up"}, "goal='up'"),
    ],
)
def test_define_metric_refuses_bad_arguments_naming_them(kwargs, match):
    with sweepnb.init(mode="disabled") as run, pytest.raises(sweepnb.SweepnbError, match=match):
        run.define_metric("loss", **kwargs)


def test_a_child_process_that_clears_the_wandb_variables_starts_its_own_run(store, tmp_path):
    # W&B's cross-validation example: the program's parent run logs the mean of its folds,
    # each fold runs in a child process whose environment lost WANDB_* (reset_wandb_env)
    program = tmp_path / "cv.py"
    program.write_text(
        textwrap.dedent(
            """
            import os, subprocess, sys
            import sweepnb as wandb

            FOLD = '''
            import os, sys
            import sweepnb as wandb
            run = wandb.init(group="cv", job_type="fold", name="fold-" + sys.argv[1])
            wandb.log({"val_accuracy": 0.5 + int(sys.argv[1]) / 10})
            wandb.finish()
            print(run.id)
            '''
            parent = wandb.init()
            folds = []
            for fold in range(3):
                env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
                out = subprocess.run([sys.executable, "-c", FOLD, str(fold)], env=env,
                                     capture_output=True, text=True, check=True)
                folds.append(out.stdout.strip())
            wandb.log({"val_accuracy": sum(0.5 + f / 10 for f in range(3)) / 3})
            print("folds", folds, "parent", parent.id)
            """
        )
    )
    sweep_id = sweepnb.sweep(
        {
            "program": str(program),
            "method": "grid",
            "metric": {"name": "val_accuracy", "goal": "maximize"},
            "parameters": {"x": {"values": [1]}},
        },
        store=store,
    )
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id, "--store", store.url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (parent,) = store.get_runs(sweep_id)
    assert parent["state"] == "finished"
    assert parent["summary"]["val_accuracy"] == pytest.approx(0.6)
    assert len(parent["history"]) == 1
    from sweepnb.store.listing import run_ids

    others = [store.get_run(i) for i in run_ids(store) if i != parent["id"]]
    fold_runs = [r for r in others if r["info"].get("job_type") == "fold"]
    assert sorted(r["info"]["name"] for r in fold_runs) == ["fold-0", "fold-1", "fold-2"]
    assert all(r["sweep_id"] is None and r["state"] == "finished" for r in fold_runs)


def test_a_program_that_finishes_its_run_and_resumes_it_by_id_logs_into_it(store, tmp_path):
    # W&B's cross-validation example: finish the sweep run, train the folds, then
    # init(id=sweep_run_id, resume=True) and log the mean; this used to make a new run
    program = tmp_path / "resume.py"
    program.write_text(
        textwrap.dedent(
            """
            import sweepnb as wandb
            run = wandb.init()
            run_id = run.id
            run.finish()
            other = wandb.init()  # a second init without resume: a run of its own
            other.finish()
            again = wandb.init(id=run_id, resume=True)
            wandb.log({"val_accuracy": 0.75})
            wandb.finish()
            print(again.id == run_id, other.id != run_id)
            """
        )
    )
    sweep_id = sweepnb.sweep(
        {
            "program": str(program),
            "method": "grid",
            "metric": {"name": "val_accuracy", "goal": "maximize"},
            "parameters": {"x": {"values": [1]}},
        },
        store=store,
    )
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id, "--store", store.url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "wandb.init(id=...): ignored" not in done.stderr
    (run,) = store.get_runs(sweep_id)
    assert run["state"] == "finished"
    assert [row["val_accuracy"] for row in run["history"]] == [0.75]


# -- W&B Run attributes sweepnb lacks (issue 23.5) -----------------------------------------------


@pytest.mark.parametrize("name", sorted(WANDB_RUN_ONLY))
def test_a_wandb_run_attribute_sweepnb_lacks_is_refused_naming_sweepnb_and_it(store, name):
    with sweepnb.init(store=store) as run:
        with pytest.raises(
            NotSupported, match=rf"^wandb\.Run\.{name}: sweepnb does not support it \("
        ):
            getattr(run, name)
        assert not hasattr(run, name)  # NotSupported is an AttributeError, as at top level


def test_link_model_on_wandb_run_says_what_to_use_instead(store):
    import sweepnb as wandb

    message = r"wandb\.Run\.link_model: .*no model registry"
    with wandb.init(store=store), pytest.raises(NotSupported, match=message):
        wandb.run.link_model("model.pt", "registry/model")


def test_a_name_wandbs_run_lacks_too_stays_a_plain_attribute_error(store):
    with sweepnb.init(store=store) as run:
        with pytest.raises(AttributeError) as info:
            run.log_metrics  # noqa: B018 - a typo for log: not W&B's either
        assert type(info.value) is AttributeError
        assert "'Run' object has no attribute 'log_metrics'" in str(info.value)
        assert getattr(run, "__wrapped__", "absent") == "absent"  # probes stay quiet


def test_wandb_run_attributes_sweepnb_has_read_as_in_wandbs_offline_mode(store):
    with sweepnb.init(store=store, project="proj") as run:
        sweepnb.log({"loss": 1.0})
        sweepnb.log({"loss": 0.5})
        assert run.step == 2
        assert run.path == f"/proj/{run.id}"
        assert run.url is run.project_url is run.sweep_url is None
        assert run.start_time <= __import__("time").time()
        folder = __import__("pathlib").Path(run.dir)
        (folder / "model.pt").write_bytes(b"weights")  # W&B code saves checkpoints there
        assert folder.parent.name == run.id and folder.is_dir()
    with sweepnb.init(store=store) as run:
        run.join()
    assert store.get_run(run.id)["state"] == "finished"


def test_every_refused_run_attribute_is_one_sweepnbs_run_really_lacks():
    from sweepnb.runtime.run import Run

    assert not [name for name in WANDB_RUN_ONLY if name in dir(Run)]


# -- config values are checked when set (issue 23.6) ---------------------------------------------


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Optimiser:
    name: str
    lr: float


def test_config_values_w_and_b_accepts_are_stored_in_their_json_forms(store):
    when = datetime.datetime(2026, 12, 7, 1, 30, tzinfo=datetime.timezone.utc)
    with sweepnb.init(store=store, config={"root": Path("/data/train")}) as run:
        run.config.colour = Colour.RED
        run.config["lr"] = np.float32(0.5)
        run.config.update({"layers": np.arange(3), "started": when, "splits": ("a", "b")})
        run.config.opt = Optimiser("adam", 1e-3)
        run.config.tags = {"b", "a"}
        sweepnb.log({"loss": 1.0})
        assert run.config.root == "/data/train"  # the run reads what the store keeps
    assert store.get_run(run.id)["config"] == {
        "root": "/data/train",
        "colour": "RED",
        "lr": 0.5,
        "layers": [0, 1, 2],
        "started": "2026-12-07T01:30:00+00:00",
        "splits": ["a", "b"],
        "opt": {"name": "adam", "lr": 1e-3},
        "tags": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("assign", "message"),
    [
        (lambda c: setattr(c, "model", object()), r"^config\.model: a value of type object"),
        (lambda c: c.__setitem__("z", 1 + 2j), r"^config\.z: a value of type complex"),
        (lambda c: c.update({"opt": {"decay": Decimal("0.1")}}), r"^config\.opt\.decay: "),
        (lambda c: setattr(c.opt, "beta", object()), r"^config\.opt\.beta: "),
        (lambda c: c.update({"fold": [1, object()]}), r"^config\.fold\[1\]: "),
        (lambda c: setattr(c, "seed", 10**400), r"'seed' is an integer of about 401 digits"),
    ],
)
def test_a_config_value_the_store_cannot_keep_is_refused_when_set_naming_its_key(
    store, assign, message
):
    with sweepnb.init(store=store, config={"opt": {"lr": 0.1}}) as run:
        with pytest.raises((TypeError, ValueError), match=message):
            assign(run.config)
        sweepnb.log({"loss": 1.0})  # the run goes on: nothing bad waits for its next write
    record = store.get_run(run.id)
    assert record["state"] == "finished"
    assert record["config"] == {"opt": {"lr": 0.1}}


def test_init_refuses_a_default_the_store_cannot_keep_naming_it(store):
    with pytest.raises(TypeError, match=r"^config\.callback: a value of type object"):
        sweepnb.init(store=store, config={"callback": object()})


def test_updating_a_path_to_the_same_path_is_no_change(store):
    with sweepnb.init(store=store, config={"root": Path("/data")}) as run:
        run.config.update({"root": Path("/data")})  # "/data" == "/data": no ConfigChangeError
        with pytest.raises(ConfigChangeError, match="config.root"):
            run.config.update({"root": Path("/other")})
